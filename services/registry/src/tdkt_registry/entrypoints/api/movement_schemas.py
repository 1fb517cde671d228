"""What the movements and registrations API accepts and returns."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate as v
from tdkt.web.pagination import PageArgs

from tdkt_registry.domain import movements as rules
from tdkt_registry.domain.units import KINDS as UNIT_KINDS
from tdkt_registry.entrypoints.api.unit_schemas import LegalBasisOutSchema, LegalBasisSchema

# No `.`: a key becomes a key of stored documents (registration targets, report values), where a
# dot is a path to MongoDB and a key FerretDB refuses to store (every registration was a 500).
KEY = v.Regexp(r"^[a-z0-9][a-z0-9_-]{0,39}$", error="Mã: chữ thường, số, _ - (tối đa 40) / lower-case letters, digits, _ - (at most 40)")


class ContentAreaSchema(ma.Schema):
    key = ma.fields.String(required=True, validate=KEY, metadata={"example": "kinh-te"})
    title = ma.fields.String(required=True, validate=v.Length(min=1, max=300))
    description = ma.fields.String(allow_none=True, validate=v.Length(max=5000))


class CriterionSchema(ma.Schema):
    key = ma.fields.String(required=True, validate=KEY, metadata={"example": "giai-ngan-dau-tu-cong"})
    area = ma.fields.String(required=True, validate=KEY, metadata={"description": "the content area's key"})
    name = ma.fields.String(required=True, validate=v.Length(min=1, max=300))
    unit_of_measure = ma.fields.String(required=True, validate=v.Length(min=1, max=50), metadata={"example": "%"})
    target = ma.fields.Float(required=True, allow_nan=False, validate=v.Range(min=-1e12, max=1e12))
    direction = ma.fields.String(load_default="higher_is_better", validate=v.OneOf(rules.DIRECTIONS))
    value_type = ma.fields.String(load_default="number", validate=v.OneOf(rules.VALUE_TYPES))
    weight = ma.fields.Float(load_default=1.0, allow_nan=False, validate=v.Range(min=0, max=1000))
    evidence_required = ma.fields.Boolean(load_default=False)


class ScheduleSchema(ma.Schema):
    monthly_day = ma.fields.Integer(allow_none=True, validate=v.Range(min=1, max=31), metadata={"description": "báo cáo hằng tháng vào ngày này / monthly reports due on this day"})
    final_due = ma.fields.Date(allow_none=True, metadata={"description": "hạn báo cáo tổng kết / final report due"})


class ParticipantsSchema(ma.Schema):
    unit_ids = ma.fields.List(ma.fields.String(validate=v.Length(max=64)), load_default=list, validate=v.Length(max=20000))
    selector = ma.fields.String(allow_none=True, validate=v.OneOf(rules.SELECTORS), metadata={"description": "communes_of | under_unit | cluster, resolved as of period_start"})
    selector_id = ma.fields.String(allow_none=True, validate=v.Length(max=64))
    kinds = ma.fields.List(ma.fields.String(validate=v.OneOf(list(UNIT_KINDS))), load_default=list)

    @ma.validates_schema
    def one_way(self, data, **kwargs):
        if data.get("selector") and not data.get("selector_id"):
            raise ma.ValidationError("Bộ chọn cần selector_id / a selector needs selector_id", "selector_id")
        if not data.get("selector") and not data.get("unit_ids"):
            raise ma.ValidationError("Cần danh sách đơn vị hoặc bộ chọn / give unit_ids or a selector", "unit_ids")


class MovementInputSchema(ma.Schema):
    title = ma.fields.String(required=True, validate=v.Length(min=1, max=500))
    theme = ma.fields.String(allow_none=True, validate=v.Length(max=2000))
    kind = ma.fields.String(load_default="campaign", validate=v.OneOf(rules.KINDS))
    description = ma.fields.String(allow_none=True, validate=v.Length(max=20000))
    organiser_id = ma.fields.String(required=True, validate=v.Length(max=64))
    legal_basis = ma.fields.Nested(LegalBasisSchema, allow_none=True)
    period_start = ma.fields.Date(required=True)
    period_end = ma.fields.Date(required=True)
    content_areas = ma.fields.List(ma.fields.Nested(ContentAreaSchema), load_default=list, validate=v.Length(max=50))
    criteria = ma.fields.List(ma.fields.Nested(CriterionSchema), load_default=list, validate=v.Length(max=200))
    schedule = ma.fields.Nested(ScheduleSchema, load_default=dict)
    participants = ma.fields.Nested(ParticipantsSchema, required=True)
    registration_deadline = ma.fields.Date(allow_none=True)
    allow_lower_targets = ma.fields.Boolean(load_default=False)
    award_forms = ma.fields.List(ma.fields.String(validate=v.Length(min=1, max=100)), load_default=list, validate=v.Length(max=30))

    @ma.post_load
    def as_strings(self, data, **kwargs):
        """The domain reads dates from ISO strings, as they are stored."""
        for name in ("period_start", "period_end", "registration_deadline"):
            if data.get(name):
                data[name] = data[name].isoformat()
        if data.get("legal_basis"):
            data["legal_basis"] = {**data["legal_basis"], "date": data["legal_basis"]["date"].isoformat()}
        schedule = data.get("schedule") or {}
        if schedule.get("final_due"):
            schedule["final_due"] = schedule["final_due"].isoformat()
        data["schedule"] = schedule
        return data


class LaunchSchema(ma.Schema):
    """No fields: launching takes the movement as it is (send `{}`)."""


class ReasonSchema(ma.Schema):
    reason = ma.fields.String(validate=v.Length(min=1, max=2000))


class CancelSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=v.Length(min=1, max=2000))


class DueDateSchema(ma.Schema):
    kind = ma.fields.String()
    period = ma.fields.String()
    due = ma.fields.String()


class ScheduleOutSchema(ScheduleSchema):
    final_due = ma.fields.String(allow_none=True)


class MovementSchema(MovementInputSchema):
    """A movement as stored: dates as ISO strings, participants resolved."""

    legal_basis = ma.fields.Nested(LegalBasisOutSchema, allow_none=True)
    period_start = ma.fields.String()
    period_end = ma.fields.String()
    registration_deadline = ma.fields.String(allow_none=True)
    schedule = ma.fields.Nested(ScheduleOutSchema)
    id = ma.fields.String()
    state = ma.fields.String(metadata={"description": "draft | launched | closed | cancelled"})
    version = ma.fields.Integer()
    participant_ids = ma.fields.List(ma.fields.String(), metadata={"description": "resolved as of period_start"})
    due_dates = ma.fields.List(ma.fields.Nested(DueDateSchema))
    registered = ma.fields.Integer(metadata={"description": "số đơn vị đã đăng ký / units registered"})


class MovementQuery(PageArgs):
    state = ma.fields.String(validate=v.OneOf(rules.STATES))
    kind = ma.fields.String(validate=v.OneOf(rules.KINDS))
    participant_id = ma.fields.String(validate=v.Length(max=64))
    q = ma.fields.String(validate=v.Length(min=1, max=100))


class RegistrationInputSchema(ma.Schema):
    unit_id = ma.fields.String(validate=v.Length(max=64), metadata={"description": "default: the caller's unit"})
    targets = ma.fields.Dict(
        keys=ma.fields.String(validate=KEY),
        values=ma.fields.Float(allow_nan=False, validate=v.Range(min=-1e12, max=1e12)),
        required=True,
        metadata={"description": "chỉ tiêu đăng ký theo mã tiêu chí / a target per criterion key"},
    )
    titles = ma.fields.List(ma.fields.String(validate=v.Length(min=1, max=100)), load_default=list, validate=v.Length(max=10), metadata={"example": ["Tập thể lao động tiên tiến"]})
    note = ma.fields.String(allow_none=True, validate=v.Length(max=5000))


class RegistrationAmendSchema(RegistrationInputSchema):
    class Meta:
        exclude = ("unit_id",)


class RegistrationSchema(ma.Schema):
    id = ma.fields.String()
    movement_id = ma.fields.String()
    unit_id = ma.fields.String()
    unit_name = ma.fields.String(allow_none=True)
    targets = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Float())
    titles = ma.fields.List(ma.fields.String())
    note = ma.fields.String(allow_none=True)
    submitted_at = ma.fields.String()
    amended_at = ma.fields.String(allow_none=True)
    amendments = ma.fields.Integer()
    version = ma.fields.Integer()


class MissingSchema(ma.Schema):
    unit_id = ma.fields.String()
    code = ma.fields.String(allow_none=True)
    name = ma.fields.String()
