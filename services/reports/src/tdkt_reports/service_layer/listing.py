"""A movement's reports in list order (due date, then id), without scanning every report per request.

FerretDB answers only `_id` equality from an index: `GET /reports?movement_id=…` as a query
counts, filters and sorts over every report of every movement (108,000 at scale), on each call.
Yet which reports a movement has, and their due dates, change in one place only: period
generation (`periods.generate`, on a movement's launch or amendment). It brackets its writes
with a small mark, `report_listing_marks/<movement>`: `busy` and a new `n` before, `busy` off
after. An API worker keeps the movement's report ids in order under the `n` it read them at:
while the mark stays put, the order and the count are still exact, and a page is one mark read
plus one read by `_id` per report shown (state, draft… always as stored now).

No mark (reports generated before this existed), a busy mark (generation running, or crashed
half-way: the next generation clears it), or a filter on a field that changes elsewhere (state,
late, unit_id — a merger moves a report to the successor) — the caller queries as before.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from pymongo import ReturnDocument
from pymongo.database import Database

MARKS = "report_listing_marks"
KEPT_MOVEMENTS = 8  # a worker's memory: ~200 bytes a report, 36,000 ids for 3,000 units × 12 periods

_lock = threading.Lock()
_kept: OrderedDict[tuple[str, str], tuple[int, list[tuple[str, str]]]] = OrderedDict()  # (database, movement) → (mark n, [(id, period)] in list order)


def generation_starts(db: Database, movement_id: str) -> int:
    mark = db[MARKS].find_one_and_update({"_id": movement_id}, {"$set": {"busy": True}, "$inc": {"n": 1}}, upsert=True, return_document=ReturnDocument.AFTER)
    return mark["n"]


def generation_ends(db: Database, movement_id: str, n: int) -> None:
    # only the generation that set `n`: were another to have started meanwhile, it ends it
    db[MARKS].update_one({"_id": movement_id, "n": n}, {"$set": {"busy": False}})


def ordered(db: Database, movement_id: str) -> list[tuple[str, str]] | None:
    """The movement's reports as (id, period) by (due, id), or None when only a query can say."""
    key = (db.name, movement_id)  # a mark counts within its database (tests use many)
    mark = db[MARKS].find_one({"_id": movement_id})
    if mark is None or mark.get("busy", True):
        return None
    with _lock:
        kept = _kept.get(key)
        if kept is not None and kept[0] == mark["n"]:
            _kept.move_to_end(key)
            return kept[1]
    # read after the mark: if a generation slips in meanwhile, it moves `n`, and this copy, kept
    # under the old `n`, is never served
    rows = db.reports.find({"movement_id": movement_id}, {"due": 1, "period": 1})
    periods: dict[str, str] = {}  # one string per period, not one per report
    ids = [(row["_id"], periods.setdefault(row["period"], row["period"])) for row in sorted(rows, key=lambda r: (r.get("due") or "", r["_id"]))]
    with _lock:
        _kept[key] = (mark["n"], ids)
        _kept.move_to_end(key)
        while len(_kept) > KEPT_MOVEMENTS:
            _kept.popitem(last=False)
    return ids
