"""POST /api/v1/unit-imports — agencies and organisations from a CSV or XLSX file.

A dry run by default: the answer says what each row would do. `apply=true` writes, in acts of at
most 200 units, only when no row has an error; otherwise 422 with the rows, and nothing written.
"""

from __future__ import annotations

import marshmallow as ma
from flask import request
from flask.views import MethodView
from flask_smorest.fields import Upload
from tdkt.attachments.web import one_multipart_body
from tdkt.web.auth import authorize, current_principal
from tdkt.web.problems import PROBLEM_JSON, ProblemSchema, problem

from tdkt_registry.adapters.unit_files import MAX_ROWS, read_rows
from tdkt_registry.entrypoints.api.unit_views import unit_store
from tdkt_registry.entrypoints.api.units import WRITERS, blp
from tdkt_registry.service_layer.unit_import import apply_import, plan_import

MAX_BYTES = 5 * 1024 * 1024
ENDPOINT = "unit_imports"
TOO_LARGE = f"Tệp tối đa {MAX_BYTES // 2**20} MB / the file may be at most {MAX_BYTES // 2**20} MB"


class ImportFileSchema(ma.Schema):
    file = Upload(
        required=True,
        metadata={"description": f".csv (UTF-8, `;` or `,`) or .xlsx (first sheet); row 1 names the columns; at most {MAX_BYTES // 2**20} MB and {MAX_ROWS:,} rows"},
    )


class ImportFormSchema(ma.Schema):
    apply = ma.fields.Boolean(load_default=False, metadata={"description": "false (default): dry run, nothing written; true: write, if no row has an error"})


class ImportRequestSchema(ImportFileSchema, ImportFormSchema):
    """The request as documented: one multipart/form-data body with both parts."""


class RowErrorSchema(ma.Schema):
    column = ma.fields.String(allow_none=True)
    message = ma.fields.String()


class RowChangeSchema(ma.Schema):
    field = ma.fields.String()
    old = ma.fields.String(allow_none=True)
    new = ma.fields.String(allow_none=True)


class ImportRowSchema(ma.Schema):
    row = ma.fields.Integer(metadata={"description": "as in the file: the header is row 1"})
    action = ma.fields.String(metadata={"description": "create | change | unchanged | error"})
    code = ma.fields.String(allow_none=True)
    name = ma.fields.String(allow_none=True)
    unit_id = ma.fields.String(allow_none=True, metadata={"description": "the matched unit; for a create, the new unit once applied"})
    changes = ma.fields.List(ma.fields.Nested(RowChangeSchema))
    errors = ma.fields.List(ma.fields.Nested(RowErrorSchema))


class ImportSummarySchema(ma.Schema):
    create = ma.fields.Integer()
    change = ma.fields.Integer()
    unchanged = ma.fields.Integer()
    error = ma.fields.Integer()


class ImportPlanSchema(ma.Schema):
    summary = ma.fields.Nested(ImportSummarySchema)
    rows = ma.fields.List(ma.fields.Nested(ImportRowSchema))


@blp.before_request
def _room_for_the_file():
    """Bodies are capped service-wide (MAX_CONTENT_LENGTH); this endpoint alone takes a 5 MB file
    plus the form's framing. Raised before anything reads the body, since the limit applies then."""
    if request.endpoint != f"{blp.name}.{ENDPOINT}":
        return None
    if (request.content_length or 0) > MAX_BYTES + 64 * 1024:
        return problem(413, TOO_LARGE)
    request.max_content_length = MAX_BYTES + 64 * 1024
    return None


@blp.route("/unit-imports", endpoint=ENDPOINT)
class UnitImports(MethodView):
    @authorize(blp, *WRITERS)
    @one_multipart_body(ImportRequestSchema)
    @blp.arguments(ImportFileSchema, location="files")
    @blp.arguments(ImportFormSchema, location="form")
    @blp.response(200, ImportPlanSchema, description="Dry run: what each row would do")
    @blp.alt_response(201, schema=ImportPlanSchema, description="Applied")
    @blp.alt_response(413, schema=ProblemSchema, content_type=PROBLEM_JSON, description="The file is over 5 MB")
    def post(self, files, form):
        """Nhập đơn vị từ tệp CSV/XLSX / import agencies and organisations from a CSV or XLSX file (dry run unless apply=true)"""
        upload = files["file"]
        data = upload.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            return problem(413, TOO_LARGE)
        rows = read_rows(upload.filename or "", data)
        if not form["apply"]:
            return plan_import(unit_store().directory(), rows).to_dict()
        plan = apply_import(unit_store(), rows, current_principal().subject, source=upload.filename)
        return plan.to_dict(), 201
