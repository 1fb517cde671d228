"""/api/v1/reports/<id>/attachments — evidence files (minh chứng) on a progress report.

Upload as multipart/form-data (`file`, optional `criterion`) with `If-Match`; the answer is the
report with its new ETag. Downloads are served as attachments with the type read from the
content and `nosniff`, so a browser never renders an uploaded file as a page of this site.
"""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest.fields import Upload
from tdkt.attachments.web import BINARY, allow_file_uploads, attachment_store, file_response, one_multipart_body
from tdkt.web.auth import authorize, current_principal
from tdkt.web.etags import require_if_match
from tdkt.web.problems import PROBLEM_JSON, ProblemSchema

from tdkt_reports.entrypoints.api.report_schemas import ReportSchema
from tdkt_reports.entrypoints.api.reports import _conflicts, _etag, _view, blp
from tdkt_reports.service_layer import attachments as use_cases
from tdkt_reports.service_layer.reports import WRITERS

ENDPOINT = "report_attachments"


class FileSchema(ma.Schema):
    file = Upload(required=True, metadata={"description": f"{use_cases.ACCEPTED}, at most {use_cases.MAX_BYTES // 2**20} MB; the type is read from the content"})


class FormSchema(ma.Schema):
    criterion = ma.fields.String(
        allow_none=True, load_default=None, validate=ma.validate.Length(max=40), metadata={"description": "the criterion this proves; empty for a general attachment"}
    )


class AttachmentUploadSchema(FileSchema, FormSchema):
    """The request as documented: one multipart/form-data body with both parts."""


allow_file_uploads(blp, ENDPOINT)


@blp.route("/<report_id>/attachments", endpoint=ENDPOINT)
class Attachments(MethodView):
    @authorize(blp, *WRITERS)
    @blp.etag
    @one_multipart_body(AttachmentUploadSchema)
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
        return file_response(info, data)

    @authorize(blp, *WRITERS)
    @blp.etag
    @blp.response(204, description="Removed from the draft; read the report again for its new ETag (a DELETE answers with none)")
    @_conflicts
    def delete(self, report_id, attachment_id):
        """Gỡ minh chứng khỏi bản nháp / remove an attachment from the draft (files of submitted versions are kept)"""
        use_cases.remove(report_id, attachment_id, current_principal(), lambda d: require_if_match(blp, _etag(d)), store=attachment_store())
