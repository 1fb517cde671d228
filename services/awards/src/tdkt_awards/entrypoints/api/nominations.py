"""/api/v1/nominations — nominations and their dossiers; /api/v1/nomination-holds — holds.

A unit head (or an officer, for their own unit) drafts, attaches the dossier's documents
(multipart, `If-Match`) and submits; the standing body (`tdkt_officer`) returns a dossier for
completion or appraises it. Drafts are visible to their own unit only; anything not visible
answers 404. Every change needs `If-Match`; the answer carries the new ETag.
"""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from tdkt.attachments.uploads import ACCEPTED, MAX_BYTES
from tdkt.attachments.web import BINARY, allow_file_uploads, attachment_store, file_response, one_multipart_body
from tdkt.web.auth import authorize, current_principal
from tdkt.web.commands import command_route
from tdkt.web.etags import require_if_match
from tdkt.web.pagination import page_of, paginate_list
from tdkt.web.problems import PROBLEM_JSON, ProblemSchema

from tdkt_awards.adapters.documents import Nomination
from tdkt_awards.entrypoints.api.catalogue_schemas import NoBodySchema
from tdkt_awards.entrypoints.api.nomination_schemas import (
    AppraisalSchema,
    AttachmentFormSchema,
    HoldInputSchema,
    HoldSchema,
    NominationInputSchema,
    NominationQuery,
    NominationSchema,
    ReturnSchema,
)
from tdkt_awards.service_layer import nominations as use_cases

blp = Blueprint("nominations", __name__, url_prefix="/nominations", description="Đề nghị khen thưởng và hồ sơ / Nominations and dossiers")
holds = Blueprint("nomination_holds", __name__, url_prefix="/nomination-holds", description="Tạm dừng xét khen thưởng / Holds (discipline, inspection, complaint)")
blueprints = [blp, holds]
UPLOAD = "nomination_attachments"
allow_file_uploads(blp, UPLOAD)


def _etag(doc: Nomination) -> dict:
    return {"id": doc.id, "version": doc.version}


class FileSchema(ma.Schema):
    file = Upload(required=True, metadata={"description": f"{ACCEPTED}, at most {MAX_BYTES // 2**20} MB; the type is read from the content"})


class UploadSchema(FileSchema, AttachmentFormSchema):
    """The request as documented: one multipart/form-data body with both parts."""


@blp.route("")
class Nominations(MethodView):
    @authorize(blp)
    @blp.arguments(NominationQuery, location="query")
    @blp.response(200, page_of(NominationSchema))
    def get(self, args):
        """Hồ sơ đề nghị / nominations the caller may see (own unit's drafts; others' once submitted, for wide-sight roles); `overdue=true` lists late appraisals"""
        page = paginate_list(use_cases.search(current_principal(), args), args)
        page["items"] = use_cases.page_views(page["items"])
        return page

    @authorize(blp, *use_cases.NOMINATORS)
    @blp.etag
    @blp.arguments(NominationInputSchema)
    @blp.response(201, NominationSchema)
    def post(self, body):
        """Lập đề nghị / draft a nomination for the caller's unit (an individual, a collective or a household)"""
        doc = use_cases.create(body, current_principal())
        blp.set_etag(_etag(doc))
        return use_cases.view(doc), 201, {"Location": f"/api/v1/nominations/{doc.id}"}


@blp.route("/<nomination_id>")
class NominationById(MethodView):
    @authorize(blp)
    @blp.etag
    @blp.response(200, NominationSchema)
    def get(self, nomination_id):
        """Một hồ sơ / one nomination with its dossier, pre-check and history"""
        doc = use_cases.load(nomination_id, current_principal())
        blp.set_etag(_etag(doc))
        return use_cases.view(doc)

    @authorize(blp, *use_cases.NOMINATORS)
    @blp.etag
    @blp.arguments(NominationInputSchema)
    @blp.response(200, NominationSchema)
    def put(self, body, nomination_id):
        """Sửa hồ sơ / edit a draft or a returned dossier (the pre-check runs again)"""
        doc = use_cases.edit(nomination_id, body, current_principal(), lambda d: blp.check_etag(_etag(d)))
        blp.set_etag(_etag(doc))
        return use_cases.view(doc)


def _command(rule: str, endpoint: str, schema, roles, action, summary: str) -> None:
    command_route(blp, rule, endpoint=endpoint, schema=schema, roles=roles, response=NominationSchema, view=use_cases.view, etag=_etag, action=action, summary=summary)


