"""What notify's API accepts and returns."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate as v
from tdkt.web.pagination import PageArgs

from tdkt_notify.domain.routing import AUDIENCE_KINDS, CHANNELS, ROLES

HHMM = v.Regexp(r"^([01][0-9]|2[0-3]):[0-5][0-9]$", error="HH:MM (00:00–23:59)")


class QuietHoursSchema(ma.Schema):
    start = ma.fields.String(required=True, validate=HHMM, metadata={"example": "22:00"})
    end = ma.fields.String(required=True, validate=HHMM, metadata={"example": "07:00"})


class SubscriptionInputSchema(ma.Schema):
    owner = ma.fields.String(required=True, validate=v.OneOf(["unit", "user"]), metadata={"description": "unit: for a unit (its head or an officer); user: for yourself"})
    unit_id = ma.fields.String(validate=v.Length(min=1, max=100), metadata={"description": "default: your unit"})
    channel = ma.fields.String(required=True, validate=v.OneOf(["email", "webhook"]))
    event_types = ma.fields.List(ma.fields.String(validate=v.Length(min=1, max=100)), load_default=lambda: ["*"], validate=v.Length(min=1, max=100))
    mode = ma.fields.String(load_default="immediate", validate=v.OneOf(["immediate", "digest", "off"]), metadata={"description": "email: at once, one digest a day, or not at all"})
    quiet_hours = ma.fields.Nested(QuietHoursSchema, allow_none=True, load_default=None, metadata={"description": "email only: held until the end (Vietnam time)"})
    email = ma.fields.Email(allow_none=True, load_default=None)
    url = ma.fields.String(allow_none=True, validate=v.Length(max=2000), metadata={"description": "webhook target: https (and public) in production"})
    scope = ma.fields.String(
        load_default="own", validate=v.OneOf(["own", "all"]), metadata={"description": "webhook: own unit's events, or every event of the types (officers, integration)"}
    )
    description = ma.fields.String(allow_none=True, validate=v.Length(max=300))


class SubscriptionSchema(ma.Schema):
    id = ma.fields.String()
    owner = ma.fields.String()
    channel = ma.fields.String()
    event_types = ma.fields.List(ma.fields.String())
    mode = ma.fields.String(allow_none=True)
    quiet_hours = ma.fields.Dict(allow_none=True)
    email = ma.fields.String(allow_none=True)
    url = ma.fields.String(allow_none=True)
    scope = ma.fields.String(allow_none=True)
    description = ma.fields.String(allow_none=True)
    active = ma.fields.Boolean()
    created_by = ma.fields.String()
    created_at = ma.fields.DateTime()
    secret = ma.fields.String(metadata={"description": "webhooks only, and only in the answer to their creation: keep it, it is never shown again"})


class InboxQuery(PageArgs):
    unread = ma.fields.Boolean(load_default=False)


class MessageSchema(ma.Schema):
    id = ma.fields.String()
    title = ma.fields.String()
    text = ma.fields.String()
    event_type = ma.fields.String()
    subject = ma.fields.String(allow_none=True)
    owner = ma.fields.String(metadata={"description": "user:…, unit:… or role:… — whose mailbox it came to"})
    created_at = ma.fields.String()
    read = ma.fields.Boolean()


class InboxPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(MessageSchema))
    page = ma.fields.Integer()
    per_page = ma.fields.Integer()
    total = ma.fields.Integer()
    pages = ma.fields.Integer()
    unread = ma.fields.Integer()


class CountSchema(ma.Schema):
    unread = ma.fields.Integer()


class MarkedSchema(ma.Schema):
    marked = ma.fields.Integer()


class NoBodySchema(ma.Schema):
    pass


class DeliveryQuery(PageArgs):
    event_id = ma.fields.String(validate=v.Length(max=100))
    recipient = ma.fields.String(validate=v.Length(max=200), metadata={"description": "unit:<id>, role:<name>, webhook:<subscription id>"})
    channel = ma.fields.String(validate=v.OneOf(["email", "webhook", "render"]))
    state = ma.fields.String(validate=v.OneOf(["pending", "committing", "retrying", "sent", "dead", "uncertain", "skipped", "digested", "failed"]))


class AttemptSchema(ma.Schema):
    attempt = ma.fields.Integer()
    at = ma.fields.DateTime()
    status = ma.fields.Raw(allow_none=True)
    error = ma.fields.String(allow_none=True)
    latency_ms = ma.fields.Integer(allow_none=True)
    reply = ma.fields.String(allow_none=True)


class DeliverySchema(ma.Schema):
    id = ma.fields.String()
    event_id = ma.fields.String(allow_none=True)
    event_type = ma.fields.String()
    subject = ma.fields.String(allow_none=True)
    recipient = ma.fields.String()
    channel = ma.fields.String()
    address = ma.fields.String(allow_none=True)
    state = ma.fields.String()
    error = ma.fields.String(allow_none=True)
    attempts = ma.fields.List(ma.fields.Nested(AttemptSchema))
    created_at = ma.fields.DateTime()
    next_attempt_at = ma.fields.DateTime(allow_none=True)
    sent_at = ma.fields.DateTime(allow_none=True)
    title = ma.fields.String(allow_none=True, metadata={"description": "an email's subject"})


class AudienceSchema(ma.Schema):
    kind = ma.fields.String(required=True, validate=v.OneOf(AUDIENCE_KINDS))
    from_ = ma.fields.String(data_key="from", validate=v.Length(max=200), metadata={"description": "path to the unit ids in the event, e.g. report.unit_id"})
    role = ma.fields.String(validate=v.OneOf(ROLES))


class DocumentSchema(ma.Schema):
    service = ma.fields.String(required=True, validate=v.OneOf(["awards", "reports", "registry"]))
    path = ma.fields.String(required=True, validate=v.Length(min=1, max=300), metadata={"example": "/decisions/{{ data.decision.id }}/document.docx"})
    filename = ma.fields.String(required=True, validate=v.Length(min=1, max=200))
    content_type = ma.fields.String(required=True, validate=v.Length(min=3, max=200))


class RouteSchema(ma.Schema):
    event_type = ma.fields.String(dump_only=True)
    audiences = ma.fields.List(ma.fields.Nested(AudienceSchema), required=True, validate=v.Length(max=20))
    channels = ma.fields.List(ma.fields.String(validate=v.OneOf(CHANNELS)), required=True, validate=v.Length(max=3))
    template = ma.fields.String(required=True, validate=v.Length(min=1, max=100))
    digestible = ma.fields.Boolean(load_default=False, metadata={"description": "may wait for a unit's daily digest"})
    enabled = ma.fields.Boolean(load_default=True)
    attachments = ma.fields.List(
        ma.fields.Nested(DocumentSchema), load_default=list, validate=v.Length(max=5), metadata={"description": "documents fetched from their service and attached to the email"}
    )


class TemplateSchema(ma.Schema):
    name = ma.fields.String(dump_only=True)
    subject = ma.fields.String(required=True, validate=v.Length(min=1, max=1000))
    txt = ma.fields.String(required=True, validate=v.Length(min=1, max=50000))
    html = ma.fields.String(required=True, validate=v.Length(min=1, max=100000))
    overridden = ma.fields.Boolean(dump_only=True)
    preview = ma.fields.Dict(dump_only=True, metadata={"description": "subject, text and html rendered with a sample event"})


class AnnouncementSchema(ma.Schema):
    id = ma.fields.String()
    event_type = ma.fields.String()
    title = ma.fields.String()
    text = ma.fields.String()
    html = ma.fields.String()
    published_at = ma.fields.String()
