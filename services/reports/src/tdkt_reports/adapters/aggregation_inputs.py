"""What a movement's figures are computed from, read the cheap way from a store that indexes only
`_id` and reads about 1 ms per KB (FerretDB on SQLite: 3,000 Progress documents take ~13 s).

- Which units' progress changed: the Progress writer calls `progress_changed`, which counts the
  change in the unit's *shard* (`progress_changes`, `_id = <movement>:<0..31>`, a map unit →
  count; small documents, because FerretDB rewrites a whole document on every update), then moves
  the movement's `progress_meta.generation` on. That order means a reader that sees the new
  generation finds the counter moved already; it re-reads only the Progress of units whose count
  differs from what it holds.
- Whether the registry's side changed: the `events` counters the projections keep in
  `projection_meta` (movements, registrations, units, clusters); a part whose counter moved is
  read again, the others are kept.
- A process starting cold reads the movement's last *snapshot* (its inputs compressed into one
  document, with the counters it was read at), then catches up like any reader. Any snapshot is a
  valid base, however old, because catching up compares per-unit counts.

Inputs are JSON-shaped dicts; the service layer never changes one it has published.
"""

from __future__ import annotations

import json
import time
import zlib
from dataclasses import dataclass
from typing import Any

from bson import Binary
from pymongo.database import Database

from tdkt_reports.domain.aggregation import facts_of, summary

PROGRESS_META, CHANGES, SNAPSHOTS, PROJECTION_META = "progress_meta", "progress_changes", "aggregation_snapshots", "projection_meta"
SHARDS = 32  # ~100 units per shard document for a 3,000-unit movement: an update costs ~3 ms
REGISTRY_PARTS = ("movements", "registrations", "units", "clusters")
SNAPSHOT_AFTER_READS = 100  # documents read since the last snapshot before writing a new one


def _field(unit_id: str) -> str:
    return unit_id.replace(".", "\uff0e").replace("$", "\uff04")  # a unit id as a field name


def _shard(unit_id: str) -> int:
    return zlib.crc32(unit_id.encode()) % SHARDS


def progress_changed(db: Database, movement_id: str, unit_id: str) -> None:
    """Called by the Progress writer after each save (see the module's docstring for the order)."""
    db[CHANGES].update_one({"_id": f"{movement_id}:{_shard(unit_id)}"}, {"$inc": {f"u.{_field(unit_id)}": 1}}, upsert=True)
    db[PROGRESS_META].update_one({"_id": movement_id}, {"$inc": {"generation": 1}}, upsert=True)


@dataclass(frozen=True)
class Key:
    """How far the store has moved on, read on every request (five small reads by `_id`)."""

    generation: int
    registry: tuple[int, ...]


def current_key(db: Database, movement_id: str) -> Key:
    meta = db[PROGRESS_META].find_one({"_id": movement_id}) or {}
    return Key(meta.get("generation", 0), tuple((db[PROJECTION_META].find_one({"_id": p}) or {}).get("events", 0) for p in REGISTRY_PARTS))


