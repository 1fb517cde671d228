"""The nomination list's rows, kept in each process's memory and caught up through a change journal
read by `_id`.

Why: FerretDB (the dev store, on SQLite) uses its index for `_id` equality only; any other filter,
`_id: {$in: …}` included, scans the collection, and `createIndexes` is accepted but never used
(`explain`: `SCAN`, `filterPushdown: false`). Scanning 20,000 nominations takes 1.5–3 s even with a
projection, so a list read from the store cannot answer within 200 ms.

- Every nomination writer calls `changed(db, id)` after its save: `nomination_changes/head` gets
  `$inc seq`, then `nomination_changes/c:<seq>` names the nomination (and `c:<seq − KEEP>` goes).
- A reader holds, per database, one light `Row` per nomination (what the filters, the visibility
  rule and the order need) and the `seq` it has read up to. Each list reads `head` (one lookup)
  and, for each newer entry, the entry and the nomination it names (two lookups by `_id`): a
  writer's answer comes after its entry, so a user always lists what they just wrote.
- An entry not there yet (its writer is between its two writes) is waited for on the next
  request; one still missing after `GAP_WAIT_S` (its writer died) means a full reload, in the
  background, served from the rows held meanwhile; so does a cache older than `RELOAD_EVERY_S`
  (a writer that died between its save and its entry). A process that has no rows yet, or is
  more than `MAX_CATCH_UP` changes behind, waits up to `COLD_WAIT_S` for its load, then answers
  503 with Retry-After while the load goes on (as reports does for a movement's first load).
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, NamedTuple

from pymongo import ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, PyMongoError
from tdkt.errors import Busy
from tdkt.logs import get_logger

CHANGES, NOMINATIONS = "nomination_changes", "nominations"
KEEP = 20_000  # journal entries kept; more than MAX_CATCH_UP, so nobody who catches up misses one
MAX_CATCH_UP = 500  # beyond this many changes, one scan is cheaper than the lookups
GAP_WAIT_S = 10.0
RELOAD_EVERY_S = 600.0
COLD_WAIT_S = 10.0  # a first load of 20,000 rows takes 2–3 s on an idle FerretDB, more on a busy one: 503 and retry beyond this
FIELDS = {
    "state": 1,
    "nominating_unit_id": 1,
    "issuer": 1,
    "kind": 1,
    "movement_id": 1,
    "year": 1,
    "title_code": 1,
    "deadlines.appraisal_due": 1,
    "submitted_at": 1,
    "created_at": 1,
}
log = get_logger(__name__)


class Row(NamedTuple):
    id: str
    state: str
    nominating_unit_id: str
    issuer: str
    kind: str
    movement_id: str | None
    year: int
    title_code: str
    appraisal_due: str | None
    order: str  # submitted_at, or created_at for a draft: newest first


def _row(doc: dict[str, Any]) -> Row:
    text = sys.intern  # a few distinct states, kinds, forms and issuers: one string each
    return Row(
        doc["_id"],
        text(doc["state"]),
        doc["nominating_unit_id"],
        text(doc["issuer"]),
        text(doc["kind"]),
        doc.get("movement_id"),
        doc["year"],
        text(doc["title_code"]),
        (doc.get("deadlines") or {}).get("appraisal_due"),
        doc.get("submitted_at") or doc.get("created_at") or "",
    )


# ---------------------------------------------------------------- writing


def changed(db: Database, nomination_id: str) -> None:
    """Journal a nomination's change (after its save). If the journal cannot be written the save
    stands: the readers' periodic reload brings the row back in line."""
    try:
        for _attempt in range(3):
            seq = db[CHANGES].find_one_and_update({"_id": "head"}, {"$inc": {"seq": 1}}, upsert=True, return_document=ReturnDocument.AFTER)["seq"]
            try:
                db[CHANGES].insert_one({"_id": f"c:{seq}", "id": nomination_id})
                break
            except DuplicateKeyError:
                continue  # an old entry with this number survived a reset of the head: take the next
        if seq > KEEP:
            db[CHANGES].delete_one({"_id": f"c:{seq - KEEP}"})
    except PyMongoError as exc:
        log.warning("nomination change not journalled: the list catches up at its next reload", nomination=nomination_id, error=str(exc))


# ---------------------------------------------------------------- reading


class _Listing:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rows: dict[str, Row] = {}
        self.seq = -1  # never loaded
        self.loaded_at = 0.0
        self.gap_since: float | None = None
        self.loading: threading.Event | None = None

    def current(self, db: Database) -> list[Row]:
        with self.lock:
            head = _head(db)
            unusable = self.seq < 0 or head - self.seq > MAX_CATCH_UP or head < self.seq  # never loaded, far behind, or a new journal
            loading = self._start_reload(db) if unusable else None
        if loading is not None and (not loading.wait(COLD_WAIT_S) or self.seq < 0):
            raise Busy("Đang nạp danh sách hồ sơ, hãy thử lại sau ít giây / the nomination list is being loaded: retry in a few seconds")
        with self.lock:
            self._catch_up(db, _head(db))
            if time.monotonic() - self.loaded_at > RELOAD_EVERY_S:
                self._start_reload(db)  # served from the rows held meanwhile
            return list(self.rows.values())

    def _catch_up(self, db: Database, head: int) -> None:
        while self.seq < head:
            entry = db[CHANGES].find_one({"_id": f"c:{self.seq + 1}"})
            if entry is None:
                self.gap_since = self.gap_since or time.monotonic()
                if time.monotonic() - self.gap_since > GAP_WAIT_S:  # its writer died between its two writes
                    self._start_reload(db)
                return  # its writer is between its two writes: the next request looks again
            self.gap_since = None
            doc = db[NOMINATIONS].find_one({"_id": entry["id"]}, FIELDS)
            if doc is None:
                self.rows.pop(entry["id"], None)
            else:
                self.rows[entry["id"]] = _row(doc)
            self.seq += 1

    def _start_reload(self, db: Database) -> threading.Event:
        """A full load in the background (called under the lock); one at a time."""
        if self.loading is None:
            self.loading = threading.Event()
            threading.Thread(target=self._reload, args=(db, self.loading), daemon=True, name="nomination-listing-load").start()
        return self.loading

    def _reload(self, db: Database, done: threading.Event) -> None:
        try:
            rows, seq = _load(db)
            with self.lock:  # rows as of `seq`; the next request catches up from there
                self.rows, self.seq, self.loaded_at, self.gap_since = rows, seq, time.monotonic(), None
        except PyMongoError as exc:
            log.warning("nomination list not loaded", error=str(exc))
        finally:
            with self.lock:
                self.loading = None
            done.set()


def _head(db: Database) -> int:
    return (db[CHANGES].find_one({"_id": "head"}) or {}).get("seq", 0)


def _load(db: Database) -> tuple[dict[str, Row], int]:
    """Every nomination's row, as of the journal's head read *before* the scan (a change made
    during the scan is applied again on catching up: harmless, rows are read, not patched)."""
    seq = _head(db)
    return {doc["_id"]: _row(doc) for doc in db[NOMINATIONS].find({}, FIELDS)}, seq


_listings: dict[tuple[int, str], _Listing] = {}
_listings_lock = threading.Lock()


def rows(db: Database) -> list[Row]:
    """Every nomination's row, up to date with every change journalled so far."""
    with _listings_lock:
        listing = _listings.setdefault((id(db.client), db.name), _Listing())
    return listing.current(db)
