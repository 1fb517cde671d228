"""What the units API accepts and returns (marshmallow: unknown fields are refused)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate as v
from tdkt.web.pagination import PageArgs

from tdkt_registry.domain.units import KINDS, STATUSES

CODE = v.Regexp(r"^[0-9A-Za-z._-]{1,20}$", error="Mã gồm chữ, số, . _ - (tối đa 20) / letters, digits, . _ - (at most 20)")
NAME = v.Length(min=1, max=300)
KIND = v.OneOf(list(KINDS))


class AsOfArgs(ma.Schema):
    as_of = ma.fields.Date(metadata={"description": "Ngày tra cứu (YYYY-MM-DD), mặc định hôm nay / the date the structure is read as of; default today"})


class UnitQuery(PageArgs, AsOfArgs):
    q = ma.fields.String(
        validate=v.Length(min=1, max=100), metadata={"description": "Tên hoặc mã, không phân biệt dấu / name or code, diacritic-insensitive (`tam duong`, `03390`)"}
    )
    kind = ma.fields.String(validate=KIND)
    parent_id = ma.fields.String(validate=v.Length(max=64))
    status = ma.fields.String(load_default="active", validate=v.OneOf([*STATUSES, "any"]), metadata={"description": "Trạng thái vào ngày as_of / status on as_of"})


class SubtreeQuery(PageArgs, AsOfArgs):
    kind = ma.fields.String(validate=KIND)
    max_depth = ma.fields.Integer(validate=v.Range(min=1, max=20))


class LegalBasisSchema(ma.Schema):
    number = ma.fields.String(required=True, validate=v.Length(min=1, max=100), metadata={"example": "1670/NQ-UBTVQH15"})
    date = ma.fields.Date(required=True)
    issuer = ma.fields.String(required=True, validate=v.Length(min=1, max=200), metadata={"example": "Ủy ban Thường vụ Quốc hội"})
    title = ma.fields.String(allow_none=True, validate=v.Length(max=500))


class LegalBasisOutSchema(LegalBasisSchema):
    date = ma.fields.String(metadata={"example": "2025-06-16"})


class ContactsSchema(ma.Schema):
    email = ma.fields.Email(allow_none=True)
    phone = ma.fields.String(allow_none=True, validate=v.Regexp(r"^\+?[0-9 ().-]{6,20}$", error="Số điện thoại không hợp lệ / not a phone number"))
    webhook_url = ma.fields.Url(allow_none=True, schemes={"https", "http"}, require_tld=False)


class HeadSchema(ma.Schema):
    name = ma.fields.String(allow_none=True, validate=v.Length(max=200))
    title = ma.fields.String(allow_none=True, validate=v.Length(max=200), metadata={"example": "Chủ tịch UBND xã"})


class NewUnitSchema(ma.Schema):
    code = ma.fields.String(allow_none=True, validate=CODE, metadata={"description": "Mã chính thức nếu có / official code, when one exists"})
    name = ma.fields.String(required=True, validate=NAME)
    short_name = ma.fields.String(allow_none=True, validate=v.Length(max=100))
    kind = ma.fields.String(required=True, validate=KIND)
    parent_id = ma.fields.String(allow_none=True, validate=v.Length(max=64))
    contacts = ma.fields.Nested(ContactsSchema)
    head = ma.fields.Nested(HeadSchema)
    note = ma.fields.String(allow_none=True, validate=v.Length(max=2000))


class UnitCreateSchema(NewUnitSchema):
    valid_from = ma.fields.Date(allow_none=True)
    valid_to = ma.fields.Date(allow_none=True)
    legal_basis = ma.fields.Nested(LegalBasisSchema, allow_none=True, metadata={"description": "Văn bản thành lập / the founding document"})

    @ma.validates_schema
    def dates_in_order(self, data, **kwargs):
        if data.get("valid_from") and data.get("valid_to") and data["valid_to"] < data["valid_from"]:
            raise ma.ValidationError("Ngày kết thúc trước ngày bắt đầu / valid_to is before valid_from", "valid_to")


class UnitPatchSchema(ma.Schema):
    short_name = ma.fields.String(allow_none=True, validate=v.Length(max=100))
    contacts = ma.fields.Nested(ContactsSchema)
    head = ma.fields.Nested(HeadSchema)
    note = ma.fields.String(allow_none=True, validate=v.Length(max=2000))

    @ma.validates_schema
    def not_empty(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("Cần ít nhất một trường / give at least one field", "_schema")


class ActSchema(ma.Schema):
    effective_date = ma.fields.Date(required=True, metadata={"description": "Ngày có hiệu lực: ngày đầu tiên của trạng thái mới / the first day of the new state"})
    legal_basis = ma.fields.Nested(LegalBasisSchema, required=True)
    note = ma.fields.String(allow_none=True, validate=v.Length(max=2000))


class RenameSchema(ActSchema):
    name = ma.fields.String(validate=NAME)
    code = ma.fields.String(validate=CODE)
    short_name = ma.fields.String(validate=v.Length(max=100))
    kind = ma.fields.String(validate=KIND)


class MoveSchema(ActSchema):
    parent_id = ma.fields.String(required=True, allow_none=True, validate=v.Length(max=64))


class DissolveSchema(ActSchema):
    pass


class SplitSchema(ActSchema):
    into_ids = ma.fields.List(ma.fields.String(validate=v.Length(max=64)), load_default=list, validate=v.Length(max=50))
    new_units = ma.fields.List(ma.fields.Nested(NewUnitSchema), load_default=list, validate=v.Length(max=50))


class MergeSchema(ActSchema):
    predecessor_ids = ma.fields.List(ma.fields.String(validate=v.Length(max=64)), required=True, validate=v.Length(min=1, max=100))
    into_id = ma.fields.String(validate=v.Length(max=64), metadata={"description": "Đơn vị hiện có tiếp nhận / an existing unit that absorbs the others"})
    new_unit = ma.fields.Nested(NewUnitSchema, metadata={"description": "Đơn vị mới thành lập từ việc hợp nhất / a new unit formed by the merger"})


class SegmentSchema(ma.Schema):
    start = ma.fields.String(allow_none=True)
    end = ma.fields.String(allow_none=True)
    code = ma.fields.String(allow_none=True)
    name = ma.fields.String()
    short_name = ma.fields.String(allow_none=True)
    kind = ma.fields.String()
    parent_id = ma.fields.String(allow_none=True)
    act_id = ma.fields.String(allow_none=True)


class UnitSchema(ma.Schema):
    id = ma.fields.String()
    code = ma.fields.String(allow_none=True)
    name = ma.fields.String()
    short_name = ma.fields.String(allow_none=True)
    kind = ma.fields.String()
    kind_label = ma.fields.String()
    level = ma.fields.String(allow_none=True, metadata={"description": "province | district | commune: the administrative level the unit belongs to"})
    parent_id = ma.fields.String(allow_none=True)
    parent_name = ma.fields.String(allow_none=True)
    valid_from = ma.fields.String(allow_none=True)
    valid_to = ma.fields.String(allow_none=True)
    status = ma.fields.String(metadata={"description": f"on as_of: {', '.join(STATUSES)}"})
    end_reason = ma.fields.String(allow_none=True)
    predecessor_ids = ma.fields.List(ma.fields.String())
    successor_ids = ma.fields.List(ma.fields.String())
    contacts = ma.fields.Nested(ContactsSchema, metadata={"description": "Chỉ cán bộ TĐKT và chính đơn vị thấy / visible to officers and to the unit itself"})
    head = ma.fields.Nested(HeadSchema)
    note = ma.fields.String(allow_none=True)
    version = ma.fields.Integer()
    as_of = ma.fields.String()
    depth = ma.fields.Integer(metadata={"description": "in a subtree: 1 = direct child"})
    history = ma.fields.List(ma.fields.Nested(SegmentSchema), metadata={"description": "on a single unit: every segment of its life"})


class ActRecordSchema(ma.Schema):
    id = ma.fields.String()
    kind = ma.fields.String()
    effective_date = ma.fields.String(allow_none=True)
    legal_basis = ma.fields.Nested(LegalBasisOutSchema, allow_none=True)
    note = ma.fields.String(allow_none=True)
    predecessor_ids = ma.fields.List(ma.fields.String())
    successor_ids = ma.fields.List(ma.fields.String())
    unit_ids = ma.fields.List(ma.fields.String())
    actor = ma.fields.String(allow_none=True)
    recorded_at = ma.fields.String()
    status = ma.fields.String()
    hash = ma.fields.String()


class ActResultSchema(ma.Schema):
    act = ma.fields.Nested(ActRecordSchema)
    units = ma.fields.List(ma.fields.Nested(UnitSchema))


class ActQuery(PageArgs):
    unit_id = ma.fields.String(validate=v.Length(max=64))
    kind = ma.fields.String(validate=v.OneOf(["establish", "update", "rename", "move", "merge", "split", "dissolve"]))


class LineageEntrySchema(ma.Schema):
    unit = ma.fields.Nested(UnitSchema)
    distance = ma.fields.Integer()
    via = ma.fields.String()


class LineageSchema(ma.Schema):
    unit = ma.fields.Nested(UnitSchema)
    predecessors = ma.fields.List(ma.fields.Nested(LineageEntrySchema))
    successors = ma.fields.List(ma.fields.Nested(LineageEntrySchema))


class KindSchema(ma.Schema):
    kind = ma.fields.String()
    label = ma.fields.String()
    level = ma.fields.String(allow_none=True)
