"""What the clusters API accepts and returns (marshmallow: unknown fields are refused)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate as v
from tdkt.web.pagination import PageArgs

from tdkt_registry.domain import clusters as rules
from tdkt_registry.entrypoints.api.unit_schemas import LegalBasisOutSchema, LegalBasisSchema

UNIT_ID = v.Length(min=1, max=64)
YEAR = v.Range(min=rules.FIRST_YEAR, max=rules.LAST_YEAR, error=f"Năm từ {rules.FIRST_YEAR} đến {rules.LAST_YEAR} / a year from {rules.FIRST_YEAR} to {rules.LAST_YEAR}")


class TermInputSchema(ma.Schema):
    leader_id = ma.fields.String(required=True, validate=UNIT_ID, metadata={"description": "cụm/khối trưởng / the leading unit"})
    deputy_id = ma.fields.String(allow_none=True, validate=UNIT_ID, metadata={"description": "cụm/khối phó / the deputy unit"})
    covenant = ma.fields.Nested(LegalBasisSchema, allow_none=True, metadata={"description": "giao ước thi đua đã ký / the signed emulation covenant"})


class TermSchema(TermInputSchema):
    year = ma.fields.Integer(required=True, validate=YEAR)


class ClusterInputSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=v.Length(min=1, max=300), metadata={"example": "Cụm thi đua Bình Lư"})
    description = ma.fields.String(allow_none=True, validate=v.Length(max=5000))
    member_ids = ma.fields.List(ma.fields.String(validate=UNIT_ID), required=True, validate=v.Length(max=2000), metadata={"description": "đơn vị thành viên / member units"})


class NewClusterSchema(ClusterInputSchema):
    kind = ma.fields.String(required=True, validate=v.OneOf(rules.KINDS), metadata={"description": "cluster (cụm, theo địa bàn) | block (khối, theo ngành)"})
    terms = ma.fields.List(ma.fields.Nested(TermSchema), load_default=list, validate=v.Length(max=101))


class MemberSchema(ma.Schema):
    id = ma.fields.String()
    code = ma.fields.String(allow_none=True)
    name = ma.fields.String(metadata={"description": "tên hiện nay / the current name"})


class TermOutSchema(TermSchema):
    covenant = ma.fields.Nested(LegalBasisOutSchema, allow_none=True)


class ClusterSchema(NewClusterSchema):
    id = ma.fields.String()
    terms = ma.fields.List(ma.fields.Nested(TermOutSchema))
    members = ma.fields.List(ma.fields.Nested(MemberSchema))
    version = ma.fields.Integer()


class ClusterQuery(PageArgs):
    q = ma.fields.String(validate=v.Length(min=1, max=100), metadata={"description": "Tên, không phân biệt dấu / name, diacritic-insensitive (`binh lu`)"})
    kind = ma.fields.String(validate=v.OneOf(rules.KINDS))
    member_id = ma.fields.String(validate=UNIT_ID)
    year = ma.fields.Integer(validate=YEAR, metadata={"description": "có nhiệm kỳ năm này / with a term for this year"})
