"""The dispatcher: sends what intake recorded — emails over SMTP, webhooks over HTTP — and records
every attempt. It runs as a periodic job in the relay process (`tdkt.scheduler`), ticking often;
each tick hands due queue entries to a pool of workers and returns at once, so one slow or dead
receiver holds one worker, never the others.

One effect per delivery. Each delivery moves through its record in `deliveries`:

    pending ──claim──▶ committing ──reply──▶ sent
                         │   └──4xx / timeout──▶ retrying (backoff with jitter) … ──▶ dead
                         └──5xx / refused────▶ dead

- A worker first *claims* the queue entry (a time-limited CAS on the entry: two dispatchers
  never send the same delivery at once).
- Email: `committing` is written just before the SMTP DATA command (`Mailer.send(before_data=…)`).
  A crash before it: nothing reached the server, the delivery is sent on restart. A crash after
  it and before `sent` is recorded: the server may or may not have the message. Such a delivery
  is NOT sent again (it becomes `uncertain`, visible in the log and re-sendable by an operator):
  the residual risk is a lost email, never a second one. The window is the DATA transfer, the
  server's final reply and one store write.
- Webhook: the same record, but a delivery found `committing` after a crash is sent again with
  the same `X-TDKT-Delivery` id: the receiver, which must deduplicate by it (documented in the
  README), applies it once.
- Order: webhook entries of one subscriber and one aggregate share an `order` key; only the
  earliest entry of a key is sent, and the next waits until it is done (sent or dead).
- Dead letters: a delivery that fails permanently, or keeps failing past NOTIFY_RETRY_FOR_S, is
  `dead`, listed by `/api/v1/deliveries?state=dead`, and announced as DeliveryDead on
  notify.deliveries.v1 (outbox); `tdkt notify resend ID` sends it again.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.database import Database
from tdkt.events.outbox import AlreadyExists, save_aggregate
from tdkt.logs import get_logger
from tdkt.scheduler import PeriodicJob

from tdkt_notify import settings as notify_settings
from tdkt_notify.adapters.documents import DeadLetter
from tdkt_notify.service_layer.intake import DELIVERIES, QUEUE

FINAL = ("sent", "dead", "uncertain", "skipped", "digested", "failed")
log = get_logger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class Channels:
    """The senders, built once per process from the settings (tests pass their own)."""

    def __init__(self, mailer=None, webhooks=None):
        self._mailer, self._webhooks = mailer, webhooks

    @property
    def mailer(self):
        if self._mailer is None:
            from tdkt_notify.adapters.mailer import Mailer, load_smtp_settings

            self._mailer = Mailer(load_smtp_settings())
        return self._mailer

    @property
    def webhooks(self):
        if self._webhooks is None:
            from tdkt_notify.adapters.webhooks import WebhookSender

            config = notify_settings.current()
            self._webhooks = WebhookSender(production=config.production, timeout_s=config.webhook_timeout_s)
        return self._webhooks


class Dispatcher:
    def __init__(self, db: Database, channels: Channels | None = None, workers: int | None = None):
        self.db = db
        self.channels = channels or Channels()
        self.workers = workers or notify_settings.current().dispatch_workers
        self.pool = ThreadPoolExecutor(self.workers, thread_name_prefix="dispatch")
        self.in_flight: set[str] = set()
        self.lock = threading.Lock()
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"

    def tick(self, db: Database | None = None) -> dict[str, int]:
        """Hand every due head-of-order entry not already in flight to a worker; return at once."""
        with self.lock:
            if len(self.in_flight) >= self.workers:  # all busy: the queue scan (a full scan on FerretDB) would be wasted
                return {"queued": -1, "started": 0}
        now = _now()
        heads: dict[str, dict[str, Any]] = {}
        for entry in self.db[QUEUE].find({}):
            current = heads.get(entry["order"])
            if current is None or list(entry["sequence"]) < list(current["sequence"]):
                heads[entry["order"]] = entry
        started = 0
        for order, entry in heads.items():
            if _aware(entry["due_at"]) > now or (_aware(entry.get("claimed_until")) or now) > now:
                continue
            with self.lock:
                if order in self.in_flight:
                    continue
                self.in_flight.add(order)
            self.pool.submit(self._work, order, entry["_id"])
            started += 1
        return {"queued": len(heads), "started": started}

    def drain(self, timeout: float = 30.0) -> None:
        """Tick until the queue is empty or only holds entries due later (tests, benchmarks)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.tick()
            with self.lock:
                busy = bool(self.in_flight)
            due = any(_aware(e["due_at"]) <= _now() for e in self.db[QUEUE].find({}, {"due_at": 1}))
            if not busy and not due:
                return
            time.sleep(0.05)
        raise TimeoutError("the delivery queue did not drain")

    def _work(self, order: str, delivery_id: str) -> None:
        try:
            self.process(delivery_id)
        except Exception:
            log.exception("delivery attempt failed unexpectedly; retried at the claim's expiry", delivery=delivery_id)
        finally:
            with self.lock:
                self.in_flight.discard(order)

    # --- one delivery ------------------------------------------------------------------------

    def process(self, delivery_id: str) -> str | None:
        now = _now()
        claimed = self.db[QUEUE].find_one_and_update(
            {"_id": delivery_id, "$or": [{"claimed_until": None}, {"claimed_until": {"$lt": now}}]},
            {"$set": {"claimed_until": now + timedelta(seconds=notify_settings.current().claim_s), "claimed_by": self.holder}},
        )
        if claimed is None:
            return None  # another dispatcher has it, or it is gone
        delivery = self.db[DELIVERIES].find_one({"_id": delivery_id})
        if delivery is None or delivery["state"] in FINAL:
            self.db[QUEUE].delete_one({"_id": delivery_id})
            return delivery and delivery["state"]
        if delivery["state"] == "committing" and delivery["channel"] == "email":
            # a crash in the middle of the SMTP conversation: the server may have it; never a second email
            self._finish(delivery_id, "uncertain", error="interrupted during the SMTP DATA phase: may or may not have been delivered; not resent (an operator may)")
            return "uncertain"
        attempt = len(delivery.get("attempts") or ()) + 1
        started = time.monotonic()
        if delivery["channel"] == "email":
            outcome = self._email(delivery)
        else:
            outcome = self._webhook(delivery)
        outcome["latency_ms"] = int((time.monotonic() - started) * 1000)
        outcome["at"], outcome["attempt"] = _now(), attempt
        return self._record(delivery, outcome)

    def _committing(self, delivery_id: str) -> None:
        self.db[DELIVERIES].update_one({"_id": delivery_id}, {"$set": {"state": "committing", "committing_at": _now()}})

    def _email(self, delivery: dict[str, Any]) -> dict[str, Any]:
        from tdkt_notify.adapters.mailer import PermanentFailure, TemporaryFailure, build_message

        content = delivery["content"]
        try:
            files = self._attachments(delivery)
        except TemporaryFailure as exc:
            return {"status": "temporary", "error": str(exc), "retryable": True}
        message = build_message(
            to=[delivery["address"]],
            subject=content["subject"],
            text=content["text"],
            html=content.get("html"),
            message_id=delivery["_id"].replace(":", "."),
            mail_from=self.channels.mailer.settings.mail_from,
            attachments=files,
        )
        try:
            reply = self.channels.mailer.send(message, before_data=lambda: self._committing(delivery["_id"]))
        except TemporaryFailure as exc:
            return {"status": "temporary", "error": str(exc), "retryable": True}
        except PermanentFailure as exc:
            return {"status": "permanent", "error": str(exc), "retryable": False}
        return {"status": "accepted", "reply": str(reply)[:300], "retryable": False, "accepted": True}

    def _attachments(self, delivery: dict[str, Any]) -> list[tuple[str, str, bytes]]:
        from tdkt_notify.adapters import documents_client

        files = []
        for document in delivery.get("documents") or ():
            if documents_client.configured(document["service"]):
                files.append((document["filename"], document["content_type"], documents_client.fetch(document["service"], document["path"])))
            else:
                log.warning("attachment left out: its service is not configured for notify", delivery=delivery["_id"], path=document["path"])
        return files

    def _webhook(self, delivery: dict[str, Any]) -> dict[str, Any]:
        subscription = self.db["subscriptions"].find_one({"_id": delivery["subscription_id"]})
        if subscription is None or not subscription.get("active", True):
            return {"status": "cancelled", "error": "the webhook subscription was removed", "retryable": False}
        self._committing(delivery["_id"])
        result = self.channels.webhooks.send(subscription["url"], subscription["secret"], delivery["_id"], delivery["event_type"], delivery["body"].encode())
        return {"status": result.status_code, "error": result.error, "retryable": result.retryable, "accepted": result.accepted, "latency_ms": result.latency_ms}

    def _record(self, delivery: dict[str, Any], outcome: dict[str, Any]) -> str:
        delivery_id = delivery["_id"]
        attempt = {k: outcome.get(k) for k in ("attempt", "at", "status", "error", "latency_ms", "reply")}
        if outcome.get("accepted"):
            return self._finish(delivery_id, "sent", attempt=attempt)
        age = (_now() - _aware(delivery["created_at"])).total_seconds()
        config = notify_settings.current()
        if outcome["retryable"] and age < config.retry_for_s:
            from tdkt_notify.adapters.webhooks import backoff_s

            due = _now() + timedelta(seconds=backoff_s(outcome["attempt"], base_s=config.retry_base_s))
            self.db[DELIVERIES].update_one(
                {"_id": delivery_id}, {"$set": {"state": "retrying", "next_attempt_at": due, "error": outcome.get("error")}, "$push": {"attempts": attempt}}
            )
            self.db[QUEUE].update_one({"_id": delivery_id}, {"$set": {"due_at": due, "claimed_until": None}})
            return "retrying"
        return self._finish(delivery_id, "dead", attempt=attempt, error=outcome.get("error") or f"status {outcome.get('status')}")

    def _finish(self, delivery_id: str, state: str, attempt: dict[str, Any] | None = None, error: str | None = None) -> str:
        update: dict[str, Any] = {"$set": {"state": state, "finished_at": _now(), **({"error": error} if error else {})}}
        if attempt:
            update["$push"] = {"attempts": attempt}
        if state == "sent":
            update["$set"]["sent_at"] = _now()
        self.db[DELIVERIES].update_one({"_id": delivery_id}, update)
        if state in ("dead", "uncertain"):
            _dead_letter(self.db, delivery_id, state, error)
        self.db[QUEUE].delete_one({"_id": delivery_id})  # last: until here a restart finds it and finishes this
        return state


