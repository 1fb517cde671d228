"""What the decisions API accepts and returns."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate as v
from tdkt.web.pagination import PageArgs

from tdkt_awards.domain.catalogue import SUBJECTS
from tdkt_awards.entrypoints.api.catalogue_schemas import LegalBasisSchema

TEXT = v.Length(min=1, max=500)


class AwardeeSchema(ma.Schema):
    subject = ma.fields.String(required=True, validate=v.OneOf(SUBJECTS))
    name = ma.fields.String(required=True, validate=TEXT, metadata={"description": "họ và tên, hoặc tên tập thể / person's or collective's name"})
    position = ma.fields.String(allow_none=True, validate=v.Length(max=300))
    unit_id = ma.fields.String(allow_none=True, validate=v.Length(max=64))
    unit_name = ma.fields.String(allow_none=True, validate=v.Length(max=300))
    title_code = ma.fields.String(required=True, validate=v.Length(min=1, max=64))
    period = ma.fields.String(allow_none=True, validate=v.Length(max=64), metadata={"description": "e.g. the year or the movement: one paid award per person and period"})
    person_key = ma.fields.String(allow_none=True, validate=v.Length(max=100), metadata={"description": "identifies the same person across lines (default: name + unit)"})
    gender = ma.fields.String(allow_none=True, validate=v.OneOf(["female", "male", "other"]))
    direct_worker = ma.fields.Boolean(load_default=False, metadata={"description": "người lao động trực tiếp"})


class SignerSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=TEXT)
    title = ma.fields.String(load_default="CHỦ TỊCH", validate=v.Length(max=100))


class DecisionInputSchema(ma.Schema):
    issuer = ma.fields.String(required=True, validate=v.Length(min=1, max=200), metadata={"example": "Ủy ban nhân dân tỉnh Lai Châu"})
    issuer_name = ma.fields.String(required=True, validate=v.Length(min=1, max=200), metadata={"example": "tỉnh Lai Châu"})
    symbol = ma.fields.String(load_default="QĐ-UBND", validate=v.Regexp(r"^[A-ZĐ0-9-]{2,20}$"))
    place = ma.fields.String(required=True, validate=v.Length(min=1, max=100), metadata={"example": "Lai Châu"})
    decision_date = ma.fields.Date(required=True)
    subject = ma.fields.String(
        required=True, validate=TEXT, metadata={"example": "khen thưởng các tập thể, cá nhân có thành tích xuất sắc trong phong trào thi đua đặc biệt năm 2023"}
    )
    legal_bases = ma.fields.List(ma.fields.String(validate=TEXT), required=True, validate=v.Length(min=1, max=20))
    proposed_by = ma.fields.String(required=True, validate=TEXT)
    movement_id = ma.fields.String(
        allow_none=True, load_default=None, validate=v.Length(max=100), metadata={"description": "the movement the awards close, if any (the bonus ledger totals per movement)"}
    )
    funding_source = ma.fields.String(required=True, validate=TEXT)
    recipients = ma.fields.List(ma.fields.String(validate=TEXT), required=True, validate=v.Length(min=1, max=50))
    signer = ma.fields.Nested(SignerSchema, required=True)
    awardees = ma.fields.List(ma.fields.Nested(AwardeeSchema), load_default=list, validate=v.Length(max=5000), metadata={"description": "awardees named directly"})
    nomination_ids = ma.fields.List(
        ma.fields.String(validate=v.Length(min=1, max=64)),
        load_default=list,
        validate=v.Length(max=5000),
        metadata={"description": "nominations approved by the council and past their disclosure: each becomes an awardee (409 while one still waits)"},
    )

    @ma.post_load
    def iso(self, data, **kwargs):
        data["decision_date"] = data["decision_date"].isoformat()
        return data


class RevocationInputSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=v.Length(min=1, max=5000))
    legal_basis = ma.fields.Nested(LegalBasisSchema, required=True)
    awardee_ids = ma.fields.List(ma.fields.String(validate=v.Length(max=64)), metadata={"description": "default: every awardee of the decision"})


class DecisionSchema(ma.Schema):
    id = ma.fields.String()
    issuer = ma.fields.String()
    issuer_name = ma.fields.String()
    state = ma.fields.String(metadata={"description": "draft | issued"})
    number = ma.fields.Integer(allow_none=True)
    symbol = ma.fields.String()
    reference = ma.fields.String(allow_none=True, metadata={"example": "12/QĐ-UBND"})
    place = ma.fields.String()
    decision_date = ma.fields.String()
    subject = ma.fields.String()
    legal_bases = ma.fields.List(ma.fields.String())
    proposed_by = ma.fields.String()
    movement_id = ma.fields.String(allow_none=True)
    funding_source = ma.fields.String()
    recipients = ma.fields.List(ma.fields.String())
    signer = ma.fields.Dict()
    awardees = ma.fields.List(ma.fields.Dict())
    totals = ma.fields.Dict(metadata={"description": "awardees, total_amount (đồng), direct_worker_share"})
    catalogue_version = ma.fields.String()
    issued_at = ma.fields.String(allow_none=True)
    issued_by = ma.fields.String(allow_none=True)
    revocations = ma.fields.List(ma.fields.Dict())
    version = ma.fields.Integer()


class DecisionQuery(PageArgs):
    issuer = ma.fields.String(validate=v.Length(max=200))
    state = ma.fields.String(validate=v.OneOf(["draft", "issued"]))
