"""What the nominations, holds and disclosures API accepts and returns."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate as v
from tdkt.web.pagination import PageArgs

from tdkt_awards.domain import nominations as rules
from tdkt_awards.domain.catalogue import RATINGS
from tdkt_awards.domain.eligibility import HOLD_KINDS
from tdkt_awards.seed import DEFAULT_ISSUER

TEXT = v.Length(min=1, max=500)
ID = v.Length(min=1, max=100)
TITLE_CODE = v.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$", error="Mã danh hiệu: chữ, số, '_' hoặc '-' / a title code: letters, digits, '_' or '-'")


class PriorTitleSchema(ma.Schema):
    title_code = ma.fields.String(required=True, validate=ID, metadata={"example": "CSTDCS"})
    year = ma.fields.Integer(required=True, validate=v.Range(1945, 2100))
    decision_reference = ma.fields.String(allow_none=True, validate=v.Length(max=100), metadata={"example": "45/QĐ-UBND"})
    counts_toward_merit = ma.fields.Boolean(load_default=True, metadata={"description": "false for an award of a thematic movement or a sudden achievement"})


class NomineeSchema(ma.Schema):
    """An individual (name, position, unit, gender, direct worker, prior titles, rating) or a
    collective (its unit and membership figures)."""

    name = ma.fields.String(validate=TEXT, metadata={"description": "họ và tên; for a collective, defaults to its unit's name"})
    unit_id = ma.fields.String(required=True, validate=ID, metadata={"description": "the nominee's unit (a collective: the unit itself)"})
    position = ma.fields.String(allow_none=True, validate=v.Length(max=300), metadata={"example": "Công chức Văn hóa – Xã hội"})
    gender = ma.fields.String(allow_none=True, validate=v.OneOf(["female", "male", "other"]))
    direct_worker = ma.fields.Boolean(load_default=False, metadata={"description": "người lao động trực tiếp"})
    person_key = ma.fields.String(allow_none=True, validate=v.Length(max=100), metadata={"description": "the unit's stable id for the person (default: name + unit)"})
    performance = ma.fields.String(allow_none=True, validate=v.OneOf(RATINGS), metadata={"description": "mức hoàn thành nhiệm vụ: completed | good | excellent"})
    initiative_recognised = ma.fields.Boolean(load_default=False, metadata={"description": "has a recognised initiative (attach its proof as `sang_kien`)"})
    prior_titles = ma.fields.List(ma.fields.Nested(PriorTitleSchema), load_default=list, validate=v.Length(max=50))
    members_total = ma.fields.Integer(allow_none=True, validate=v.Range(0, 1_000_000), metadata={"description": "collective: number of members"})
    members_completed_tasks = ma.fields.Integer(allow_none=True, validate=v.Range(0, 1_000_000))
    members_with_titles = ma.fields.Dict(
        keys=ma.fields.String(validate=TITLE_CODE),  # stored as keys: a `$` or `.` there is refused by the store (a 500), so refused here
        values=ma.fields.Integer(validate=v.Range(0, 1_000_000)),
        load_default=dict,
        metadata={"example": {"LDTT": 18, "CSTDCS": 2}},
    )
    members_disciplined = ma.fields.Integer(allow_none=True, validate=v.Range(0, 1_000_000), metadata={"description": "members disciplined at reprimand or worse"})
    female_share = ma.fields.Float(allow_none=True, validate=v.Range(0, 1))

    @ma.validates_schema
    def figures_add_up(self, data, **kwargs):
        total = data.get("members_total")
        for name in ("members_completed_tasks", "members_disciplined"):
            if total is not None and (data.get(name) or 0) > total:
                raise ma.ValidationError("Lớn hơn tổng số thành viên / more than the members", name)
        for code, count in (data.get("members_with_titles") or {}).items():
            if total is not None and count > total:
                raise ma.ValidationError(f"{code}: lớn hơn tổng số thành viên / more than the members", "members_with_titles")


class NominationInputSchema(ma.Schema):
    issuer = ma.fields.String(load_default=DEFAULT_ISSUER, validate=v.Length(min=1, max=200), metadata={"description": "whose rule catalogue applies"})
    kind = ma.fields.String(required=True, validate=v.OneOf(rules.KINDS), metadata={"description": "movement (trong phong trào) | annual (hằng năm) | sudden (đột xuất)"})
    movement_id = ma.fields.String(allow_none=True, load_default=None, validate=ID)
    year = ma.fields.Integer(allow_none=True, load_default=None, validate=v.Range(2000, 2100), metadata={"description": "default: the movement's end year, or this year"})
    sudden_ref = ma.fields.String(allow_none=True, load_default=None, validate=v.Length(max=200), metadata={"description": "the sudden deed (one deed, one form)"})
    title_code = ma.fields.String(required=True, validate=ID, metadata={"example": "TTLDTT"})
    subject = ma.fields.String(required=True, validate=v.OneOf(["individual", "collective", "household"]))
    nominee = ma.fields.Nested(NomineeSchema, required=True)
    achievement = ma.fields.String(required=True, validate=v.Length(min=1, max=2000), metadata={"description": "tóm tắt thành tích: what the public disclosure list shows"})


class ReturnSchema(ma.Schema):
    reasons = ma.fields.List(ma.fields.String(validate=TEXT), required=True, validate=v.Length(min=1, max=30), metadata={"description": "what the dossier lacks"})


class AppraisalSchema(ma.Schema):
    outcome = ma.fields.String(required=True, validate=v.OneOf(["eligible", "ineligible"]))
    reasons = ma.fields.List(ma.fields.String(validate=TEXT), load_default=list, validate=v.Length(max=30), metadata={"description": "required when ineligible"})
    override_reason = ma.fields.String(allow_none=True, validate=v.Length(max=2000), metadata={"description": "why it is eligible although a pre-check failed"})
    note = ma.fields.String(allow_none=True, validate=v.Length(max=2000))


class NominationSchema(ma.Schema):
    id = ma.fields.String()
    state = ma.fields.String(metadata={"description": " | ".join(rules.STATES)})
    state_label = ma.fields.String()
    issuer = ma.fields.String()
    kind = ma.fields.String()
    movement_id = ma.fields.String(allow_none=True)
    year = ma.fields.Integer()
    sudden_ref = ma.fields.String(allow_none=True)
    title_code = ma.fields.String()
    subject = ma.fields.String()
    nominating_unit_id = ma.fields.String()
    nominee = ma.fields.Dict()
    achievement = ma.fields.String(allow_none=True)
    attachments = ma.fields.List(ma.fields.Dict())
    required_documents = ma.fields.List(ma.fields.String())
    missing_documents = ma.fields.List(ma.fields.String())
    eligible = ma.fields.Boolean(allow_none=True, metadata={"description": "the pre-check's verdict: null while something needs the appraiser's judgement"})
    eligibility = ma.fields.Dict(metadata={"description": "eligible, on_hold, checks [{rule, ok, message}], catalogue_version, checked_at"})
    deadlines = ma.fields.Dict(metadata={"description": "return_by, appraisal_due, resubmit_by (YYYY-MM-DD, working days)"})
    overdue = ma.fields.Boolean(metadata={"description": "submitted and past its appraisal due date"})
    appraisal_working_days_left = ma.fields.Integer(allow_none=True)
    appraisal = ma.fields.Dict(allow_none=True)
    council = ma.fields.Dict(allow_none=True)
    disclosure_id = ma.fields.String(allow_none=True)
    decision = ma.fields.Dict(allow_none=True)
    province = ma.fields.Dict(allow_none=True)
    history = ma.fields.List(ma.fields.Dict())
    created_at = ma.fields.String(allow_none=True)
    submitted_at = ma.fields.String(allow_none=True)
    version = ma.fields.Integer()


class NominationQuery(PageArgs):
    state = ma.fields.String(validate=v.OneOf(rules.STATES))
    kind = ma.fields.String(validate=v.OneOf(rules.KINDS))
    movement_id = ma.fields.String(validate=ID)
    title_code = ma.fields.String(validate=ID)
    unit_id = ma.fields.String(validate=ID, metadata={"description": "the nominating unit"})
    year = ma.fields.Integer(validate=v.Range(2000, 2100))
    overdue = ma.fields.Boolean(metadata={"description": "only submitted dossiers past their appraisal due date"})


class AttachmentFormSchema(ma.Schema):
    type = ma.fields.String(required=True, validate=v.OneOf(list(rules.DOCUMENT_TYPES)), metadata={"description": "; ".join(f"{k}: {n}" for k, n in rules.DOCUMENT_TYPES.items())})


class HoldInputSchema(ma.Schema):
    nominee_key = ma.fields.String(required=True, validate=ID, metadata={"description": "a person's key as in their nominations, or `unit:<unit id>`"})
    kind = ma.fields.String(required=True, validate=v.OneOf(list(HOLD_KINDS)))
    reference = ma.fields.String(allow_none=True, validate=v.Length(max=200), metadata={"example": "Quyết định thanh tra số 12/QĐ-TTr"})
    note = ma.fields.String(allow_none=True, validate=v.Length(max=2000))


class HoldSchema(ma.Schema):
    id = ma.fields.String()
    nominee_key = ma.fields.String()
    kind = ma.fields.String()
    reference = ma.fields.String(allow_none=True)
    note = ma.fields.String(allow_none=True)
    active = ma.fields.Boolean()
    placed_by = ma.fields.String()
    placed_at = ma.fields.String()
    lifted_by = ma.fields.String(allow_none=True)
    lifted_at = ma.fields.String(allow_none=True)
    rechecked = ma.fields.Integer(metadata={"description": "nominations whose verdict changed"})


class DisclosureInputSchema(ma.Schema):
    title = ma.fields.String(required=True, validate=TEXT, metadata={"example": "Công khai danh sách đề nghị khen thưởng phong trào thi đua đặc biệt năm 2023"})
    issuer = ma.fields.String(load_default=DEFAULT_ISSUER, validate=v.Length(min=1, max=200))
    nomination_ids = ma.fields.List(ma.fields.String(validate=ID), required=True, validate=v.Length(min=1, max=5000))
    opens = ma.fields.Date(allow_none=True, load_default=None, metadata={"description": "default: today"})
    working_days = ma.fields.Integer(allow_none=True, load_default=None, validate=v.Range(1, 60), metadata={"description": "default: the catalogue's disclosure_working_days (5)"})


class ObjectionInputSchema(ma.Schema):
    nomination_id = ma.fields.String(required=True, validate=ID)
    content = ma.fields.String(required=True, validate=v.Length(min=1, max=5000))
    source = ma.fields.String(allow_none=True, validate=v.Length(max=300), metadata={"description": "who raised it, as received (may be anonymous)"})
    received_on = ma.fields.Date(allow_none=True, load_default=None)


class ResolutionSchema(ma.Schema):
    status = ma.fields.String(required=True, validate=v.OneOf(["upheld", "dismissed"]), metadata={"description": "upheld: the nomination is rejected"})
    resolution = ma.fields.String(required=True, validate=v.Length(min=1, max=5000))


class PublicEntrySchema(ma.Schema):
    nomination_id = ma.fields.String()
    name = ma.fields.String()
    position = ma.fields.String(allow_none=True)
    unit_name = ma.fields.String(allow_none=True)
    subject = ma.fields.String()
    title_code = ma.fields.String()
    title_name = ma.fields.String()
    achievement = ma.fields.String(allow_none=True)


class PublicDisclosureSchema(ma.Schema):
    id = ma.fields.String()
    title = ma.fields.String()
    issuer = ma.fields.String()
    opens = ma.fields.String()
    closes = ma.fields.String(metadata={"description": "the last day objections are received"})
    entries = ma.fields.List(ma.fields.Nested(PublicEntrySchema))
    objections_received = ma.fields.Integer()


class DisclosureSchema(PublicDisclosureSchema):
    nomination_ids = ma.fields.List(ma.fields.String())
    objections = ma.fields.List(ma.fields.Dict())
    opened_by = ma.fields.String(allow_none=True)
    version = ma.fields.Integer()


class DisclosureQuery(PageArgs):
    current = ma.fields.Boolean(load_default=False, metadata={"description": "only those still receiving objections"})
