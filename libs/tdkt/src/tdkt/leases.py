"""Leases in the store: at most one holder at a time; a dead holder's lease simply expires.

Used by the outbox relay (one publisher per service) and by writers that must be serialised,
such as the registry's unit directory (one structural change at a time).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError


class Lease:
    """A lease in the store: at most one holder publishes; a dead holder's lease expires."""

    def __init__(self, db: Database, name: str, holder: str, ttl_s: int):
        self.db, self.name, self.holder, self.ttl = db, name, holder, ttl_s
        self.valid_until = 0.0

    def acquire(self) -> bool:
        now = datetime.now(UTC)
        try:
            self.db.leases.find_one_and_update(
                {"_id": self.name, "$or": [{"holder": self.holder}, {"expires_at": {"$lt": now}}]},
                {"$set": {"holder": self.holder, "expires_at": now + timedelta(seconds=self.ttl)}},
                upsert=True,
            )
        except DuplicateKeyError:  # someone else holds a live lease
            self.valid_until = 0.0
            return False
        # Trust the lease for a little less than its term, so a paused process stops in time.
        self.valid_until = time.monotonic() + self.ttl * 0.6
        return True

    def held(self) -> bool:
        return time.monotonic() < self.valid_until or self.acquire()

    def release(self) -> None:
        self.db.leases.delete_one({"_id": self.name, "holder": self.holder})
        self.valid_until = 0.0
