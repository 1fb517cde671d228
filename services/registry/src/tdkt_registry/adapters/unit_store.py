"""Where units live: their documents, the acts that changed them, and the in-memory directory.

Writes are structural (a merge touches several units and must be checked against all of them:
no code held twice, no cycle), so they are serialised by a lease on the directory and each
change set is stored as one *unit of work* that survives a crash:

1. the act, with the full new state of every unit it touches, is inserted into `unit_acts`
   (hash-chained to the previous act: the units' audit trail) and named as pending in the meta
   document;
2. each unit document is updated (compare-and-set on its version) together with its event in
   its outbox — skipped if the unit already lists the act, which makes step 2 re-runnable;
3. the meta document's generation moves on and the pending act is cleared.

A writer that finds a pending act (its predecessor died between 1 and 3) finishes it first.
Readers keep the whole directory in memory. One read of the meta document by `_id` per request
is all a cached read costs; when the generation has moved on, a reader applies the acts it
missed (the meta document lists the latest ones, and each act holds its units' new states), so
catching up costs one read per act. A process starting cold reads the latest *snapshot* — the
directory compressed into a few binary chunks, written every `SNAPSHOT_EVERY` generations —
plus the acts since. Both matter on stores that read slowly per kilobyte of document (FerretDB
on SQLite reads a few MB/s); scanning every unit document is only the fallback.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
import time
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from bson import Binary
from pymongo.database import Database
from tdkt.clock import local_today
from tdkt.errors import Busy
from tdkt.events.outbox import AlreadyExists, ConcurrentUpdate, save_aggregate
from tdkt.leases import Lease
from tdkt.logs import get_logger

from tdkt_registry.adapters.documents import UnitDocument
from tdkt_registry.adapters.events import UNIT_EVENTS
from tdkt_registry.domain.acts import ChangeSet
from tdkt_registry.domain.directory import Directory
from tdkt_registry.domain.units import Unit

log = get_logger(__name__)
META, ACTS, UNITS, SNAPSHOTS = "registry_meta", "unit_acts", "units", "unit_snapshots"
LOCK = "unit-directory"
MAX_AGE_S = 600  # a reader rebuilds from the store at least this often, whatever the meta says
LOG_LENGTH = 64  # acts listed in the meta document for readers to catch up with
SNAPSHOT_EVERY = 16  # generations between snapshots
CHUNK_BYTES = 4 * 1024 * 1024


@dataclass
class _Cached:
    key: tuple
    directory: Directory
    loaded_at: float


_cache: dict[str, _Cached] = {}  # per process and database: gunicorn workers each hold one


def storage_form(unit: Unit) -> dict[str, Any]:
    data = unit.to_dict()
    for computed in ("id", "status"):
        data.pop(computed)
    data["acts"] = list(unit.acts)
    return data


def act_hash(previous: str, act: dict[str, Any]) -> str:
    content = {k: v for k, v in act.items() if k not in ("status", "hash", "versions")}  # what the act says, not how far it got
    return hashlib.sha256((previous + json.dumps(content, sort_keys=True, ensure_ascii=False, default=str)).encode()).hexdigest()


class UnitStore:
    def __init__(self, db: Database, lock_wait_s: float = 10.0, lease_ttl_s: int = 15):
        self.db = db
        self.lock_wait_s = lock_wait_s
        self.lease = Lease(db, LOCK, f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}", lease_ttl_s)
        # The lease names this store as its holder, and an API worker's threads share one store:
        # they take turns here first, or a second thread would "hold" the lease too.
        self._writer = threading.Lock()

    # ---- reading ----

    def _meta(self) -> dict[str, Any]:
        meta = self.db[META].find_one({"_id": "units"})
        if meta is None:
            self.db[META].update_one({"_id": "units"}, {"$setOnInsert": {"generation": 0, "epoch": uuid.uuid4().hex, "last_hash": "", "pending_act": None}}, upsert=True)
            meta = self.db[META].find_one({"_id": "units"})
        return meta

    def directory(self, fresh: bool = False) -> Directory:
        """The directory as of the latest complete act (an act being applied is not seen yet)."""
        meta = self._meta()
        key = (meta.get("epoch"), meta.get("generation", 0))
        cached = _cache.get(self.db.name)
        if cached and cached.key == key and (fresh or time.monotonic() - cached.loaded_at < MAX_AGE_S):
            return cached.directory
        if cached and cached.key[0] == key[0] and time.monotonic() - cached.loaded_at < MAX_AGE_S:
            caught_up = self._catch_up(cached.directory.copy(), cached.key[1], meta)
            if caught_up is not None:
                _cache[self.db.name] = _Cached(key, caught_up, cached.loaded_at)
                return caught_up
        started = time.monotonic()
        directory, how = self._load(meta)
        _cache[self.db.name] = _Cached(key, directory, time.monotonic())
        log.info("unit directory loaded", units=len(directory), source=how, seconds=round(time.monotonic() - started, 3))
        return directory

    def _catch_up(self, directory: Directory, since: int, meta: dict[str, Any]) -> Directory | None:
        """Apply to `directory` (a private copy) the acts after generation `since`; None when the
        meta's log no longer reaches back that far."""
        missed = [(entry["g"], entry["act"]) for entry in meta.get("log", []) if entry["g"] > since]
        if len(missed) != meta.get("generation", 0) - since:
            return None
        for _, act_id in missed:
            act = self.db[ACTS].find_one({"_id": act_id})
            if act is None or act.get("status") != "applied":
                return None
            for change, version in zip(act["changes"], act.get("versions", []), strict=True):
                directory.put(Unit.from_dict({**change["unit"], "id": change["unit_id"], "version": version}))
        return directory

    def _load(self, meta: dict[str, Any]) -> tuple[Directory, str]:
        snapshot = meta.get("snapshot")
        if snapshot:
            chunks = [self.db[SNAPSHOTS].find_one({"_id": f"{snapshot['generation']}:{i}"}) for i in range(snapshot["chunks"])]
            if all(chunks):
                units = json.loads(zlib.decompress(b"".join(bytes(c["data"]) for c in chunks)))
                directory = self._catch_up(Directory(Unit.from_dict(u) for u in units), snapshot["generation"], meta)
                if directory is not None:
                    return directory, f"snapshot {snapshot['generation']} + {meta.get('generation', 0) - snapshot['generation']} act(s)"
        return Directory(Unit.from_dict(doc) for doc in self.db[UNITS].find({}, {"outbox": 0})), "every unit document"

    def write_snapshot(self, directory: Directory) -> None:
        """Store the directory compressed, in chunks read by `_id` (the caller holds the lease)."""
        meta = self._meta()
        generation = meta.get("generation", 0)
        units = [{**storage_form(u), "id": u.id, "version": u.version} for u in directory.all()]
        blob = zlib.compress(json.dumps(units, ensure_ascii=False, separators=(",", ":")).encode(), 6)
        parts = [blob[i : i + CHUNK_BYTES] for i in range(0, len(blob), CHUNK_BYTES)] or [b""]
        for i, part in enumerate(parts):
            self.db[SNAPSHOTS].replace_one({"_id": f"{generation}:{i}"}, {"data": Binary(part), "units": len(units)}, upsert=True)
        self.db[META].update_one({"_id": "units"}, {"$set": {"snapshot": {"generation": generation, "chunks": len(parts)}}})
        old = meta.get("snapshot")
        if old and old["generation"] != generation:
            for i in range(old["chunks"]):
                self.db[SNAPSHOTS].delete_one({"_id": f"{old['generation']}:{i}"})

    def generation(self) -> int:
        return self._meta().get("generation", 0)

    # ---- writing ----

    @contextmanager
    def writing(self) -> Iterator[Directory]:
        """Hold the directory's lease; yield the directory as it is now (pending work finished)."""
        busy = "Danh mục đơn vị đang được cập nhật, hãy thử lại / the unit directory is being changed by someone else, retry shortly"
        deadline = time.monotonic() + self.lock_wait_s
        if not self._writer.acquire(timeout=self.lock_wait_s):
            raise Busy(busy)
        try:
            while not self.lease.acquire():
                if time.monotonic() > deadline:
                    raise Busy(busy)
                time.sleep(0.05)
            try:
                self.resume_pending()
                yield self.directory(fresh=True)
            finally:
                self.lease.release()
        finally:
            self._writer.release()

    def keep_alive(self) -> None:
        """Long writers (an import) renew the lease between change sets."""
        if not self.lease.held():
            raise Busy("Mất quyền ghi danh mục đơn vị / lost the unit directory's lease")

    def commit(self, changes: ChangeSet, actor: str | None) -> list[Unit]:
        """Store a change set as one unit of work (see the module's docstring); the caller holds the lease."""
        if not changes.changes:
            return []
        meta = self._meta()
        act = {
            "_id": changes.act.id,
            **{k: v for k, v in changes.act.to_dict().items() if k != "id"},
            "unit_ids": [c.unit.id for c in changes.changes],
            "changes": [{"unit": storage_form(c.unit), "unit_id": c.unit.id, "event": c.event, "created": c.created} for c in changes.changes],
            "actor": actor,
            "recorded_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "seq": meta.get("generation", 0) + 1,  # acts are serialised: the generation it will make
            "status": "applying",
        }
        act["prev_hash"] = meta.get("last_hash", "")
        act["hash"] = act_hash(act["prev_hash"], act)
        self.db[ACTS].insert_one(act)
        self.db[META].update_one({"_id": "units"}, {"$set": {"pending_act": act["_id"], "last_hash": act["hash"]}})
        return self._apply(act)

    def resume_pending(self) -> None:
        pending = self._meta().get("pending_act")
        if pending:
            act = self.db[ACTS].find_one({"_id": pending})
            log.warning("finishing an act a previous writer left half-applied", act=pending)
            if act is not None:
                self._apply(act)
            else:  # died before the act was stored: nothing of it reached any unit
                self.db[META].update_one({"_id": "units"}, {"$set": {"pending_act": None}})

    def _apply(self, act: dict[str, Any]) -> list[Unit]:
        act_view = {k: act.get(k) for k in ("kind", "effective_date", "legal_basis", "note", "predecessor_ids", "successor_ids")} | {"id": act["_id"]}
        stored: list[Unit] = []
        for change in act["changes"]:
            unit = Unit.from_dict({**change["unit"], "id": change["unit_id"]})
            stored.append(self._write_unit(unit, change["event"], act["_id"], act_view))
        self.db[ACTS].update_one({"_id": act["_id"]}, {"$set": {"status": "applied", "versions": [u.version for u in stored]}})
        meta = self._meta()  # read-modify-write is safe: the caller holds the lease
        generation = meta.get("generation", 0) + 1
        entries = [*meta.get("log", []), {"g": generation, "act": act["_id"]}][-LOG_LENGTH:]  # no nested arrays: FerretDB refuses them
        self.db[META].update_one({"_id": "units"}, {"$set": {"pending_act": None, "generation": generation, "log": entries}})
        # This process has just made the change: its cache follows without reading it back.
        cached = _cache.get(self.db.name)
        if cached and cached.key == (meta.get("epoch"), generation - 1):
            directory = cached.directory.copy()
            for unit in stored:
                directory.put(unit)
            _cache[self.db.name] = _Cached((meta.get("epoch"), generation), directory, cached.loaded_at)
            if generation - (meta.get("snapshot") or {}).get("generation", 0) >= SNAPSHOT_EVERY:
                self.write_snapshot(directory)
        return stored

    def _write_unit(self, unit: Unit, event: str, act_id: str, act_view: dict[str, Any]) -> Unit:
        doc = UnitDocument.objects(id=unit.id).first()
        if doc is not None and act_id in doc.acts:
            return Unit.from_dict(doc.to_mongo().to_dict())  # applied before a crash
        fields = storage_form(unit)
        if doc is None:
            doc = UnitDocument(id=unit.id, **fields)
        else:
            for name, value in fields.items():
                setattr(doc, name, value)
        doc.record(UNIT_EVENTS[event], {"unit": unit.to_dict(local_today()), "act": act_view})
        try:
            save_aggregate(doc)
        except (ConcurrentUpdate, AlreadyExists):
            raise Busy("Đơn vị vừa bị thay đổi, hãy thử lại / the unit changed meanwhile, retry") from None
        return replace(unit, version=doc.version)

    # ---- the audit trail ----

    def acts(self, unit_id: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
        """Acts, newest first (the collection is small: acts are rare, imports batch theirs)."""
        found = [a for a in self.db[ACTS].find({}, {"changes": 0}) if (not unit_id or unit_id in a.get("unit_ids", ())) and (not kind or a.get("kind") == kind)]
        return sorted(found, key=lambda a: a.get("seq", 0), reverse=True)

    def act(self, act_id: str) -> dict[str, Any] | None:
        return self.db[ACTS].find_one({"_id": act_id})

    def verify_chain(self) -> tuple[int, str | None]:
        """Re-hash every act in order; return how many check out and the first that does not."""
        acts = sorted(self.db[ACTS].find({}), key=lambda a: a.get("seq", 0))
        by_prev = {a["prev_hash"]: a for a in acts}
        previous, checked = "", 0
        while previous in by_prev:
            act = by_prev[previous]
            if act_hash(previous, act) != act["hash"]:
                return checked, act["_id"]
            previous, checked = act["hash"], checked + 1
        return checked, None if checked == len(acts) else "chain broken"
