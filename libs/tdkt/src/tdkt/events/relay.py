"""The outbox relay: publishes pending events in order per aggregate, then removes them.

One pass: take up to `batch_size` hints (oldest first) and delete them, read each aggregate's
outbox by `_id`, send every entry (key = aggregate id) through the idempotent producer with
acks=all, wait for the acknowledgements, and remove exactly the acknowledged entries with
`$pullAll` (entries a writer appended meanwhile stay, with their own new hint). In the process
loop that removal runs while the next pass reads and publishes other aggregates; an aggregate
whose removal is in flight is left for the pass after.

Crash anywhere and nothing is lost, at worst an event is published twice: a dead relay leaves
the entries in the outbox, the sweep at the next start finds them, and consumers drop the
duplicate by event id. Only the relay holding the lease publishes, so replicas do not race.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError, KafkaTimeoutError
from pymongo.database import Database
from pymongo.errors import PyMongoError

from tdkt.events.envelope import Event
from tdkt.events.outbox import HINTS, hint_pending
from tdkt.events.status import write_status
from tdkt.leases import Lease
from tdkt.logs import get_logger
from tdkt.settings import RelaySettings
from tdkt.store import STORE_UNAVAILABLE

log = get_logger(__name__)


@dataclass
class Claim:
    collection: str
    aggregate_id: Any
    entries: list[dict] = field(default_factory=list)
    failed: bool = False


class OutboxRelay:
    def __init__(
        self, db: Database, producer: KafkaProducer, collections: list[str], settings: RelaySettings, name: str = "outbox-relay", housekeeping: Callable[[], object] | None = None
    ):
        self.db = db
        self.producer = producer
        self.collections = list(collections)
        self.settings = settings
        self.lease = Lease(db, name, f"{socket.gethostname()}:{os.getpid()}:{id(self):x}", settings.lease_ttl_s)
        self.name = name
        self.published_total = 0
        self.failed_aggregates = 0
        self.last_published_at: datetime | None = None
        self._next_sweep = 0.0
        self._next_status = 0.0
        self.housekeeping = housekeeping  # periodic clean-up of the service's database, hourly
        self._next_housekeeping = 0.0
        self._stopping = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="relay-store")
        # The process loop removes one pass's entries while the next pass reads and publishes
        # (a third of a pass's time, measured with pyinstrument): its own threads, so the next
        # reads do not queue behind the removals.
        self._ack_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="relay-ack")
        self._ack_pool_inner = ThreadPoolExecutor(max_workers=4, thread_name_prefix="relay-ack-store")
        self._acking: Future | None = None
        self._acking_keys: set[tuple[str, Any]] = set()

    # -- one pass, in three steps: claim, publish, acknowledge ---------------------------------
    def claim(self) -> Iterator[Claim]:
        """The aggregates with pending events, yielded as their reads come back, oldest hint first."""
        hints = sorted(self.db[HINTS].find({}).limit(self.settings.batch_size), key=lambda h: h["at"])
        # An aggregate whose removal is still in flight waits for the next pass (its hint stays):
        # read now, it would still show the entries just published and send them again.
        hints = [h for h in hints if (h["c"], h["a"]) not in self._acking_keys]
        if not hints:
            return
        # Delete the hints before reading: a writer that appends after this point leaves a new
        # hint behind, so its event is never stranded without one.
        self.db[HINTS].delete_many({"_id": {"$in": [h["_id"] for h in hints]}})
        # One read by _id per aggregate (the only lookup FerretDB pushes down: an `$in` scans the
        # collection), several in flight, yielded in hint order: the store works on the next reads
        # while this process serialises and sends the events of the previous ones.
        docs = self._pool.map(lambda h: (h, self.db[h["c"]].find_one({"_id": h["a"]}, {"outbox": 1})), hints)
        for h, doc in docs:
            if doc and doc.get("outbox"):
                yield Claim(h["c"], h["a"], doc["outbox"])

    def publish(self, claims: Iterable[Claim]) -> list[Claim]:
        """Send every entry and wait until Kafka has acknowledged (or refused) each one."""
        sent: list[Claim] = []
        futures = []
        refused = False
        for claim in claims:
            sent.append(claim)
            if refused:
                claim.failed = True
                continue
            try:
                for entry in claim.entries:
                    key, value, headers = Event.from_outbox_entry(entry).to_kafka()
                    futures.append((claim, self.producer.send(entry["topic"], key=key, value=value, headers=headers)))
            except KafkaError as exc:
                # send() itself refused (no metadata within max_block_ms: the broker is away).
                # This aggregate and the rest stay in their outboxes, to be retried after a pause.
                log.warning("kafka refused events; retrying later", error=str(exc))
                claim.failed = refused = True
        while futures:
            try:
                self.producer.flush(timeout=1.0)
                break
            except KafkaTimeoutError:
                if self._stopping.is_set():
                    break  # unacknowledged entries stay in the outbox for the next start
        for claim, future in futures:
            if not future.is_done or future.failed():
                claim.failed = True
        return sent

    def acknowledge(self, claims: list[Claim], pool: ThreadPoolExecutor | None = None) -> int:
        """Remove what Kafka acknowledged; re-hint what it did not, to be retried."""
        for claim in claims:
            if claim.failed:
                hint_pending(self.db, claim.collection, claim.aggregate_id)
        published = [c for c in claims if not c.failed]
        list((pool or self._pool).map(lambda c: self.db[c.collection].update_one({"_id": c.aggregate_id}, {"$pullAll": {"outbox": c.entries}}), published))
        done = sum(len(c.entries) for c in published)
        if done:
            self.published_total += done
            self.last_published_at = datetime.now(UTC)
        return done

    def run_once(self, overlap: bool = False) -> int:
        """One pass; the number of events removed from outboxes. With `overlap` (the process
        loop), this pass's removal is left running while the next pass reads and publishes, and
        the count is that of the previous pass's removal; without it, the pass is complete on return."""
        self.failed_aggregates = 0
        if not self.lease.held():
            return self.settle()
        done = 0
        if time.monotonic() >= self._next_sweep:
            done += self.settle()  # the sweep must not find entries whose removal is in flight
            self.sweep()
        claims = self.publish(self.claim())
        done += self.settle()
        if not claims:
            return done
        self.failed_aggregates = sum(c.failed for c in claims)
        if self.failed_aggregates:
            log.warning("kafka did not acknowledge some events; they stay in their outboxes", aggregates=self.failed_aggregates)
        if not overlap:
            return done + self.acknowledge(claims)
        self._acking_keys = {(c.collection, c.aggregate_id) for c in claims}
        self._acking = self._ack_pool.submit(self.acknowledge, claims, self._ack_pool_inner)
        return done

    def settle(self) -> int:
        """Wait for the removal in flight, if any; the number of events it removed."""
        if self._acking is None:
            return 0
        try:
            return self._acking.result()
        finally:
            self._acking, self._acking_keys = None, set()

    def sweep(self) -> int:
        """Re-hint every aggregate whose outbox is not empty (after a crash, or a lost hint)."""
        found = 0
        for name in self.collections:
            for doc in self.db[name].find({"outbox.0": {"$exists": True}}, {"_id": 1}):
                hint_pending(self.db, name, doc["_id"])
                found += 1
        self._next_sweep = time.monotonic() + self.settings.sweep_interval_s
        if found:
            log.info("outbox sweep re-hinted aggregates with pending events", aggregates=found)
        return found

    # -- the process loop ----------------------------------------------------------------------
    def run(self) -> None:
        log.info("outbox relay started", collections=self.collections, holder=self.lease.holder)
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                published = self.run_once(overlap=True)
                self.report_status()
                if self.housekeeping and time.monotonic() >= self._next_housekeeping:
                    self._next_housekeeping = time.monotonic() + 3600
                    self.housekeeping()
            except STORE_UNAVAILABLE as exc:
                log.warning("document store unreachable; relay waits", error=str(exc), retry_in_s=backoff)
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            if self.failed_aggregates:  # the broker refused or timed out: back off before retrying
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            backoff = 0.5
            if not published and self._acking is None:
                self._stopping.wait(self.settings.poll_interval_ms / 1000)
        try:
            self.settle()
            self.lease.release()
        except STORE_UNAVAILABLE:
            pass  # it expires by itself
        log.info("outbox relay stopped", published_total=self.published_total)

    def stop(self) -> None:
        self._stopping.set()

    def report_status(self, force: bool = False) -> None:
        """How far behind the relay is, for /readyz and /metrics of the service's API."""
        if not force and time.monotonic() < self._next_status:
            return
        self._next_status = time.monotonic() + 2.0
        try:
            hints = list(self.db[HINTS].find({}, {"at": 1}))
        except PyMongoError:
            return
        oldest = min((h["at"] for h in hints), default=None)
        write_status(
            self.db,
            self.name,
            {
                "kind": "relay",
                "holder": self.lease.holder,
                "pending_aggregates": len(hints),
                "oldest_pending_at": oldest,
                "published_total": self.published_total,
                "last_published_at": self.last_published_at,
                "heartbeat_at": datetime.now(UTC),
            },
        )
