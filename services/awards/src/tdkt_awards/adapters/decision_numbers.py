"""Decision numbers: per issuer and year, gapless and unique, even when several decisions are
issued at the same moment and a process dies half-way.

A counter document `{issuer}:{year}` holds the next number and at most one *reservation*. To
take a number an issuer (1) reserves `next` for its decision with a compare-and-set on the
counter, (2) writes the number into the decision, (3) clears the reservation and moves `next` on.
Whoever finds a reservation older than `STALE_S` recovers it: if the decision holds the number,
step 3 is finished; if not, the reservation is dropped and the number stays free. So a number is
never given twice, and never skipped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError
from tdkt.errors import Busy

COUNTERS = "decision_numbers"
STALE_S = 10.0


def _now() -> datetime:
    return datetime.now(UTC)


def take_number(db: Database, issuer: str, year: int, decision_id: str, assign: Callable[[int], None], holds_number: Callable[[str, int], bool], wait_s: float = 30.0) -> int:
    """Reserve the next number, `assign` it to the decision (raise to give it back), confirm it."""
    key = f"{issuer}:{year}"
    deadline = time.monotonic() + wait_s
    while True:
        counter = db[COUNTERS].find_one({"_id": key})
        if counter is None:
            try:
                db[COUNTERS].insert_one({"_id": key, "issuer": issuer, "year": year, "next": 1, "pending": None})
            except DuplicateKeyError:
                pass
            continue
        pending = counter.get("pending")
        if pending:
            at = pending["at"] if pending["at"].tzinfo else pending["at"].replace(tzinfo=UTC)
            if _now() - at > timedelta(seconds=STALE_S):
                _recover(db, key, counter, holds_number)
            elif time.monotonic() > deadline:
                raise Busy("Đang cấp số quyết định khác, hãy thử lại / another decision is being numbered, retry shortly")
            else:
                time.sleep(0.02)
            continue
        number = counter["next"]
        reserved = db[COUNTERS].update_one({"_id": key, "next": number, "pending": None}, {"$set": {"pending": {"decision_id": decision_id, "number": number, "at": _now()}}})
        if reserved.matched_count == 0:
            continue  # someone else reserved it first
        try:
            assign(number)
        except BaseException:
            db[COUNTERS].update_one({"_id": key, "pending.decision_id": decision_id}, {"$set": {"pending": None}})  # the number stays free
            raise
        db[COUNTERS].update_one({"_id": key, "pending.decision_id": decision_id}, {"$set": {"pending": None}, "$inc": {"next": 1}})
        return number


def _recover(db: Database, key: str, counter: dict, holds_number: Callable[[str, int], bool]) -> None:
    pending = counter["pending"]
    if holds_number(pending["decision_id"], pending["number"]):
        db[COUNTERS].update_one({"_id": key, "pending.decision_id": pending["decision_id"], "next": counter["next"]}, {"$set": {"pending": None}, "$inc": {"next": 1}})
    else:
        db[COUNTERS].update_one({"_id": key, "pending.decision_id": pending["decision_id"], "next": counter["next"]}, {"$set": {"pending": None}})
