"""A tiny service built only from the shared pieces, as the real four are: an aggregate with
events, a flask-smorest blueprint with auth, unit scope, validation, pagination, ETag/If-Match,
and a route that fails, so the shared web layer can be tested across real HTTP and a real store."""

from __future__ import annotations

import uuid

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from mongoengine import StringField
from tdkt.events.envelope import EventType
from tdkt.events.outbox import AggregateRoot, ConcurrentUpdate, save_aggregate
from tdkt.events.topics import TopicSpec
from tdkt.service import ServiceDefinition
from tdkt.store import contains
from tdkt.text import fold, nfc
from tdkt.web.auth import authorize, current_principal
from tdkt.web.pagination import PageArgs, page_of, paginate

NOTE_WRITTEN = EventType("vn.tdkt.sample.note.written.v1", "sample.notes.v1")


class Note(AggregateRoot):
    meta = {"collection": "notes", "indexes": ["unit_id"]}
    event_source = "/sample"
    id = StringField(primary_key=True)
    unit_id = StringField(required=True)
    title = StringField(required=True)
    title_folded = StringField()


class NoteSchema(ma.Schema):
    id = ma.fields.String(dump_only=True)
    unit_id = ma.fields.String(dump_only=True)
    title = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    version = ma.fields.Integer(dump_only=True)


class NoteQuery(PageArgs):
    q = ma.fields.String(validate=ma.validate.Length(max=100))


blp = Blueprint("notes", __name__, url_prefix="/notes", description="Sample notes")


@blp.route("")
class Notes(MethodView):
    @authorize(blp)
    @blp.arguments(NoteQuery, location="query")
    @blp.response(200, page_of(NoteSchema))
    def get(self, args):
        query = Note.objects(**current_principal().unit_filter())
        if args.get("q"):
            query = query.filter(__raw__=contains("title_folded", fold(args["q"])))
        return paginate(query.order_by("id"), args)

    @authorize(blp, "unit_reporter", "unit_head")
    @blp.arguments(NoteSchema)
    @blp.response(201, NoteSchema)
    def post(self, body):
        note = Note(id=uuid.uuid4().hex, unit_id=current_principal().unit_id, title=nfc(body["title"]), title_folded=fold(body["title"]))
        note.record(NOTE_WRITTEN, {"title": note.title})
        save_aggregate(note)
        return note, 201, {"Location": f"/api/v1/notes/{note.id}"}


@blp.route("/<note_id>")
class NoteById(MethodView):
    def _find(self, note_id):
        note = Note.objects(id=note_id, **current_principal().unit_filter()).first()
        if note is None:
            abort(404, message=f"Không có ghi chú / no note {note_id}")
        return note

    @authorize(blp)
    @blp.etag
    @blp.response(200, NoteSchema)
    def get(self, note_id):
        note = self._find(note_id)
        blp.set_etag({"id": note.id, "version": note.version})
        return note

    @authorize(blp, "unit_reporter", "unit_head")
    @blp.etag
    @blp.arguments(NoteSchema)
    @blp.response(200, NoteSchema)
    def put(self, body, note_id):
        note = self._find(note_id)
        blp.check_etag({"id": note.id, "version": note.version})
        note.title, note.title_folded = nfc(body["title"]), fold(body["title"])
        note.record(NOTE_WRITTEN, {"title": note.title})
        try:
            save_aggregate(note)
        except ConcurrentUpdate:
            abort(412, message="changed meanwhile")
        blp.set_etag({"id": note.id, "version": note.version})
        return note


@blp.route("/boom")
class Boom(MethodView):
    @blp.response(200)
    def get(self):
        raise RuntimeError("secret internals")


SAMPLE = ServiceDefinition(
    name="sample",
    title="Sample",
    description="Shared pieces under test",
    default_port=0,
    topics=(TopicSpec("sample.notes.v1"),),
    outbox_collections=("notes",),
    blueprints=lambda: [blp],
)
