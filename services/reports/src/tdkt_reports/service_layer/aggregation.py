"""A movement's figures, served from memory: reading a 3,000-unit movement's inputs from the local
store takes seconds (see `adapters/aggregation_inputs.py`), computing them from memory tens of
milliseconds, and a request may spend 200 ms.

Each process keeps, per movement, the inputs and the table computed from them. Every request
reads the store's counters (five small reads by `_id`); when they have moved on, it answers with
the table it has (`stale: true`, `computed_at` says how old) and starts a refresh in a background
thread, which re-reads only the units and registry parts that changed (a few hundred ms). A
process with nothing cached (cold) waits for its first load: from the last snapshot plus what
changed since (under a second), or from every document when there is no snapshot (tens of
seconds, once per movement: the caller gets 503 after COLD_WAIT_S while the load goes on). An
export waits for fresh figures: it is a document someone signs. Tables are published by
replacing the cache entry, never changed in place, so gunicorn's threads never see one
half-built; one load at most runs per movement and process.

The inputs are also read again in full every MAX_AGE_S: the counters are only as reliable as the
writer that moves them (a writer that died between saving a Progress and counting it).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pymongo.database import Database
from tdkt.auth import Principal
from tdkt.clock import local_today
from tdkt.errors import Busy, NotFound
from tdkt.logs import get_logger

from tdkt_reports.adapters import aggregation_inputs as store
from tdkt_reports.adapters.aggregation_inputs import SNAPSHOT_AFTER_READS, Key
from tdkt_reports.domain import aggregation as figures
from tdkt_reports.domain import ranking
from tdkt_reports.domain.ranking import Table

log = get_logger(__name__)
MAX_AGE_S = 3600
COLD_WAIT_S = 10.0
FRESH_WAIT_S = 20.0
WEIGHTED_TABLES = 32  # tables for weights other than the movement's, kept per process


@dataclass(frozen=True, eq=False)
class _Entry:
    key: Key
    today: date
    inputs: dict[str, Any]
    base: dict[str, dict[str, Any]]  # unit → its row without the weighted parts
    table: Table
    computed_at: datetime


@dataclass(frozen=True)
class View:
    table: Table
    computed_at: datetime
    stale: bool


class _Load:
    """A load running in a background thread; requests that need its result wait on `done`."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.error: Exception | None = None


_cache: dict[tuple[str, str], _Entry] = {}  # (database, movement) → the latest entry
_loads: dict[tuple[str, str], _Load] = {}  # at most one running per movement
_weighted: OrderedDict[tuple, tuple[_Entry, Table]] = OrderedDict()
_guard = threading.Lock()


def _behind(entry: _Entry, key: Key, today: date) -> bool:
    """Whether the store has moved on since the entry was read (counters only grow)."""
    return entry.key.generation < key.generation or any(a < b for a, b in zip(entry.key.registry, key.registry, strict=True)) or entry.today < today


def _load(db: Database, ck: tuple[str, str]) -> _Entry | None:
    """Bring the entry up to date (in the movement's one running `_Load`)."""
    movement_id = ck[1]
    key, today = store.current_key(db, movement_id), local_today()
    entry = _cache.get(ck)
    full = entry is not None and time.time() - entry.inputs["full_read_at"] > MAX_AGE_S
    if entry is not None and not full and not _behind(entry, key, today):
        return entry
    started = time.monotonic()
    previous = None if full else (entry.inputs if entry else store.read_snapshot(db, movement_id))
    inputs = store.refresh(db, movement_id, key, previous)
    if inputs is None:
        _cache.pop(ck, None)
        return None
    if inputs["unsaved_reads"] >= SNAPSHOT_AFTER_READS:
        store.write_snapshot(db, inputs)
        inputs = inputs | {"unsaved_reads": 0}
    movement = inputs["movement"]
    base = {u: figures.base_row(movement, today, {"id": u, **inputs["units"][u]}, inputs["facts"][u], inputs["targets"][u]) for u in movement["participant_ids"]}
    table = ranking.rank(movement, base, inputs["clusters"], figures.parse_weights(None, movement["criteria"]))
    fresh = _Entry(key, today, inputs, base, table, datetime.now(UTC))
    _cache[ck] = fresh
    log.info(
        "movement figures computed",
        movement=movement_id,
        units=len(base),
        source="memory" if entry else ("snapshot" if previous else "store"),
        seconds=round(time.monotonic() - started, 3),
    )
    return fresh


def _start_load(db: Database, ck: tuple[str, str]) -> _Load:
    """The load running for this movement, or a new one in a background thread."""
    with _guard:
        running = _loads.get(ck)
        if running is not None and not running.done.is_set():
            return running
        load = _loads[ck] = _Load()

    def run() -> None:
        try:
            _load(db, ck)
        except Exception as exc:  # the waiting request reports it; the next one tries again
            load.error = exc
            log.exception("loading movement figures failed", movement=ck[1])
        finally:
            load.done.set()

    threading.Thread(target=run, name=f"figures-{ck[1]}", daemon=True).start()
    return load


