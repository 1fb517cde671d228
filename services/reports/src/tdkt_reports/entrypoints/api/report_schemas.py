"""What the reports API accepts and returns."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate as v
from tdkt.web.pagination import PageArgs

from tdkt_reports.domain.reports import STATES

KEY = v.Regexp(r"^[a-z0-9][a-z0-9_.-]{0,39}$", error="Mã tiêu chí không hợp lệ / not a criterion key")


class ValueSchema(ma.Schema):
    value = ma.fields.Raw(required=True, metadata={"description": "a number, or true/false for a yes/no criterion"})
    unit = ma.fields.String(validate=v.Length(max=50), metadata={"description": "if given, must be the criterion's unit of measure"})
    note = ma.fields.String(allow_none=True, validate=v.Length(max=2000))


class DraftSchema(ma.Schema):
    narrative = ma.fields.String(allow_none=True, validate=v.Length(max=50000), metadata={"description": "Báo cáo bằng lời / the narrative"})
    values = ma.fields.Dict(keys=ma.fields.String(validate=KEY), values=ma.fields.Nested(ValueSchema), load_default=dict, validate=v.Length(max=200))
    self_assessment = ma.fields.String(
        allow_none=True,
        validate=v.OneOf(["excellent", "good", "completed", "not_completed"]),
        metadata={"description": "Tự đánh giá: hoàn thành xuất sắc / tốt / hoàn thành / không hoàn thành"},
    )


class NoBodySchema(ma.Schema):
    """No fields: send `{}`."""


class AcceptSchema(ma.Schema):
    comment = ma.fields.String(allow_none=True, validate=v.Length(max=5000))


class ReturnSchema(ma.Schema):
    comment = ma.fields.String(allow_none=True, validate=v.Length(max=5000))
    item_comments = ma.fields.Dict(
        keys=ma.fields.String(validate=v.Length(max=40)),
        values=ma.fields.String(validate=v.Length(min=1, max=2000)),
        load_default=dict,
        metadata={"description": "per criterion key (or `narrative`)"},
    )


class ReportQuery(PageArgs):
    movement_id = ma.fields.String(validate=v.Length(max=64))
    unit_id = ma.fields.String(validate=v.Length(max=64))
    state = ma.fields.String(validate=v.OneOf(STATES))
    period = ma.fields.String(validate=v.Length(max=20))
    late = ma.fields.Boolean()


class DiffQuery(ma.Schema):
    from_ = ma.fields.Integer(data_key="from", required=True, validate=v.Range(min=1))
    to = ma.fields.Integer(required=True, validate=v.Range(min=1))


class VersionSchema(ma.Schema):
    number = ma.fields.Integer()
    narrative = ma.fields.String(allow_none=True)
    values = ma.fields.Dict()
    self_assessment = ma.fields.String(allow_none=True)
    submitted_at = ma.fields.String()
    submitted_by = ma.fields.String()
    late = ma.fields.Boolean()
    attachments = ma.fields.List(ma.fields.String())


class ReviewSchema(ma.Schema):
    version = ma.fields.Integer()
    decision = ma.fields.String()
    comment = ma.fields.String(allow_none=True)
    item_comments = ma.fields.Dict()
    by = ma.fields.String()
    at = ma.fields.String()


class AttachmentInfoSchema(ma.Schema):
    id = ma.fields.String()
    criterion = ma.fields.String(allow_none=True)
    filename = ma.fields.String()
    content_type = ma.fields.String()
    size = ma.fields.Integer()
    sha256 = ma.fields.String()
    uploaded_at = ma.fields.String()
    uploaded_by = ma.fields.String()


class ReportSchema(ma.Schema):
    id = ma.fields.String()
    movement_id = ma.fields.String()
    movement_title = ma.fields.String(allow_none=True)
    unit_id = ma.fields.String()
    original_unit_id = ma.fields.String()
    period = ma.fields.String()
    kind = ma.fields.String(metadata={"description": "interim | final"})
    opens = ma.fields.String()
    due = ma.fields.String()
    state = ma.fields.String(metadata={"description": ", ".join(STATES)})
    late = ma.fields.Boolean()
    draft = ma.fields.Dict()
    versions = ma.fields.List(ma.fields.Nested(VersionSchema))
    reviews = ma.fields.List(ma.fields.Nested(ReviewSchema))
    attachments = ma.fields.List(ma.fields.Nested(AttachmentInfoSchema))
    history = ma.fields.List(ma.fields.Dict())
    version = ma.fields.Integer()


class DiffSchema(ma.Schema):
    from_version = ma.fields.Integer()
    to_version = ma.fields.Integer()
    values = ma.fields.List(ma.fields.Dict())
    narrative_changed = ma.fields.Boolean()
    self_assessment = ma.fields.Dict(allow_none=True)
