"""/api/v1/reports/<id>/attachments — evidence files (minh chứng) on a progress report.

Upload as multipart/form-data (`file`, optional `criterion`) with `If-Match`; the answer is the
report with its new ETag. Downloads are served as attachments with the type read from the
content and `nosniff`, so a browser never renders an uploaded file as a page of this site.
"""

from __future__ import annotations

import base64
import re
import unicodedata
from copy import deepcopy
from urllib.parse import quote

import marshmallow as ma
from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest.fields import Upload
from tdkt.text import fold
from tdkt.web.auth import authorize, current_principal
from tdkt.web.etags import require_if_match
from tdkt.web.problems import PROBLEM_JSON, ProblemSchema, problem

from tdkt_reports.adapters.attachment_store import AttachmentStore
from tdkt_reports.entrypoints.api.report_schemas import ReportSchema
from tdkt_reports.entrypoints.api.reports import _conflicts, _etag, _view, blp
from tdkt_reports.service_layer import attachments as use_cases
from tdkt_reports.service_layer.reports import WRITERS

ENDPOINT = "report_attachments"
BODY_LIMIT = use_cases.MAX_BYTES + 64 * 1024  # the file plus the form's framing
BINARY = {"type": "string", "format": "binary"}
TOO_LARGE = f"Mỗi tệp tối đa {use_cases.MAX_BYTES // 2**20} MB / a file may be at most {use_cases.MAX_BYTES // 2**20} MB"


def attachment_store() -> AttachmentStore:
    """One store per app, so the backend is probed once per process."""
    ext = current_app.extensions["tdkt"]
    if "attachment_store" not in ext.components:
        ext.components["attachment_store"] = AttachmentStore(ext.db)
    return ext.components["attachment_store"]


class FileSchema(ma.Schema):
    file = Upload(required=True, metadata={"description": f"{use_cases.ACCEPTED}, at most {use_cases.MAX_BYTES // 2**20} MB; the type is read from the content"})


class FormSchema(ma.Schema):
    criterion = ma.fields.String(
        allow_none=True, load_default=None, validate=ma.validate.Length(max=40), metadata={"description": "the criterion this proves; empty for a general attachment"}
    )


class AttachmentUploadSchema(FileSchema, FormSchema):
    """The request as documented: one multipart/form-data body with both parts."""


def _one_multipart_body(view):
    """Document the `files` and `form` arguments as the one multipart body they are (as unit imports do)."""
    view._apidoc = deepcopy(view._apidoc)
    parameters = view._apidoc["arguments"]["parameters"]
    parameters[:] = [{**p, "schema": AttachmentUploadSchema} for p in parameters if p["in"] == "files"]
    return view


@blp.before_request
def _room_for_the_file():
    """The service caps bodies at 1 MB (MAX_CONTENT_LENGTH); only the upload may take a 10 MB
    file. Raised before anything reads the body, since that is when the limit applies."""
    if request.endpoint != f"{blp.name}.{ENDPOINT}" or request.method != "POST":
        return None
    if (request.content_length or 0) > BODY_LIMIT:
        return problem(413, TOO_LARGE)
    request.max_content_length = BODY_LIMIT
    return None


def _disposition(filename: str) -> str:
    """RFC 6266: `filename*` for the Vietnamese name, `filename` folded to ASCII for old clients."""
    plain = re.sub(r"[^A-Za-z0-9._ -]", "_", unicodedata.normalize("NFKD", fold(filename)).encode("ascii", "ignore").decode())
    return f"attachment; filename=\"{plain or 'minh-chung'}\"; filename*=UTF-8''{quote(filename, safe='')}"


@blp.route("/<report_id>/attachments", endpoint=ENDPOINT)
class Attachments(MethodView):
    @authorize(blp, *WRITERS)
    @blp.etag
    @_one_multipart_body
    @blp.arguments(FileSchema, location="files")
    @blp.arguments(FormSchema, location="form")
    @blp.response(201, ReportSchema, description="Attached: the report, with its new ETag")
    @blp.alt_response(413, schema=ProblemSchema, content_type=PROBLEM_JSON, description=f"The file is over {use_cases.MAX_BYTES // 2**20} MB")
    @_conflicts
    def post(self, files, form, report_id):
        """Đính kèm minh chứng / attach an evidence file (PDF, image, Office or OpenDocument), for a criterion or the whole report"""
        doc = use_cases.add(report_id, files["file"], form.get("criterion"), current_principal(), lambda d: require_if_match(blp, _etag(d)), store=attachment_store())
        blp.set_etag(_etag(doc))
        return _view(doc)


@blp.route("/<report_id>/attachments/<attachment_id>", endpoint="report_attachment")
class AttachmentById(MethodView):
    @authorize(blp)
    @blp.doc(responses={"200": {"description": "The file's bytes, with the content type read from them", "content": {"application/octet-stream": {"schema": BINARY}}}})
    def get(self, report_id, attachment_id):
        """Tải minh chứng / download an attachment (also one a past version refers to)"""
        info, data = use_cases.download(report_id, attachment_id, current_principal(), store=attachment_store())
        response = Response(data, mimetype=info["content_type"])
        response.headers["Content-Disposition"] = _disposition(info["filename"])
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "private, no-store"  # evidence may be personal: no shared or disk caches
        response.headers["Repr-Digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(info['sha256'])).decode()}:"  # RFC 9530
        return response

    @authorize(blp, *WRITERS)
    @blp.etag
    @blp.response(204, description="Removed from the draft; read the report again for its new ETag (a DELETE answers with none)")
    @_conflicts
    def delete(self, report_id, attachment_id):
        """Gỡ minh chứng khỏi bản nháp / remove an attachment from the draft (files of submitted versions are kept)"""
        use_cases.remove(report_id, attachment_id, current_principal(), lambda d: require_if_match(blp, _etag(d)), store=attachment_store())
