"""The consumer runner: at-least-once delivery from Kafka, effectively-once effects.

For each polled batch:
1. parse every record's envelope (a record that is not a valid event is poison: straight to the
   dead-letter topic);
2. *claim* the batch's event ids with one `insert_many` under the unique `_id` index of
   `processed_events` (`<group>:<event id>`); an id that is already there was seen before, and is
   skipped if the batch that claimed it finished, or re-handled if that batch died midway;
3. run each event's handler, retrying failures with backoff; after `max_attempts` the record goes
   to `<topic>.dlq` with its origin and error in headers (and its claim is released, so a
   re-drive handles it again); while the store itself is unreachable nothing is given up:
   the batch waits and retries;
4. write the batch's done marker, then commit the offsets — only now, after the effects.

A process killed anywhere re-reads from the last commit; claims make the replay a no-op, except
for a batch killed between a handler's effect and the done marker, whose handlers run again:
that is why handlers also guard on domain state (the event's `sequence`, or a state machine).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from kafka import KafkaConsumer, KafkaProducer, OffsetAndMetadata, TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import CommitFailedError, KafkaError
from marshmallow import EXCLUDE, Schema, ValidationError
from pymongo.database import Database
from pymongo.errors import BulkWriteError

from tdkt.events.envelope import EnvelopeError, Event
from tdkt.events.status import write_status
from tdkt.events.topics import DLQ_SUFFIX
from tdkt.logs import get_logger
from tdkt.settings import ConsumerSettings
from tdkt.store import STORE_UNAVAILABLE
from tdkt.tracing import current_traceparent, parse_traceparent

log = get_logger(__name__)
CLAIMS = "processed_events"


@dataclass
class HandlerContext:
    """What a handler gets beside the event: the service's database and the loaded payload."""

    db: Database
    data: dict[str, Any]
    attempt: int


Handler = Callable[[Event, HandlerContext], None]


@dataclass(frozen=True)
class Subscription:
    """One event type this consumer group handles: the topic it arrives on, the handler, and
    the tolerant-reader schema (declares only the fields it uses, ignores the rest)."""

    event_type: str
    topic: str
    handler: Handler
    schema: type[Schema] | None = None


def combine(subscriptions: list[Subscription]) -> list[Subscription]:
    """One subscription per event type, as a consumer group needs: where several features of a
    service react to the same event (nominations moving on and the ledger booking an issued
    decision), their handlers run one after the other, in the order given. Handlers are idempotent
    anyway (at-least-once delivery), which is what makes this safe: a failure of a later handler
    retries the event, and runs the earlier ones again."""
    by_type: dict[str, list[Subscription]] = {}
    for sub in subscriptions:
        by_type.setdefault(sub.event_type, []).append(sub)
    combined = []
    for event_type, subs in by_type.items():
        if len({(s.topic, s.schema) for s in subs}) > 1:
            raise ValueError(f"{event_type}: handlers combined for one event type need the same topic and schema")
        combined.append(subs[0] if len(subs) == 1 else Subscription(event_type, subs[0].topic, _in_turn([s.handler for s in subs]), subs[0].schema))
    return combined


def _in_turn(handlers: list[Handler]) -> Handler:
    def handle(event: Event, ctx: HandlerContext) -> None:
        for handler in handlers:
            handler(event, ctx)

    return handle


@dataclass
class _Item:
    record: Any
    event: Event | None = None
    error: str | None = None  # poison: why the record cannot be handled
    skip: bool = False
    attempts: int = 0
    claim_id: str | None = None
    handled: bool = False
    dead_lettered: bool = False


class _Listener(ConsumerRebalanceListener):
    def on_partitions_revoked(self, revoked):
        # Batches are handled and committed inside the poll loop, so nothing is in flight here.
        log.info("partitions revoked", partitions=sorted(f"{tp.topic}-{tp.partition}" for tp in revoked))

    def on_partitions_assigned(self, assigned):
        log.info("partitions assigned", partitions=sorted(f"{tp.topic}-{tp.partition}" for tp in assigned))


