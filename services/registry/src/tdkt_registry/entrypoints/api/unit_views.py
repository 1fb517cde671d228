"""How a unit is shown to a caller on a date: the segment in force, its level, and contacts
only for those allowed to see them (officers and the unit itself)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app
from tdkt.auth import Principal

from tdkt_registry.adapters.unit_store import UnitStore
from tdkt_registry.domain.directory import Directory
from tdkt_registry.domain.units import KINDS, Unit

CONTACT_ROLES = ("tdkt_officer", "admin")


def unit_store() -> UnitStore:
    ext = current_app.extensions["tdkt"]
    if "unit_store" not in ext.components:
        ext.components["unit_store"] = UnitStore(ext.db)
    return ext.components["unit_store"]


def sees_contacts(principal: Principal, unit: Unit) -> bool:
    return principal.has_any(*CONTACT_ROLES) or principal.unit_id == unit.id


def unit_view(directory: Directory, unit: Unit, day: date, principal: Principal, *, history: bool = False, depth: int | None = None) -> dict[str, Any]:
    segment = unit.at(day) or (unit.segments[0] if unit.valid_from and day < unit.valid_from else unit.current)
    parent = directory.get(segment.parent_id)
    parent_segment = (parent.at(day) or parent.current) if parent else None
    view: dict[str, Any] = {
        "id": unit.id,
        "code": segment.code,
        "name": segment.name,
        "short_name": segment.short_name,
        "kind": segment.kind,
        "kind_label": KINDS.get(segment.kind, (segment.kind, None))[0],
        "level": directory.tier(unit, day),
        "parent_id": segment.parent_id,
        "parent_name": parent_segment.name if parent_segment else None,
        "valid_from": unit.valid_from.isoformat() if unit.valid_from else None,
        "valid_to": unit.valid_to.isoformat() if unit.valid_to else None,
        "status": unit.status(day),
        "end_reason": unit.end_reason,
        "predecessor_ids": list(unit.predecessor_ids),
        "successor_ids": list(unit.successor_ids),
        "head": unit.head,
        "note": unit.note,
        "version": unit.version,
        "as_of": day.isoformat(),
    }
    if sees_contacts(principal, unit):
        view["contacts"] = unit.contacts
    if history:
        view["history"] = [s.to_dict() for s in unit.segments]
    if depth is not None:
        view["depth"] = depth
    return view
