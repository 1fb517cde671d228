"""What the catalogue API accepts and returns."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate as v
from tdkt.web.pagination import PageArgs


class LegalBasisSchema(ma.Schema):
    number = ma.fields.String(required=True, validate=v.Length(min=1, max=100))
    date = ma.fields.Date(allow_none=True)
    issuer = ma.fields.String(required=True, validate=v.Length(min=1, max=200))
    title = ma.fields.String(allow_none=True, validate=v.Length(max=500))

    @ma.post_load
    def iso(self, data, **kwargs):
        if data.get("date"):
            data["date"] = data["date"].isoformat()
        return data


class VersionCreateSchema(ma.Schema):
    issuer = ma.fields.String(required=True, validate=v.Length(min=1, max=200), metadata={"example": "Ủy ban nhân dân tỉnh Lai Châu"})
    effective_from = ma.fields.Date(required=True)
    legal_basis = ma.fields.Nested(LegalBasisSchema, required=True)
    note = ma.fields.String(allow_none=True, validate=v.Length(max=5000))
    copy_from = ma.fields.String(validate=v.Length(max=64), metadata={"description": "start from this version's content"})
    content = ma.fields.Dict(metadata={"description": "titles, base_salaries, council, quotas; default: the shipped defaults"})

    @ma.post_load
    def iso(self, data, **kwargs):
        data["effective_from"] = data["effective_from"].isoformat()
        return data


class ContentSchema(ma.Schema):
    content = ma.fields.Dict(required=True, metadata={"description": "the whole content; validated field by field (e.g. `titles.3.coefficient`)"})


class NoBodySchema(ma.Schema):
    """No fields: send `{}`."""


class VersionSchema(ma.Schema):
    id = ma.fields.String()
    issuer = ma.fields.String()
    effective_from = ma.fields.String()
    legal_basis = ma.fields.Dict()
    note = ma.fields.String(allow_none=True)
    status = ma.fields.String(metadata={"description": "draft | active"})
    content = ma.fields.Dict()
    audit = ma.fields.List(ma.fields.Dict(), metadata={"description": "hash-chained change log"})
    version = ma.fields.Integer()


class VersionQuery(PageArgs):
    issuer = ma.fields.String(validate=v.Length(max=200))
    status = ma.fields.String(validate=v.OneOf(["draft", "active"]))


class InForceQuery(ma.Schema):
    issuer = ma.fields.String(required=True, validate=v.Length(min=1, max=200))
    date = ma.fields.Date(required=True)


class QuoteQuery(InForceQuery):
    title = ma.fields.String(required=True, validate=v.Length(min=1, max=50))
    household = ma.fields.Boolean(load_default=False)


class QuoteSchema(ma.Schema):
    title = ma.fields.String()
    title_name = ma.fields.String()
    catalogue_version = ma.fields.String()
    coefficient = ma.fields.String(allow_none=True)
    base_salary = ma.fields.Integer()
    base_salary_since = ma.fields.String()
    household = ma.fields.Boolean()
    amount = ma.fields.Integer(metadata={"description": "whole đồng"})
    working = ma.fields.String()


class WorkingDaysQuery(ma.Schema):
    start = ma.fields.Date(required=True, data_key="from")
    days = ma.fields.Integer(required=True, validate=v.Range(min=0, max=400))


class WorkingDaysSchema(ma.Schema):
    start = ma.fields.String(data_key="from")
    days = ma.fields.Integer()
    due = ma.fields.String()
