"""From an event to what must be delivered — the consumer's side. Nothing is sent here: each
(event, recipient, channel) becomes a record whose `_id` is exactly that triple, so a re-delivered
or replayed event, a rebalance or a crash before the offset commit finds its records in place
and adds nothing (one effect per event, recipient and channel):

- inbox: the message itself (`inbox_messages/<event>:<recipient>`) and its entry in the owner's
  mailbox (`$addToSet`);
- public: the announcement (`announcements/<event>`);
- email and webhook: the intent in the delivery log (`deliveries/<event>:<recipient>:<channel>`,
  state `pending`, the rendered message inside) and a queue entry the dispatcher sends from
  (`delivery_queue`, same `_id`, written second: the log is the truth, the queue is rebuilt from
  it if a crash fell in between);
- digest: a line in the unit's digest of the day (`digests/<unit>:<day>`, `$addToSet`).

Units, movements and their contacts come from the registry's events (`tdkt.events.copies`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from jinja2 import TemplateError
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError
from tdkt.clock import TIMEZONE
from tdkt.events.consumer import HandlerContext, Subscription
from tdkt.events.copies import Stale, apply_copy, mark_applied
from tdkt.events.envelope import Event
from tdkt.logs import get_logger

from tdkt_notify import settings as notify_settings
from tdkt_notify.adapters.events import ROUTABLE, UNIT_TYPES
from tdkt_notify.domain import routing, templates
from tdkt_notify.domain.routing import Recipient
from tdkt_notify.service_layer.config import CONFIG, Config

UNITS, DELIVERIES, QUEUE, DIGESTS = "unit_views", "deliveries", "delivery_queue", "digests"
MESSAGES, MAILBOXES, ANNOUNCEMENTS = "inbox_messages", "mailboxes", "announcements"
MAILBOX_MARKS = "mailbox_marks"  # `<owner>` → `n`, moved with every entry: the API re-reads a mailbox only when it moves
STATE_LABELS = {
    "submitted": "đã gửi, chờ thẩm định",
    "returned": "bị trả lại để bổ sung",
    "appraised": "đã thẩm định",
    "approved": "Hội đồng đồng ý",
    "rejected": "không được khen thưởng",
    "proposed": "đã trình cấp tỉnh",
    "decided": "đã có quyết định khen thưởng",
    "revoked": "bị thu hồi",
}
ROLE_LABELS = {
    "tdkt_officer": "Cơ quan thường trực TĐKT",
    "council_member": "Thành viên Hội đồng",
    "finance_officer": "Bộ phận tài chính",
    "communications": "Bộ phận truyền thông",
}
log = get_logger(__name__)


def now() -> datetime:
    return datetime.now(UTC)


# --- copies of the registry ------------------------------------------------------------------


def on_unit(event: Event, ctx: HandlerContext) -> None:
    unit = ctx.data["unit"]
    fields = {"name": unit.get("name"), "parent_id": unit.get("parent_id"), "kind": unit.get("kind"), "contacts": unit.get("contacts") or {}, "valid_to": unit.get("valid_to")}
    try:
        apply_copy(ctx.db, UNITS, event.subject, event.sequence or 0, fields)
    except Stale:
        return
    mark_applied(ctx.db, "units", event)


def unit_of(db: Database, unit_id: str | None) -> dict[str, Any]:
    return (db[UNITS].find_one({"_id": unit_id}) if unit_id else None) or {}


# --- the consumer -----------------------------------------------------------------------------


def on_event(event: Event, ctx: HandlerContext) -> None:
    config = CONFIG.fresh(ctx.db)
    rule = config.routes.get(event.type)
    if rule is None or not rule.get("enabled", True):
        return
    route(ctx.db, config, rule, event, ctx.data)


def route(db: Database, config: Config, rule: dict[str, Any], event: Event, data: dict[str, Any]) -> dict[str, int]:
    counts = {"inbox": 0, "email": 0, "webhook": 0, "public": 0}
    recipients = routing.recipients(rule, data, lambda u: unit_of(db, u).get("parent_id"))
    for recipient in recipients:
        try:
            message = render(db, config, rule["template"], event, data, recipient)
        except TemplateError as exc:  # a broken override must not stop the partition: the failure is logged and visible
            _record_failure(db, event, recipient, f"template {rule['template']}: {exc}")
            continue
        if recipient.key == "public":
            counts["public"] += _announce(db, event, message)
            continue
        if "inbox" in rule["channels"]:
            counts["inbox"] += deliver_inbox(db, event, recipient.key, message)
        if "email" in rule["channels"]:
            documents = _documents(rule, context(db, event, data, recipient))
            counts["email"] += _email_intent(db, config, rule, event, recipient, message, documents)
    if "webhook" in rule["channels"]:
        units = {r.unit_id for r in recipients if r.unit_id}
        for subscription in config.webhooks_for(event.type):
            if subscription.get("scope") == "all" or subscription["owner"].removeprefix("unit:") in units:
                counts["webhook"] += _webhook_intent(db, event, subscription)
    return counts


def context(db: Database, event: Event, data: dict[str, Any], recipient: Recipient) -> dict[str, Any]:
    if recipient.unit_id:
        name = unit_of(db, recipient.unit_id).get("name") or recipient.unit_id
    else:
        name = ROLE_LABELS.get(recipient.key.removeprefix("role:"), "Quý cơ quan, đơn vị")
    return {
        "event": {"id": event.id, "type": event.type, "subject": event.subject, "time": event.time.isoformat()},
        "data": data,
        "recipient": {"key": recipient.key, "name": name, "unit_id": recipient.unit_id},
        "link": f"{notify_settings.current().portal_url}/inbox",
        "unit_name": lambda unit_id: unit_of(db, unit_id).get("name") or unit_id,
        "state_label": lambda state: STATE_LABELS.get(state, state),
    }


def render(db: Database, config: Config, name: str, event: Event, data: dict[str, Any], recipient: Recipient) -> dict[str, str]:
    return templates.render(config.template(name), context(db, event, data, recipient))


# --- inbox and announcements ---------------------------------------------------------------------


def deliver_inbox(db: Database, event: Event, owner: str, message: dict[str, str]) -> int:
    message_id = f"{event.id}:{owner}"
    created = event.time.isoformat()
    try:
        db[MESSAGES].insert_one(
            {
                "_id": message_id,
                "owner": owner,
                "event_id": event.id,
                "event_type": event.type,
                "subject": event.subject,
                "title": message["subject"],
                "text": message["text"],
                "created_at": created,
            }
        )
    except DuplicateKeyError:
        pass  # a replay: the mailbox entry below is idempotent too
    db[MAILBOXES].update_one({"_id": owner}, {"$addToSet": {"entries": f"{created}|{message_id}"}}, upsert=True)
    # after the entry, so a reader never keeps the mailbox as it was under the new mark; a crash in
    # between is mended by the redelivery (a mark moved for nothing only costs the API a re-read)
    db[MAILBOX_MARKS].update_one({"_id": owner}, {"$inc": {"n": 1}}, upsert=True)
    return 1


def _announce(db: Database, event: Event, message: dict[str, str]) -> int:
    try:
        db[ANNOUNCEMENTS].insert_one(
            {"_id": event.id, "event_type": event.type, "title": message["subject"], "text": message["text"], "html": message["html"], "published_at": event.time.isoformat()}
        )
    except DuplicateKeyError:
        return 0
    return 1


# --- email and webhook intents --------------------------------------------------------------------


def _preference(config: Config, owner: str, event_type: str) -> dict[str, Any]:
    found = config.subscriptions_of(owner, "email", event_type)
    return found[0] if found else {"mode": "immediate"}


def _address(config: Config, db: Database, recipient: Recipient) -> str | None:
    if recipient.unit_id:
        return (unit_of(db, recipient.unit_id).get("contacts") or {}).get("email")
    return notify_settings.current().role_emails.get(recipient.key.removeprefix("role:"))


def _documents(rule: dict[str, Any], ctx: dict[str, Any]) -> list[dict[str, str]]:
    """The documents the rule attaches, their path and name rendered with the event's data
    (fetched by the dispatcher from the service that owns them)."""
    return [
        {
            "service": d["service"],
            "path": templates.PLAIN.from_string(d["path"]).render(ctx),
            "filename": templates.PLAIN.from_string(d["filename"]).render(ctx),
            "content_type": d["content_type"],
        }
        for d in rule.get("attachments") or ()
    ]


def _email_intent(db: Database, config: Config, rule: dict[str, Any], event: Event, recipient: Recipient, message: dict[str, str], documents: list[dict[str, str]]) -> int:
    preference = _preference(config, recipient.key, event.type)
    if preference.get("mode") == "off":
        return 0
    address = preference.get("email") or _address(config, db, recipient)
    if not address:
        if recipient.unit_id:  # a unit the registry has no email for: say so in the log, nothing to send
            _log(db, f"{event.id}:{recipient.key}:email", event, recipient.key, "email", state="skipped", error="no email address in the registry")
        return 0
    if preference.get("mode") == "digest" and rule.get("digestible"):
        return _add_to_digest(db, event, recipient, address, message)
    due = _after_quiet_hours(now(), preference.get("quiet_hours"))
    delivery_id = f"{event.id}:{recipient.key}:email"
    _log(db, delivery_id, event, recipient.key, "email", address=address, content=message, documents=documents, due_at=due)
    _enqueue(db, delivery_id, "email", delivery_id, due)
    return 1


def _webhook_intent(db: Database, event: Event, subscription: dict[str, Any]) -> int:
    recipient = f"webhook:{subscription['_id']}"
    delivery_id = f"{event.id}:{recipient}:webhook"
    body = json.dumps(
        {
            "specversion": "1.0",
            "id": event.id,
            "type": event.type,
            "source": event.source,
            "subject": event.subject,
            "time": event.time.isoformat(),
            "sequence": event.sequence,
            "data": event.data,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
    # one receiver, one aggregate: sent in event order (the dispatcher sends a key's entries one by one)
    order = f"{subscription['_id']}:{event.subject}"
    _log(db, delivery_id, event, recipient, "webhook", address=subscription["url"], body=body, due_at=now(), subscription_id=subscription["_id"])
    _enqueue(db, delivery_id, "webhook", order, now(), sequence=[event.time.isoformat(), event.sequence or 0])
    return 1


def _log(db: Database, delivery_id: str, event: Event, recipient: str, channel: str, *, state: str = "pending", due_at: datetime | None = None, **fields: Any) -> bool:
    try:
        db[DELIVERIES].insert_one(
            {
                "_id": delivery_id,
                "event_id": event.id,
                "event_type": event.type,
                "subject": event.subject,
                "recipient": recipient,
                "channel": channel,
                "state": state,
                "attempts": [],
                "created_at": now(),
                "next_attempt_at": due_at,
                **fields,
            }
        )
        return True
    except DuplicateKeyError:
        return False


def _enqueue(db: Database, delivery_id: str, channel: str, order: str, due: datetime, sequence: list | None = None) -> None:
    """The queue entry of a pending delivery (idempotent: a replay finds it, or recreates it if a
    crash fell between the log and the queue — unless the log says it is already done)."""
    found = db[DELIVERIES].find_one({"_id": delivery_id}, {"state": 1})
    if found is None or found["state"] not in ("pending", "retrying", "committing"):
        return
    db[QUEUE].update_one({"_id": delivery_id}, {"$setOnInsert": {"channel": channel, "order": order, "sequence": sequence or [due.isoformat(), 0], "due_at": due}}, upsert=True)


def _record_failure(db: Database, event: Event, recipient: Recipient, error: str) -> None:
    log.error("message not rendered", event_id=event.id, recipient=recipient.key, error=error)
    _log(db, f"{event.id}:{recipient.key}:render", event, recipient.key, "render", state="failed", error=error)


def _after_quiet_hours(at: datetime, quiet: dict[str, str] | None) -> datetime:
    """`at`, or the end of the recipient's quiet hours (local time, may span midnight) if inside them."""
    if not quiet:
        return at
    local = at.astimezone(TIMEZONE)
    start, end = (datetime.strptime(quiet[k], "%H:%M").time() for k in ("start", "end"))
    clock = local.time()
    inside = start <= clock < end if start < end else clock >= start or clock < end
    if not inside:
        return at
    ends = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if ends <= local:
        ends += timedelta(days=1)
    return ends.astimezone(UTC)