def _counters(db: Database, movement_id: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for i in range(SHARDS):
        found.update((db[CHANGES].find_one({"_id": f"{movement_id}:{i}"}) or {}).get("u") or {})
    return found


def _unit(db: Database, unit_id: str) -> dict[str, Any]:
    doc = db.unit_views.find_one({"_id": unit_id}, {"name": 1, "code": 1}) or {}
    return {"name": doc.get("name"), "code": doc.get("code")}


def _facts(db: Database, movement_id: str, unit_id: str) -> dict[str, Any]:
    return facts_of(periods_of(db, movement_id, unit_id))


def periods_of(db: Database, movement_id: str, unit_id: str) -> dict[str, dict[str, Any]]:
    doc = db.progress.find_one({"_id": f"{movement_id}.{unit_id}"}, {"periods": 1}) or {}
    return doc.get("periods") or {}


def refresh(db: Database, movement_id: str, key: Key, previous: dict[str, Any] | None) -> dict[str, Any] | None:
    """Inputs as of `key`, reading only what changed since `previous`; None when there is no
    such movement. Returns a new dict; `previous` is left as it was."""
    same = [previous is not None and previous["registry"][i] == key.registry[i] for i in range(len(REGISTRY_PARTS))]
    reads = 0
    if same[0]:
        movement = previous["movement"]
    else:
        view = db.movement_views.find_one({"_id": movement_id})
        if view is None:
            return None
        organiser = _unit(db, view["organiser_id"]).get("name") if view.get("organiser_id") else None
        movement, reads = summary(view, organiser), reads + 2
    participants = movement["participant_ids"]
    old_units = previous["units"] if same[2] else {}
    old_targets = previous["targets"] if same[1] else {}
    units, targets = {}, {}
    for u in participants:
        if u not in old_units:
            reads += 1
        units[u] = old_units[u] if u in old_units else _unit(db, u)
        if u not in old_targets:
            reads += 1
        targets[u] = old_targets[u] if u in old_targets else ((db.registration_views.find_one({"_id": f"{movement_id}.{u}"}, {"targets": 1}) or {}).get("targets") or {})
    if same[3] and same[0]:  # members are kept only if they take part: new participants, new members
        clusters = previous["clusters"]
    else:
        taking = set(participants)
        clusters = [
            {"id": c["_id"], "name": c.get("name"), "kind": c.get("kind"), "member_ids": [m for m in c.get("member_ids") or () if m in taking]} for c in db.cluster_views.find({})
        ]
        clusters = [c for c in clusters if c["member_ids"]]
    counters = _counters(db, movement_id)
    old_facts, old_counters = (previous["facts"], previous["counters"]) if previous else ({}, {})
    facts, kept = {}, {}
    for u in participants:
        count = counters.get(_field(u), 0)
        if u in old_facts and old_counters.get(u) == count:
            facts[u] = old_facts[u]
        else:
            facts[u], reads = _facts(db, movement_id, u), reads + 1
        kept[u] = count
    return {
        "movement_id": movement_id,
        "generation": key.generation,
        "registry": list(key.registry),
        "movement": movement,
        "units": units,
        "targets": targets,
        "clusters": clusters,
        "facts": facts,
        "counters": kept,
        "read_at": time.time(),
        "full_read_at": previous["full_read_at"] if previous else time.time(),
        "unsaved_reads": (previous or {}).get("unsaved_reads", 0) + reads,
    }


def write_snapshot(db: Database, inputs: dict[str, Any]) -> None:
    """Store `inputs` compressed, unit ids once (columns, not maps keyed by id)."""
    ids = inputs["movement"]["participant_ids"]
    rows = [[inputs["units"][u], inputs["targets"][u], inputs["facts"][u], inputs["counters"][u]] for u in ids]
    body = {k: inputs[k] for k in ("movement_id", "generation", "registry", "movement", "clusters", "read_at", "full_read_at")} | {"rows": rows}
    blob = zlib.compress(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(), 6)
    db[SNAPSHOTS].replace_one({"_id": inputs["movement_id"]}, {"generation": inputs["generation"], "data": Binary(blob)}, upsert=True)


def read_snapshot(db: Database, movement_id: str) -> dict[str, Any] | None:
    doc = db[SNAPSHOTS].find_one({"_id": movement_id})
    if doc is None:
        return None
    body = json.loads(zlib.decompress(bytes(doc["data"])))
    ids = body["movement"]["participant_ids"]
    columns = list(zip(*body.pop("rows"), strict=True)) or [(), (), (), ()]
    names = ("units", "targets", "facts", "counters")
    return body | {name: dict(zip(ids, column, strict=True)) for name, column in zip(names, columns, strict=True)} | {"unsaved_reads": 0}