@dataclass
class ConsumerRunner:
    db: Database
    consumer: KafkaConsumer
    producer: KafkaProducer
    group_id: str
    subscriptions: list[Subscription]
    settings: ConsumerSettings
    sleep: Callable[[float], None] = time.sleep
    processed_total: int = 0
    dead_lettered_total: int = 0
    _stopping: threading.Event = field(default_factory=threading.Event)
    _next_status: float = 0.0

    def __post_init__(self):
        self.by_type = {s.event_type: s for s in self.subscriptions}
        if len(self.by_type) != len(self.subscriptions):
            raise ValueError("one handler per event type and consumer group")
        self.topics = sorted({s.topic for s in self.subscriptions})

    # -- the loop ------------------------------------------------------------------------------
    def start(self) -> None:
        self.consumer.subscribe(self.topics, listener=_Listener())

    def run(self) -> None:
        self.start()
        log.info("consumer started", group=self.group_id, topics=self.topics)
        while not self._stopping.is_set():
            self.poll_once()
            self.report_status()
        self.consumer.close(autocommit=False)
        log.info("consumer stopped", processed_total=self.processed_total, dead_lettered_total=self.dead_lettered_total)

    def stop(self) -> None:
        self._stopping.set()

    def poll_once(self, timeout_ms: int = 500) -> int:
        try:
            polled = self.consumer.poll(timeout_ms=timeout_ms, max_records=self.settings.max_poll_records)
        except KafkaError as exc:
            # The broker is away (a restart): finding the group's coordinator again fails with a
            # connection error. Nothing was handled, nothing is lost; poll again once it is back.
            # A lasting error (e.g. not authorised) still ends the process, loudly.
            if not exc.retriable:
                raise
            log.warning("poll failed, broker unreachable; polling again", error=str(exc))
            self._stopping.wait(1.0)
            return 0
        records = [r for tp in sorted(polled, key=lambda t: (t.topic, t.partition)) for r in polled[tp]]
        if not records:
            return 0
        if not self.process(records):
            return 0  # stopping midway: nothing committed, the records come again
        offsets = {}
        for r in records:
            offsets[TopicPartition(r.topic, r.partition)] = OffsetAndMetadata(r.offset + 1, "", -1)
        try:
            self.consumer.commit(offsets)
        except CommitFailedError as exc:
            # The group rebalanced while we worked (e.g. past max_poll_interval_ms): another
            # member will get these records again, and the claims make that a no-op.
            log.warning("offset commit refused after a rebalance; records will be redelivered", error=str(exc))
        except KafkaError as exc:
            # The broker is away (a restart): the effects and their claims are stored, so a later
            # commit covers these offsets, or the records come again and are no-ops. Dying here
            # would leave the service without a consumer until someone restarted it.
            log.warning("offset commit failed, broker unreachable; a later commit covers these records", error=str(exc))
            self._stopping.wait(1.0)
        return len(records)

    # -- one batch -----------------------------------------------------------------------------
    def process(self, records: list) -> bool:
        """Handle a batch to completion; False if asked to stop before it was finished."""
        items = [self._parse(r) for r in records]
        batch = uuid.uuid4().hex
        while not self._stopping.is_set():
            try:
                self._claim(items, batch)
                for item in items:
                    if not item.skip and item.error is None and not item.handled:
                        self._handle(item)
                dead = [i for i in items if i.error is not None and not i.skip and not i.dead_lettered]
                if dead:
                    self._dead_letter(dead)
                self.db[CLAIMS].insert_one({"_id": f"{self.group_id}:batch:{batch}", "at": datetime.now(UTC)})
                self.processed_total += sum(1 for i in items if not i.skip and i.error is None)
                return True
            except STORE_UNAVAILABLE as exc:
                log.warning("document store unreachable; the batch waits", error=str(exc))
                self._stopping.wait(1.0)
            except KafkaError as exc:  # a dead letter could not be stored: the broker is away
                log.warning("dead-letter topic unreachable; the batch waits", error=str(exc))
                self._stopping.wait(1.0)
        return False

    def _parse(self, record) -> _Item:
        try:
            event = Event.from_kafka(record.topic, record.key, record.value, list(record.headers or []))
        except EnvelopeError as exc:
            return _Item(record, error=f"EnvelopeError: {exc}")
        if event.type not in self.by_type:
            return _Item(record, event=event, skip=True)  # tolerant reader: not ours to handle
        return _Item(record, event=event)

    def _claim(self, items: list[_Item], batch: str) -> None:
        fresh = [i for i in items if i.event is not None and not i.skip and i.claim_id is None]
        for item in fresh:
            item.claim_id = f"{self.group_id}:{item.event.id}"
        if not fresh:
            return
        now = datetime.now(UTC)
        docs = [{"_id": i.claim_id, "batch": batch, "at": now} for i in fresh]
        try:
            self.db[CLAIMS].insert_many(docs, ordered=False)
            return
        except BulkWriteError as exc:
            taken = {docs[e["index"]]["_id"] for e in exc.details["writeErrors"] if e.get("code") == 11000}
            others = [e for e in exc.details["writeErrors"] if e.get("code") != 11000]
            if others:
                raise RuntimeError(f"claiming events failed: {others[0].get('errmsg')}") from None
        for item in fresh:
            if item.claim_id not in taken:
                continue
            earlier = self.db[CLAIMS].find_one({"_id": item.claim_id})
            if earlier is None:  # released meanwhile (dead-lettered elsewhere): claim it now
                self.db[CLAIMS].update_one({"_id": item.claim_id}, {"$setOnInsert": {"batch": batch, "at": now}}, upsert=True)
                continue
            if earlier.get("batch") == batch:
                continue  # a duplicate within this very batch (kept once below)
            if self.db[CLAIMS].find_one({"_id": f"{self.group_id}:batch:{earlier['batch']}"}):
                item.skip = True  # handled and finished before: the at-least-once duplicate
            else:
                # Claimed by a batch that never finished (its process died): handle it again,
                # under this batch, relying on the handler's own state guard for its effect.
                self.db[CLAIMS].update_one({"_id": item.claim_id}, {"$set": {"batch": batch}})
        seen: set[str] = set()
        for item in fresh:  # the same event twice in one batch (a republish): handle it once
            if not item.skip and item.claim_id in seen:
                item.skip = True
            seen.add(item.claim_id)

    def _handle(self, item: _Item) -> None:
        sub = self.by_type[item.event.type]
        token = current_traceparent.set(item.event.traceparent)
        trace = parse_traceparent(item.event.traceparent)
        structlog.contextvars.bind_contextvars(event_id=item.event.id, event_type=item.event.type, trace_id=trace.trace_id if trace else None)
        try:
            try:
                data = sub.schema(unknown=EXCLUDE).load(item.event.data) if sub.schema else item.event.data
            except ValidationError as exc:
                item.error = f"ValidationError: payload does not match {sub.schema.__name__}: {exc.messages}"
                return
            while True:
                item.attempts += 1
                try:
                    sub.handler(item.event, HandlerContext(self.db, data, item.attempts))
                    item.handled = True
                    return
                except STORE_UNAVAILABLE:
                    item.attempts -= 1  # the store being down is not the event's fault
                    raise
                except Exception as exc:
                    if item.attempts >= self.settings.max_attempts:
                        item.error = f"{exc.__class__.__name__}: {exc}"
                        log.error("handler failed for good; dead-lettering", attempts=item.attempts, error=item.error)
                        return
                    delay = self.settings.retry_backoff_ms / 1000 * 2 ** (item.attempts - 1)
                    log.warning("handler failed; retrying", attempt=item.attempts, error=str(exc), retry_in_s=delay)
                    self.sleep(delay)
        finally:
            current_traceparent.reset(token)
            structlog.contextvars.unbind_contextvars("event_id", "event_type", "trace_id")

    def _dead_letter(self, dead: list[_Item]) -> None:
        futures = []
        failed_at = datetime.now(UTC).isoformat().encode()
        for item in dead:
            r = item.record
            headers = [(k, v) for k, v in (r.headers or []) if not k.startswith("dlq_")]
            headers += [
                ("dlq_origin_topic", r.topic.encode()),
                ("dlq_origin_partition", str(r.partition).encode()),
                ("dlq_origin_offset", str(r.offset).encode()),
                ("dlq_group", self.group_id.encode()),
                ("dlq_error", item.error.encode("utf-8", "replace")[:4000]),
                ("dlq_attempts", str(item.attempts).encode()),
                ("dlq_failed_at", failed_at),
            ]
            futures.append(self.producer.send(r.topic + DLQ_SUFFIX, key=r.key, value=r.value, headers=headers))
        for future in futures:
            future.get(timeout=30)  # the dead letter must be stored before the offset moves on
        for item in dead:
            item.dead_lettered = True
            if item.claim_id:  # a re-drive brings the same event id back: let it be handled
                self.db[CLAIMS].delete_one({"_id": item.claim_id})
        self.dead_lettered_total += len(dead)
        log.error("records dead-lettered", count=len(dead), topics=sorted({i.record.topic for i in dead}))

    # -- how far behind ------------------------------------------------------------------------
    def report_status(self, force: bool = False) -> None:
        if not force and time.monotonic() < self._next_status:
            return
        self._next_status = time.monotonic() + 5.0
        try:
            assigned = list(self.consumer.assignment())
            ends = self.consumer.end_offsets(assigned) if assigned else {}
            # A list, not a dict keyed by "topic-partition": topic names contain dots, which
            # are not allowed in document keys.
            lag = [{"topic": tp.topic, "partition": tp.partition, "lag": max(0, ends.get(tp, 0) - self.consumer.position(tp))} for tp in assigned]
        except KafkaError as exc:
            log.warning("could not read consumer lag", error=str(exc))
            return
        write_status(
            self.db,
            f"consumer:{self.group_id}",
            {
                "kind": "consumer",
                "group": self.group_id,
                "lag": lag,
                "total_lag": sum(p["lag"] for p in lag),
                "processed_total": self.processed_total,
                "dead_lettered_total": self.dead_lettered_total,
                "heartbeat_at": datetime.now(UTC),
            },
        )