# --- digests -------------------------------------------------------------------------------------


def _add_to_digest(db: Database, event: Event, recipient: Recipient, address: str, message: dict[str, str]) -> int:
    """Into the digest of the day it is processed (a digest already sent is never added to)."""
    delivery_id = f"{event.id}:{recipient.key}:email"
    if db[DELIVERIES].find_one({"_id": delivery_id}, {"_id": 1}) is not None:
        return 0  # a replay: already in a digest
    day = now().astimezone(TIMEZONE).date().isoformat()
    db[DIGESTS].update_one(
        {"_id": f"{recipient.key}:{day}"},
        {
            "$setOnInsert": {"owner": recipient.key, "unit_id": recipient.unit_id, "day": day, "address": address, "sent": False},
            "$addToSet": {"items": {"event_id": event.id, "subject": message["subject"]}},
        },
        upsert=True,
    )
    _log(
        db, delivery_id, event, recipient.key, "email", state="digested", address=address, digest=f"{recipient.key}:{day}"
    )  # second: a crash in between adds the same line again, which $addToSet ignores
    return 1


def subscriptions() -> list[Subscription]:
    return [Subscription(t, "registry.units.v1", on_unit) for t in UNIT_TYPES] + [Subscription(t, topic, on_event) for t, topic in ROUTABLE.items()]