def _dead_letter(db: Database, delivery_id: str, state: str, error: str | None) -> None:
    from tdkt_notify.adapters.events import DELIVERY_DEAD

    delivery = db[DELIVERIES].find_one({"_id": delivery_id}, {"content": 0, "body": 0}) or {}
    letter = DeadLetter(id=delivery_id, state=state, error=error, channel=delivery.get("channel"), recipient=delivery.get("recipient"), event_id=delivery.get("event_id"))
    letter.record(
        DELIVERY_DEAD,
        {
            "delivery": {
                "id": delivery_id,
                "state": state,
                "channel": delivery.get("channel"),
                "recipient": delivery.get("recipient"),
                "event_id": delivery.get("event_id"),
                "event_type": delivery.get("event_type"),
                "attempts": len(delivery.get("attempts") or ()),
                "error": error,
            }
        },
    )
    try:
        save_aggregate(letter)
    except AlreadyExists:
        pass  # a finish repeated after a crash: announced once


def resend(db: Database, delivery_id: str, by: str) -> dict[str, Any] | None:
    """An operator's explicit re-send (also of a sent or uncertain one: that is their call)."""
    delivery = db[DELIVERIES].find_one({"_id": delivery_id}, {"channel": 1, "state": 1, "subscription_id": 1, "event_id": 1})
    if delivery is None or delivery["channel"] not in ("email", "webhook"):
        return None
    now = _now()
    db[DELIVERIES].update_one(
        {"_id": delivery_id}, {"$set": {"state": "pending", "next_attempt_at": now}, "$push": {"resends": {"by": by, "at": now, "from_state": delivery["state"]}}}
    )
    order = delivery_id if delivery["channel"] == "email" else f"{delivery['subscription_id']}:{delivery_id}"
    db[QUEUE].update_one(
        {"_id": delivery_id}, {"$set": {"channel": delivery["channel"], "order": order, "sequence": [now.isoformat(), 0], "due_at": now, "claimed_until": None}}, upsert=True
    )
    return db[DELIVERIES].find_one({"_id": delivery_id})


_DISPATCHERS: dict[int, Dispatcher] = {}


def dispatch_job() -> PeriodicJob:
    def run(db: Database) -> dict[str, int]:
        dispatcher = _DISPATCHERS.get(id(db))
        if dispatcher is None:
            dispatcher = _DISPATCHERS[id(db)] = Dispatcher(db)
        return dispatcher.tick()

    return PeriodicJob("dispatch-deliveries", 0.25, run)