def view(db: Database, movement_id: str, weights: str | None = None, fresh: bool = False) -> View:
    """The movement's figures (for `weights` if given), from memory. A cold process waits up to
    COLD_WAIT_S for its first load (a first-ever load, with no snapshot, reads every document:
    30 s for 3,000 units; the caller gets 503 and retries while it goes on); `fresh` waits up to
    FRESH_WAIT_S for a refresh, then answers with what it has (`computed_at` says how old)."""
    ck = (db.name, movement_id)
    key, today = store.current_key(db, movement_id), local_today()
    entry = _cache.get(ck)
    if entry is None or (fresh and _behind(entry, key, today)):
        load = _start_load(db, ck)
        load.done.wait(COLD_WAIT_S if entry is None else FRESH_WAIT_S)
        entry = _cache.get(ck) or entry
        if entry is None:
            if not load.done.is_set():
                raise Busy("Đang tổng hợp số liệu của phong trào, hãy thử lại sau ít phút / the movement's figures are being computed for the first time: retry in a minute")
            if load.error is not None:
                raise load.error
            raise NotFound(f"Không có phong trào {movement_id} / no movement {movement_id}")
    elif _behind(entry, key, today):
        _start_load(db, ck)
    table = entry.table if not weights else _with_weights(entry, figures.parse_weights(weights, entry.inputs["movement"]["criteria"]))
    return View(table, entry.computed_at, _behind(entry, key, today))


def _with_weights(entry: _Entry, weights: dict[str, float]) -> Table:
    if weights == entry.table.weights:
        return entry.table
    wk = (id(entry), tuple(sorted(weights.items())))
    with _guard:
        hit = _weighted.get(wk)
        if hit is not None and hit[0] is entry:
            _weighted.move_to_end(wk)
            return hit[1]
    counts = {k: v for k, v in entry.table.totals.items() if k not in ranking.WEIGHTED}
    table = ranking.rank(entry.inputs["movement"], entry.base, entry.inputs["clusters"], weights, counts)
    with _guard:
        _weighted[wk] = (entry, table)
        while len(_weighted) > WEIGHTED_TABLES:
            _weighted.popitem(last=False)
    return table


SORTS = ("rank", "score", "name", "punctuality", "code")


def selection(current: View, principal: Principal, cluster_id: str | None = None, sort: str = "rank") -> tuple[list[str], dict[str, Any], dict | None]:
    """The units this caller may see (all, or its own only) in `sort` order, the totals (of the
    movement, or of the cluster) and the cluster. Rows are put together by the caller, for the
    page it serves (`current.table.row`)."""
    table = current.table
    ids, cluster = list(table.order), None
    if cluster_id:
        cluster = table.clusters.get(cluster_id)
        if cluster is None:
            raise NotFound(f"Phong trào không có đơn vị nào thuộc cụm/khối {cluster_id} / no participant is in cluster {cluster_id}")
        members = set(cluster["member_ids"])
        ids = [u for u in ids if u in members]  # in rank order: the order within the cluster too
    totals = table.totals if cluster is None else ranking.totals(table, ids)
    if sort != "rank":
        ids.sort(key=table.sort_key(sort.lstrip("-")), reverse=sort.startswith("-"))
    if not principal.sees_all_units:
        ids = [u for u in ids if u == principal.unit_id]
    return ids, totals, cluster


def unit_history(db: Database, movement_id: str, unit_id: str, principal: Principal) -> dict[str, Any]:
    """A unit's periods, its Progress read now (one document: a fresh answer costs little)."""
    if not principal.may_see_unit(unit_id):
        raise NotFound(f"Không có phong trào {movement_id} / no movement {movement_id}")
    cached = _cache.get((db.name, movement_id))  # the movement's schedule, without reading its large document
    view = cached.inputs["movement"] if cached else db.movement_views.find_one({"_id": movement_id})
    if view is None:
        raise NotFound(f"Không có phong trào {movement_id} / no movement {movement_id}")
    movement = view if cached else figures.summary(view)
    periods = store.periods_of(db, movement_id, unit_id)
    if unit_id not in (movement.get("participant_ids") or ()) and not periods:
        raise NotFound(f"Đơn vị {unit_id} không tham gia phong trào / unit {unit_id} does not take part in the movement")
    unit = db.unit_views.find_one({"_id": unit_id}, {"name": 1, "code": 1}) or {}
    return {
        "movement_id": movement_id,
        "unit_id": unit_id,
        "name": unit.get("name"),
        "code": unit.get("code"),
        "periods": figures.history(movement, periods, local_today()),
    }
