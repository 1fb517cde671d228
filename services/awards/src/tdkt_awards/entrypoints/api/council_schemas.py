"""What the council API accepts and returns (unknown fields are rejected: marshmallow's RAISE)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate as v

from tdkt_awards.domain.council import CHOICES, DEFAULT_QUORUM, DEFAULT_THRESHOLD, MEMBER_ROLES, STATES

ITEM_ID = v.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$", error="Mã mục: chữ, số, '_' hoặc '-' (tối đa 40) / item id: letters, digits, '_' or '-' (up to 40)")
GROUP = v.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$", error="Mã nhóm không hợp lệ / not a quota group code")
SHARE = v.Range(min=0.5, max=1, error="Tỷ lệ trong khoảng 0,5–1 / a share between 0.5 and 1")


class MemberSchema(ma.Schema):
    member_id = ma.fields.String(required=True, validate=v.Length(min=1, max=200), metadata={"description": "the member's token subject"})
    name = ma.fields.String(required=True, validate=v.Length(min=1, max=200))
    role = ma.fields.String(required=True, validate=v.OneOf(MEMBER_ROLES), metadata={"description": "chair | vice_chair | standing_member | member | secretary"})


class CouncilCreateSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=v.Length(min=1, max=300))
    issuer_id = ma.fields.String(required=True, validate=v.Length(min=1, max=64), metadata={"description": "the issuing level (unit) the council advises"})
    members = ma.fields.List(ma.fields.Nested(MemberSchema), required=True, validate=v.Length(min=1, max=100))


class MembersSchema(ma.Schema):
    members = ma.fields.List(ma.fields.Nested(MemberSchema), required=True, validate=v.Length(min=1, max=100))


class CouncilSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    issuer_id = ma.fields.String()
    members = ma.fields.List(ma.fields.Nested(MemberSchema))
    version = ma.fields.Integer()


class AgendaItemSchema(ma.Schema):
    item_id = ma.fields.String(required=True, validate=ITEM_ID)
    nomination_id = ma.fields.String(allow_none=True, validate=v.Length(max=100))
    candidate = ma.fields.String(required=True, validate=v.Length(min=1, max=300), metadata={"description": "who or which unit is proposed"})
    title_code = ma.fields.String(allow_none=True, validate=v.Length(max=64), metadata={"description": "the form or title code, e.g. cstd_tinh"})
    threshold = ma.fields.Float(
        load_default=DEFAULT_THRESHOLD, validate=SHARE, metadata={"description": "yes votes / TOTAL membership needed (0.9 Anh hùng, CSTĐ tỉnh; 0.8 CSTĐCS, Cờ thi đua)"}
    )
    quota_group = ma.fields.String(allow_none=True, validate=GROUP)


class QuotaGroupSchema(ma.Schema):
    code = ma.fields.String(required=True, validate=GROUP)
    quota = ma.fields.Integer(required=True, validate=v.Range(min=1, max=1000))


class SessionCreateSchema(ma.Schema):
    council_id = ma.fields.String(required=True, validate=v.Length(min=1, max=64))
    date = ma.fields.Date(required=True)
    quorum = ma.fields.Float(load_default=DEFAULT_QUORUM, validate=SHARE, metadata={"description": "share of members present to open (0.8 for award sessions)"})
    agenda = ma.fields.List(ma.fields.Nested(AgendaItemSchema), required=True, validate=v.Length(min=1, max=500))
    quota_groups = ma.fields.List(ma.fields.Nested(QuotaGroupSchema), load_default=list, validate=v.Length(max=100))


class AttendanceSchema(ma.Schema):
    present = ma.fields.List(ma.fields.String(validate=v.Length(min=1, max=200)), required=True, validate=v.Length(max=100))


class CouncilNoBodySchema(ma.Schema):
    """No fields: send `{}`."""


class BallotSchema(ma.Schema):
    item_id = ma.fields.String(required=True, validate=ITEM_ID)
    choice = ma.fields.String(required=True, validate=v.OneOf(CHOICES), metadata={"description": "yes | no | abstain"})


class WrittenVoteSchema(BallotSchema):
    member_id = ma.fields.String(required=True, validate=v.Length(min=1, max=200), metadata={"description": "the absent member whose written ballot this is"})


class RecordedSchema(ma.Schema):
    recorded = ma.fields.Boolean(metadata={"description": "always true: the ballot is never echoed"})


class CastingVoteSchema(ma.Schema):
    quota_group = ma.fields.String(required=True, validate=GROUP)
    item_ids = ma.fields.List(ma.fields.String(validate=ITEM_ID), required=True, validate=v.Length(min=1, max=100))


class SessionSchema(ma.Schema):
    id = ma.fields.String()
    council_id = ma.fields.String()
    council_name = ma.fields.String()
    date = ma.fields.String()
    quorum = ma.fields.Float()
    state = ma.fields.String(validate=v.OneOf(STATES))
    agenda = ma.fields.List(ma.fields.Dict())
    quota_groups = ma.fields.List(ma.fields.Dict())
    total_members = ma.fields.Integer()
    present = ma.fields.List(ma.fields.String())
    ballots = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), metadata={"description": "while open: number of ballots per item, nothing else"})
    result = ma.fields.Dict(allow_none=True, metadata={"description": "after close: the tally per item (counts, outcome, rank) and per quota group"})
    integrity_warnings = ma.fields.List(ma.fields.String())
    version = ma.fields.Integer()


class MinutesSchema(ma.Schema):
    session_id = ma.fields.String()
    council_id = ma.fields.String()
    council_name = ma.fields.String()
    date = ma.fields.String()
    total_members = ma.fields.Integer()
    present = ma.fields.Integer()
    absent = ma.fields.Integer()
    present_share = ma.fields.Float()
    quorum = ma.fields.Float()
    members = ma.fields.List(ma.fields.Dict())
    items = ma.fields.List(ma.fields.Dict())
    groups = ma.fields.List(ma.fields.Dict())
    verification = ma.fields.List(ma.fields.Dict(), metadata={"description": "per item: ballots in the box = distinct participations"})
    integrity_warnings = ma.fields.List(ma.fields.String())
    text = ma.fields.String(metadata={"description": "biên bản, plain text in Vietnamese"})