_command(
    "/<nomination_id>/submit",
    "nomination_submit",
    NoBodySchema,
    use_cases.NOMINATORS,
    lambda nid, body, check: use_cases.submit(nid, current_principal(), check),
    "Gửi hồ sơ / submit the dossier to the standing body (all required documents attached; appraisal due in 20 working days)",
)
_command(
    "/<nomination_id>/withdraw",
    "nomination_withdraw",
    NoBodySchema,
    use_cases.NOMINATORS,
    lambda nid, body, check: use_cases.withdraw(nid, current_principal(), check),
    "Rút đề nghị / withdraw a draft or a returned dossier",
)
_command(
    "/<nomination_id>/return",
    "nomination_return",
    ReturnSchema,
    use_cases.APPRAISERS,
    lambda nid, body, check: use_cases.return_for_completion(nid, body["reasons"], current_principal(), check),
    "Trả lại để bổ sung / return for completion, saying what is missing (resubmission due in 5 working days)",
)
_command(
    "/<nomination_id>/appraise",
    "nomination_appraise",
    AppraisalSchema,
    use_cases.APPRAISERS,
    lambda nid, body, check: use_cases.appraise(nid, body, current_principal(), check),
    "Thẩm định / appraise: eligible (override_reason needed if a pre-check fails) or ineligible with reasons",
)


@blp.route("/<nomination_id>/attachments", endpoint=UPLOAD)
class Attachments(MethodView):
    @authorize(blp, *use_cases.NOMINATORS)
    @blp.etag
    @one_multipart_body(UploadSchema)
    @blp.arguments(FileSchema, location="files")
    @blp.arguments(AttachmentFormSchema, location="form")
    @blp.response(201, NominationSchema, description="Attached: the nomination, with its new ETag")
    @blp.alt_response(413, schema=ProblemSchema, content_type=PROBLEM_JSON, description=f"The file is over {MAX_BYTES // 2**20} MB")
    def post(self, files, form, nomination_id):
        """Đính kèm tài liệu hồ sơ / attach a document of a given type (tờ trình, báo cáo thành tích, biên bản bình xét, sáng kiến, khác)"""
        doc = use_cases.add_attachment(nomination_id, files["file"], form["type"], current_principal(), lambda d: require_if_match(blp, _etag(d)), store=attachment_store())
        blp.set_etag(_etag(doc))
        return use_cases.view(doc)


@blp.route("/<nomination_id>/attachments/<attachment_id>", endpoint="nomination_attachment")
class AttachmentById(MethodView):
    @authorize(blp)
    @blp.doc(responses={"200": {"description": "The document's bytes, with the type read from them", "content": {"application/octet-stream": {"schema": BINARY}}}})
    def get(self, nomination_id, attachment_id):
        """Tải tài liệu hồ sơ / download a dossier document"""
        info, data = use_cases.download(nomination_id, attachment_id, current_principal(), store=attachment_store())
        return file_response(info, data)

    @authorize(blp, *use_cases.NOMINATORS)
    @blp.etag
    @blp.response(200, NominationSchema)
    def delete(self, nomination_id, attachment_id):
        """Gỡ tài liệu / remove a document from a draft or a returned dossier"""
        doc = use_cases.remove_attachment(nomination_id, attachment_id, current_principal(), lambda d: require_if_match(blp, _etag(d)), store=attachment_store())
        return use_cases.view(doc)  # no ETag on a DELETE's answer: read the nomination again for it


# --- holds -----------------------------------------------------------------------------------


def _hold_view(hold, rechecked: int) -> dict:
    return {
        **{k: getattr(hold, k) for k in ("id", "nominee_key", "kind", "reference", "note", "active", "placed_by", "placed_at", "lifted_by", "lifted_at")},
        "rechecked": rechecked,
    }


@holds.route("")
class Holds(MethodView):
    @authorize(holds, *use_cases.APPRAISERS)
    @holds.arguments(HoldInputSchema)
    @holds.response(201, HoldSchema)
    def post(self, body):
        """Tạm dừng xét / put a person or unit on hold: their nominations fail the pre-check until it is lifted"""
        hold, rechecked = use_cases.place_hold(body, current_principal())
        return _hold_view(hold, rechecked)


@holds.route("/<hold_id>/lift")
class Lift(MethodView):
    @authorize(holds, *use_cases.APPRAISERS)
    @holds.arguments(NoBodySchema)
    @holds.response(200, HoldSchema)
    def post(self, body, hold_id):
        """Chấm dứt tạm dừng / lift a hold (idempotent); the nominee's nominations are checked again"""
        hold, rechecked = use_cases.lift_hold(hold_id, current_principal())
        return _hold_view(hold, rechecked)
