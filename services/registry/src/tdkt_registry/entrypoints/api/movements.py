"""/api/v1/movements — emulation movements and their lifecycle.

Officers (`tdkt_officer`, `admin`) draft, edit, launch, close and cancel; every authenticated
caller reads launched, closed and cancelled movements; drafts are the standing body's own.
Every change needs `If-Match` with the ETag last read.
"""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from tdkt.errors import NotFound
from tdkt.store import contains
from tdkt.text import fold
from tdkt.web.auth import authorize, current_principal
from tdkt.web.commands import command_route
from tdkt.web.pagination import page_of, paginate
from tdkt.web.problems import PROBLEM_JSON, ProblemSchema

from tdkt_registry.adapters.documents import MovementDocument, RegistrationDocument
from tdkt_registry.entrypoints.api.movement_schemas import CancelSchema, LaunchSchema, MovementInputSchema, MovementQuery, MovementSchema, ReasonSchema
from tdkt_registry.entrypoints.api.unit_views import unit_store
from tdkt_registry.service_layer import movements as use_cases

blp = Blueprint("movements", __name__, url_prefix="/movements", description="Phong trào thi đua / Emulation movements")
WRITERS = ("tdkt_officer", "admin")


def movement_view(doc: MovementDocument, registered: int | None = None) -> dict:
    view = {**doc.content, "participant_ids": list(doc.participant_ids), "version": doc.version}
    if registered is not None:
        view["registered"] = registered
    return view


def visible(doc: MovementDocument | None) -> MovementDocument:
    if doc is None or (doc.state == "draft" and not current_principal().has_any(*WRITERS)):
        raise NotFound("Không có phong trào này / no such movement")
    return doc


def _etag(doc: MovementDocument) -> dict:
    return {"id": doc.id, "version": doc.version}


def _conflicts(view):
    return blp.alt_response(409, schema=ProblemSchema, content_type=PROBLEM_JSON, description="Not allowed in the movement's state")(view)


@blp.route("")
class Movements(MethodView):
    @authorize(blp)
    @blp.arguments(MovementQuery, location="query")
    @blp.response(200, page_of(MovementSchema))
    def get(self, args):
        """Danh sách phong trào / movements (drafts only for officers)"""
        query = MovementDocument.objects.exclude("outbox", "history")
        if args.get("state"):
            query = query.filter(state=args["state"])
        if not current_principal().has_any(*WRITERS):
            query = query.filter(state__ne="draft")
        if args.get("kind"):
            query = query.filter(__raw__={"content.kind": args["kind"]})
        if args.get("participant_id"):
            query = query.filter(participant_ids=args["participant_id"])
        if args.get("q"):
            query = query.filter(__raw__=contains("title_folded", fold(args["q"])))
        page = paginate(query.order_by("-content.period_start", "id"), args)
        page["items"] = [movement_view(d) for d in page["items"]]
        return page

    @authorize(blp, *WRITERS)
    @blp.arguments(MovementInputSchema)
    @blp.response(201, MovementSchema)
    def post(self, body):
        """Soạn phong trào (nháp) / draft a movement"""
        doc = use_cases.create_movement(unit_store(), body, current_principal().subject)
        return movement_view(doc), 201, {"Location": f"/api/v1/movements/{doc.id}", "ETag": None}


@blp.route("/<movement_id>")
class MovementById(MethodView):
    @authorize(blp)
    @blp.etag
    @blp.response(200, MovementSchema)
    def get(self, movement_id):
        """Một phong trào / one movement, with its due dates and participants"""
        doc = visible(MovementDocument.objects(id=movement_id).exclude("outbox").first())
        blp.set_etag(_etag(doc))
        return movement_view(doc, RegistrationDocument.objects(movement_id=movement_id).count())

    @authorize(blp, *WRITERS)
    @blp.etag
    @blp.arguments(MovementInputSchema)
    @blp.response(200, MovementSchema)
    @_conflicts
    def put(self, body, movement_id):
        """Sửa (nháp) hoặc điều chỉnh (đã phát động) / edit a draft or amend a launched movement"""
        doc = use_cases.update_movement(unit_store(), movement_id, body, current_principal().subject, lambda d: blp.check_etag(_etag(d)))
        blp.set_etag(_etag(doc))
        return movement_view(doc)


def _transition(path: str, schema, action, summary: str):
    return command_route(
        blp,
        f"/<movement_id>/{path}",
        endpoint=f"movement_{path}",
        schema=schema,
        roles=WRITERS,
        response=MovementSchema,
        view=movement_view,
        etag=_etag,
        action=action,
        summary=summary,
        conflict="Not allowed in the movement's state",
    )


_transition(
    "launch",
    LaunchSchema,
    lambda mid, body, check: use_cases.launch_movement(unit_store(), mid, current_principal().subject, check),
    "Phát động / launch: participants are resolved as of the start; MovementLaunched is published",
)
_transition(
    "close", ReasonSchema, lambda mid, body, check: use_cases.close_movement(mid, current_principal().subject, check, body.get("reason")), "Kết thúc / close a launched movement"
)
_transition(
    "cancel", CancelSchema, lambda mid, body, check: use_cases.cancel_movement(mid, current_principal().subject, check, body["reason"]), "Hủy / cancel a draft or launched movement"
)
