"""Local copies of another service's aggregates (projections), kept from its events.

Each copy keeps the `sequence` of the last event applied (the producer's per-aggregate counter)
and ignores anything older, so re-delivered, replayed or duplicated events are no-ops whichever
order they arrive in; `projection_meta` records how far each projection has got (the status
endpoints and `/readyz` read it, and caches use its `events` counter to know they are stale).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from tdkt.events.envelope import Event

META = "projection_meta"


class Stale(Exception):
    """The copy already holds this event's state or a newer one."""


class Replayed(dict):
    """The copy as this very event left it: what it was before is unknown, follow-up work must still run."""


def apply_copy(db: Database, collection: str, key: str, sequence: int, fields: dict[str, Any]) -> dict[str, Any] | None:
    """Upsert the copy if this event is newer than the one applied last; return the copy as it
    was before (None when new). An older event raises Stale. The *same* event again (a consumer
    killed after this write, before its batch was marked done) returns `Replayed`, so the
    handler still finishes its idempotent follow-up work."""
    previous = db[collection].find_one({"_id": key})
    if previous is not None and previous.get("seq", 0) > sequence:
        raise Stale
    if previous is not None and previous.get("seq", 0) == sequence:
        return Replayed(previous)
    try:
        if previous is None:
            db[collection].insert_one({"_id": key, "seq": sequence, **fields})
        elif db[collection].update_one({"_id": key, "seq": previous.get("seq", 0)}, {"$set": {"seq": sequence, **fields}}).matched_count == 0:
            raise Stale  # another copy of this consumer applied something newer meanwhile
    except DuplicateKeyError:
        raise Stale from None
    return previous


def mark_applied(db: Database, name: str, event: Event) -> None:
    """How far projection `name` has got."""
    db[META].update_one(
        {"_id": name},
        {"$set": {"last_event_time": event.time.isoformat(), "last_event_id": event.id, "updated_at": datetime.now(UTC).isoformat()}, "$inc": {"events": 1}},
        upsert=True,
    )
