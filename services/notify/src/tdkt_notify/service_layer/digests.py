"""Digest mode: a unit that asked for it gets one email per day listing all its items (due
reports, overdue reports…) instead of one email each. Intake adds lines to `digests/<unit>:<day>`;
after NOTIFY_DIGEST_HOUR the next morning this job turns each finished day into one email
delivery (`digest:<unit>:<day>`: the same `_id` however often it runs), sent by the dispatcher."""

from __future__ import annotations

from datetime import UTC, datetime

from pymongo.database import Database
from tdkt.clock import TIMEZONE
from tdkt.scheduler import PeriodicJob

from tdkt_notify import settings as notify_settings
from tdkt_notify.domain import templates
from tdkt_notify.service_layer.config import CONFIG
from tdkt_notify.service_layer.intake import DELIVERIES, DIGESTS, QUEUE, unit_of


def send_digests(db: Database, at: datetime | None = None) -> dict[str, int]:
    at = at or datetime.now(UTC)
    local = at.astimezone(TIMEZONE)
    today = local.date().isoformat()
    ready = local.hour >= notify_settings.current().digest_hour
    queued = 0
    for digest in db[DIGESTS].find({"sent": False}):
        if digest["day"] >= today or (not ready and digest["day"] == _yesterday(local)):
            continue  # the day is not over, or it is not yet the hour
        queued += _queue(db, digest, at)
    return {"digests_queued": queued}


def _yesterday(local: datetime) -> str:
    from datetime import timedelta

    return (local.date() - timedelta(days=1)).isoformat()


def _queue(db: Database, digest: dict, at: datetime) -> int:
    at = datetime.now(UTC)  # sent now, whatever clock decided it was time
    delivery_id = f"digest:{digest['_id']}:email"
    unit = unit_of(db, digest.get("unit_id"))
    items = sorted(digest["items"], key=lambda i: i["subject"])
    context = {"recipient": {"name": unit.get("name") or digest["owner"]}, "day": digest["day"], "items": items, "link": f"{notify_settings.current().portal_url}/inbox"}
    content = templates.render(CONFIG.fresh(db).template("digest"), context)
    if db[DELIVERIES].find_one({"_id": delivery_id}, {"_id": 1}) is None:
        db[DELIVERIES].insert_one(
            {
                "_id": delivery_id,
                "event_id": None,
                "event_type": "digest",
                "subject": digest["_id"],
                "recipient": digest["owner"],
                "channel": "email",
                "state": "pending",
                "attempts": [],
                "created_at": at,
                "next_attempt_at": at,
                "address": digest["address"],
                "content": content,
                "items": len(items),
            }
        )
        db[QUEUE].update_one({"_id": delivery_id}, {"$setOnInsert": {"channel": "email", "order": delivery_id, "sequence": [at.isoformat(), 0], "due_at": at}}, upsert=True)
    db[DIGESTS].update_one({"_id": digest["_id"]}, {"$set": {"sent": True, "delivery_id": delivery_id}})  # after the delivery: a crash in between queues it again, idempotently
    return 1


def digest_job() -> PeriodicJob:
    return PeriodicJob("send-digests", 60.0, send_digests)
