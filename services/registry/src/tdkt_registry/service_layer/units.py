"""Use cases on units: one function per command, each a single unit of work under the lease.

The API, the CLI and the importers all come through here, so the same rules hold whichever
door a change comes in by.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from tdkt.errors import Invalid, NotFound

from tdkt_registry.adapters.unit_store import UnitStore
from tdkt_registry.domain import acts
from tdkt_registry.domain.acts import Act, ChangeSet, NewUnit
from tdkt_registry.domain.directory import Directory
from tdkt_registry.domain.units import LegalBasis, Unit, parse_day


def new_id() -> str:
    return uuid.uuid4().hex


def run(store: UnitStore, build: Callable[[Directory], ChangeSet], actor: str | None) -> tuple[ChangeSet, list[Unit]]:
    """Build a change set against the directory as it is under the lease, then store it."""
    with store.writing() as directory:
        changes = build(directory)
        stored = store.commit(changes, actor)
    return changes, stored


def _act(kind: str, data: dict[str, Any]) -> Act:
    day = parse_day(data.get("effective_date"), "effective_date")
    if kind not in ("establish", "update") and day is None:
        raise Invalid("effective_date", "Cần ngày hiệu lực / effective_date is required")
    return Act(id=new_id(), kind=kind, effective_date=day, legal_basis=LegalBasis.from_dict(data.get("legal_basis")), note=data.get("note"))


def new_unit_spec(data: dict[str, Any], unit_id: str | None = None) -> NewUnit:
    return NewUnit(
        id=unit_id or new_id(),
        name=data["name"],
        kind=data["kind"],
        code=data.get("code"),
        short_name=data.get("short_name"),
        parent_id=data.get("parent_id"),
        valid_from=parse_day(data.get("valid_from"), "valid_from"),
        valid_to=parse_day(data.get("valid_to"), "valid_to"),
        contacts=data.get("contacts") or {},
        head=data.get("head") or {},
        note=data.get("note"),
    )


def establish_unit(store: UnitStore, data: dict[str, Any], actor: str | None) -> tuple[ChangeSet, list[Unit]]:
    spec = new_unit_spec(data)
    act = Act(id=new_id(), kind="establish", effective_date=spec.valid_from, legal_basis=LegalBasis.from_dict(data.get("legal_basis")))
    return run(store, lambda d: acts.establish(d, act, spec), actor)


def update_unit(store: UnitStore, unit_id: str, data: dict[str, Any], actor: str | None, expected_version: Callable[[Unit], None] | None = None) -> tuple[ChangeSet, list[Unit]]:
    def build(directory: Directory) -> ChangeSet:
        unit = acts.require(directory, unit_id)
        if expected_version:
            expected_version(unit)  # the API's If-Match, checked under the lease
        return acts.update_details(directory, Act(id=new_id(), kind="update"), unit_id, **data)

    return run(store, build, actor)


def rename_unit(store: UnitStore, unit_id: str, data: dict[str, Any], actor: str | None):
    act = _act("rename", data)
    return run(store, lambda d: acts.rename(d, act, unit_id, data.get("name"), data.get("code"), data.get("short_name"), data.get("kind")), actor)


def move_unit(store: UnitStore, unit_id: str, data: dict[str, Any], actor: str | None):
    act = _act("move", data)
    return run(store, lambda d: acts.move(d, act, unit_id, data.get("parent_id")), actor)


def dissolve_unit(store: UnitStore, unit_id: str, data: dict[str, Any], actor: str | None):
    act = _act("dissolve", data)
    return run(store, lambda d: acts.dissolve(d, act, unit_id), actor)


def split_unit(store: UnitStore, unit_id: str, data: dict[str, Any], actor: str | None):
    act = _act("split", data)
    specs = [new_unit_spec(u) for u in data.get("new_units") or []]
    return run(store, lambda d: acts.split(d, act, unit_id, list(data.get("into_ids") or []), specs), actor)


def merge_units(store: UnitStore, data: dict[str, Any], actor: str | None):
    act = _act("merge", data)
    spec = new_unit_spec(data["new_unit"]) if data.get("new_unit") else None
    return run(store, lambda d: acts.merge(d, act, list(data["predecessor_ids"]), data.get("into_id"), spec), actor)


def get_unit(directory: Directory, unit_id: str) -> Unit:
    unit = directory.get(unit_id)
    if unit is None:
        raise NotFound(f"Không có đơn vị {unit_id} / no unit {unit_id}")
    return unit


def units_as_of(directory: Directory, day: date, q: str | None = None, kind: str | None = None, parent_id: str | None = None, status: str = "active") -> list[Unit]:
    """The units matching the filters on `day`, in Vietnamese order of their names then."""
    matching = {u.id for u in directory.search(q)} if q else None
    found = []
    for unit in directory.in_name_order(day):
        if matching is not None and unit.id not in matching:
            continue
        if status != "any" and unit.status(day) != status:
            continue
        shown = unit.at(day) or unit.current
        if (kind and shown.kind != kind) or (parent_id and shown.parent_id != parent_id):
            continue
        found.append(unit)
    return found


def lineage(directory: Directory, unit_id: str) -> dict[str, list[dict[str, Any]]]:
    """Predecessors and successors of a unit, transitively, each with its distance (1 = direct)."""
    get_unit(directory, unit_id)

    def walk(attribute: str) -> list[dict[str, Any]]:
        found, frontier, seen, depth = [], [unit_id], {unit_id}, 0
        while frontier:
            depth += 1
            next_frontier = []
            for current in frontier:
                for other_id in getattr(directory.get(current), attribute):
                    if other_id not in seen and directory.get(other_id):
                        seen.add(other_id)
                        found.append({"unit": directory.get(other_id), "distance": depth, "via": current})
                        next_frontier.append(other_id)
            frontier = next_frontier
        return found

    return {"predecessors": walk("predecessor_ids"), "successors": walk("successor_ids")}
