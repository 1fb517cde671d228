"""The outbox: events are stored inside the aggregate's own document, in the same single-document
write as the state change that causes them (no dual writes, no multi-document transactions).

After that write a small *hint* `{_id: "<collection>/<id>"}` goes into `outbox_pending`, so the
relay finds work by reading a collection that only ever holds what is pending instead of
scanning every aggregate. The hint is an accelerator, not the record: if a process dies between
the two writes, the relay's periodic sweep finds the aggregate by its non-empty outbox.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

import mongoengine
from mongoengine import DictField, IntField, ListField
from pymongo.database import Database

from tdkt.events.envelope import Event, EventType
from tdkt.logs import get_logger

HINTS = "outbox_pending"
log = get_logger(__name__)


class ConcurrentUpdate(Exception):
    """The aggregate changed since it was read (its version moved on); reload and retry."""


class AlreadyExists(Exception):
    """A new aggregate's id is taken (e.g. a unit's second registration to the same movement)."""


class AggregateRoot(mongoengine.Document):
    """Base of every document whose changes publish events.

    `version` counts the aggregate's events (one more for a change that records none), so each
    event's `sequence` is strictly increasing per aggregate: consumers use it as a state guard
    and the API as the ETag. `outbox` holds events not yet acknowledged by Kafka.
    """

    meta: ClassVar[dict] = {"abstract": True}
    event_source: ClassVar[str] = "/tdkt"  # each service's base class sets its own, e.g. "/registry"

    version = IntField(default=0, required=True, min_value=0)
    outbox = ListField(DictField())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._recorded: list[Event] = []

    def record(self, event_type: EventType, data: dict[str, Any]) -> Event:
        """Stage an event about this aggregate; it is stored by `save_aggregate`, atomically."""
        if self.pk is None:
            raise ValueError("give the aggregate its id before recording events about it")
        sequence = self.version + len(self._recorded) + 1
        event = Event.new(event_type, source=self.event_source, subject=str(self.pk), data=data, sequence=sequence)
        self._recorded.append(event)
        return event

    @property
    def recorded_events(self) -> list[Event]:
        return list(self._recorded)


def save_aggregate(aggregate: AggregateRoot) -> list[Event]:
    """Store the aggregate's changes and its recorded events in one atomic write.

    A new aggregate is inserted; an existing one is updated only if its version is still the
    one that was read (optimistic concurrency), otherwise ConcurrentUpdate. Returns the events.
    """
    events = aggregate._recorded
    entries = [e.to_outbox_entry() for e in events]
    expected = aggregate.version
    new_version = expected + max(1, len(events))
    collection = aggregate._get_collection()

    aggregate.validate()
    if aggregate._created:
        aggregate.version = new_version
        aggregate.outbox = entries
        try:
            aggregate.save(force_insert=True, validate=False)
        except mongoengine.NotUniqueError:
            aggregate.version, aggregate.outbox = expected, []
            raise AlreadyExists(f"{collection.name}/{aggregate.pk} exists") from None
    else:
        sets, unsets = aggregate._delta()  # mongoengine's own change tracking, as save() uses it
        sets.pop("outbox", None), unsets.pop("outbox", None), sets.pop("version", None)
        update: dict[str, Any] = {"$set": {**sets, "version": new_version}}
        if unsets:
            update["$unset"] = unsets
        if entries:
            update["$push"] = {"outbox": {"$each": entries}}
        result = collection.update_one({"_id": aggregate.pk, "version": expected}, update)
        if result.matched_count == 0:
            raise ConcurrentUpdate(f"{collection.name}/{aggregate.pk} is no longer at version {expected}")
        aggregate.version = new_version
        aggregate._clear_changed_fields()

    aggregate._recorded = []
    if entries:
        hint_pending(collection.database, collection.name, aggregate.pk)
    return events


def hint_pending(db: Database, collection: str, aggregate_id: Any) -> None:
    try:
        db[HINTS].update_one(
            {"_id": f"{collection}/{aggregate_id}"},
            {"$setOnInsert": {"c": collection, "a": aggregate_id, "at": datetime.now(UTC)}},
            upsert=True,
        )
    except Exception as exc:  # the events are safe in the aggregate; the sweep will find them
        log.warning("outbox hint not written; the relay's sweep will pick the events up", collection=collection, aggregate=str(aggregate_id), error=str(exc))
