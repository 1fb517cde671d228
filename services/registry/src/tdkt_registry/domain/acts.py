"""Acts on units — establish, update, rename, move, merge, split, dissolve — as pure functions.

Each takes the directory and returns a `ChangeSet`: the act (what, when, on which legal basis)
and the new state of every unit it touches, validated against the directory as it will be
after the change. Nothing is written here; the adapter stores a change set as one unit of work.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from tdkt.clock import local_today
from tdkt.errors import Conflict, Invalid
from tdkt.text import nfc

from tdkt_registry.domain.directory import Directory
from tdkt_registry.domain.units import ONE_DAY, LegalBasis, Segment, Unit, check_kind, day_text

ACT_KINDS = ("establish", "update", "rename", "move", "merge", "split", "dissolve")


@dataclass(frozen=True)
class Act:
    id: str
    kind: str
    effective_date: date | None = None
    legal_basis: LegalBasis | None = None
    note: str | None = None
    predecessor_ids: tuple[str, ...] = ()
    successor_ids: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "effective_date": day_text(self.effective_date),
            "legal_basis": self.legal_basis.to_dict() if self.legal_basis else None,
            "note": self.note,
            "predecessor_ids": list(self.predecessor_ids),
            "successor_ids": list(self.successor_ids),
        }


@dataclass(frozen=True)
class UnitChange:
    unit: Unit  # the state after the act
    event: str  # established | updated | renamed | moved | merged | split | dissolved
    created: bool = False


@dataclass
class ChangeSet:
    act: Act
    changes: list[UnitChange] = field(default_factory=list)

    @property
    def units(self) -> list[Unit]:
        return [c.unit for c in self.changes]


@dataclass(frozen=True)
class NewUnit:
    """What establishing a unit needs; the caller gives it its id."""

    id: str
    name: str
    kind: str
    code: str | None = None
    short_name: str | None = None
    parent_id: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    contacts: dict = field(default_factory=dict)
    head: dict = field(default_factory=dict)
    note: str | None = None

    def to_unit(self, act_id: str | None, field_prefix: str = "") -> Unit:
        check_kind(self.kind, f"{field_prefix}kind")
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise Invalid(f"{field_prefix}valid_to", f"Ngày kết thúc trước ngày bắt đầu / valid_to {self.valid_to} is before valid_from {self.valid_from}")
        segment = Segment(
            start=self.valid_from,
            end=self.valid_to,
            name=nfc(self.name),
            kind=self.kind,
            code=self.code or None,
            short_name=nfc(self.short_name) if self.short_name else None,
            parent_id=self.parent_id,
            act_id=act_id,
        )
        return Unit(
            id=self.id,
            segments=(segment,),
            contacts=self.contacts,
            head=self.head,
            note=self.note,
            end_reason="ended" if self.valid_to else None,
            acts=(act_id,) if act_id else (),
        )


# ---------------------------------------------------------------- commands


def establish(directory: Directory, act: Act, spec: NewUnit) -> ChangeSet:
    if directory.get(spec.id):
        raise Conflict(f"Đã có đơn vị mã nội bộ {spec.id} / unit id {spec.id} exists")
    changes = ChangeSet(act, [UnitChange(spec.to_unit(act.id), "established", created=True)])
    return validated(directory, changes)


def update_details(directory: Directory, act: Act, unit_id: str, **details) -> ChangeSet:
    """Contacts, head, note, short name: facts about the unit that carry no history."""
    unit = require(directory, unit_id)
    current = unit.current
    if "short_name" in details:
        current = replace(current, short_name=nfc(details.pop("short_name") or "") or None)
    updated = replace(unit, segments=(*unit.segments[:-1], current), **details)
    return validated(directory, ChangeSet(act, [UnitChange(updated, "updated")]))


def rename(directory: Directory, act: Act, unit_id: str, name: str | None = None, code: str | None = None, short_name: str | None = None, kind: str | None = None) -> ChangeSet:
    unit = require(directory, unit_id)
    attributes: dict[str, Any] = {}
    if name:
        attributes["name"] = nfc(name)
    if code:
        attributes["code"] = code
    if short_name:
        attributes["short_name"] = nfc(short_name)
    if kind:
        attributes["kind"] = check_kind(kind)
    if not attributes or all(getattr(unit.current, k) == v for k, v in attributes.items()):
        raise Invalid("name", "Không có gì thay đổi: tên, mã, tên viết tắt hoặc loại phải khác hiện tại / nothing changes: give a new name, code, short name or kind")
    return validated(directory, ChangeSet(act, [UnitChange(unit.changed_from(act.effective_date, act.id, **attributes), "renamed")]))


def move(directory: Directory, act: Act, unit_id: str, parent_id: str | None) -> ChangeSet:
    unit = require(directory, unit_id)
    if unit.current.parent_id == parent_id:
        raise Invalid("parent_id", "Đơn vị đã trực thuộc đơn vị này / the unit is already under that parent")
    return validated(directory, ChangeSet(act, [UnitChange(unit.changed_from(act.effective_date, act.id, parent_id=parent_id), "moved")]))


def merge(directory: Directory, act: Act, predecessor_ids: list[str], into_id: str | None = None, new_unit: NewUnit | None = None) -> ChangeSet:
    """Many → one: each predecessor ends the day before and points at the successor, which is an
    existing unit (absorption) or a new one (established on the act's date). The predecessors'
    children still active move under the successor."""
    day = act.effective_date
    if bool(into_id) == bool(new_unit):
        raise Invalid("into_id", "Chỉ rõ đơn vị kế thừa: into_id hoặc new_unit (một trong hai) / give exactly one of into_id or new_unit")
    if len(set(predecessor_ids)) != len(predecessor_ids):
        raise Invalid("predecessor_ids", "Danh sách đơn vị bị trùng / an id is listed twice")
    if into_id in predecessor_ids:
        raise Invalid("into_id", "Đơn vị kế thừa không thể đồng thời là đơn vị bị sáp nhập / the successor cannot also be a predecessor")
    changes: list[UnitChange] = []
    if new_unit:
        successor = replace(new_unit, valid_from=day, valid_to=None).to_unit(act.id, "new_unit.")
        created = True
    else:
        successor = require_active(directory, into_id, day, "into_id", role="đơn vị kế thừa / successor")
        created = False
    predecessors = [require_active(directory, pid, day, f"predecessor_ids.{i}") for i, pid in enumerate(predecessor_ids)]
    if not predecessors:
        raise Invalid("predecessor_ids", "Cần ít nhất một đơn vị bị sáp nhập / at least one predecessor is required")
    act = replace(act, predecessor_ids=tuple(predecessor_ids), successor_ids=(successor.id,))
    for unit in predecessors:
        changes.append(UnitChange(unit.ended_on(day, "merged", act.id, (successor.id,)), "merged"))
        for child in directory.children(unit.id, day):
            changes.append(UnitChange(child.changed_from(day, act.id, parent_id=successor.id), "moved"))
    changes.append(UnitChange(successor.succeeding(tuple(predecessor_ids), act.id), "merged", created=created))
    return validated(directory, ChangeSet(act, changes))


def split(directory: Directory, act: Act, unit_id: str, into_ids: list[str], new_units: list[NewUnit]) -> ChangeSet:
    """One → many: the unit ends the day before; each successor (existing or new) points back."""
    day = act.effective_date
    unit = require_active(directory, unit_id, day, "unit_id")
    if len(into_ids) + len(new_units) < 2:
        raise Invalid("new_units", "Chia tách cần ít nhất hai đơn vị kế thừa / a split needs at least two successors (one is a rename or a merge)")
    if unit_id in into_ids:
        raise Invalid("into_ids", "Đơn vị bị chia tách không thể là đơn vị kế thừa / the split unit cannot be its own successor")
    if kids := directory.children(unit_id, day):
        raise Conflict(
            f"Đơn vị còn {len(kids)} đơn vị trực thuộc; chuyển chúng trước khi chia tách / the unit still has {len(kids)} child unit(s) on {day}: move them first",
            child_ids=[k.id for k in kids[:50]],
        )
    successors = [require_active(directory, sid, day, f"into_ids.{i}", role="đơn vị kế thừa / successor") for i, sid in enumerate(into_ids)]
    successors += [replace(spec, valid_from=day, valid_to=None).to_unit(act.id, f"new_units.{i}.") for i, spec in enumerate(new_units)]
    successor_ids = tuple(s.id for s in successors)
    act = replace(act, predecessor_ids=(unit_id,), successor_ids=successor_ids)
    changes = [UnitChange(unit.ended_on(day, "split", act.id, successor_ids), "split")]
    changes += [UnitChange(s.succeeding((unit_id,), act.id), "split", created=i >= len(into_ids)) for i, s in enumerate(successors)]
    return validated(directory, ChangeSet(act, changes))


def dissolve(directory: Directory, act: Act, unit_id: str) -> ChangeSet:
    day = act.effective_date
    unit = require_active(directory, unit_id, day, "unit_id")
    if kids := directory.children(unit_id, day):
        raise Conflict(
            f"Đơn vị còn {len(kids)} đơn vị trực thuộc vào ngày {day}; sáp nhập, chuyển hoặc giải thể chúng trước / the unit still has {len(kids)} active child unit(s) on {day}: merge, move or dissolve them first",
            child_ids=[k.id for k in kids[:50]],
        )
    return validated(directory, ChangeSet(replace(act, predecessor_ids=(unit_id,)), [UnitChange(unit.ended_on(day, "dissolved", act.id), "dissolved")]))


# ---------------------------------------------------------------- rules every change set obeys


def require(directory: Directory, unit_id: str | None, field_name: str = "unit_id") -> Unit:
    from tdkt.errors import NotFound

    unit = directory.get(unit_id)
    if unit is None:
        if field_name == "unit_id":
            raise NotFound(f"Không có đơn vị {unit_id} / no unit {unit_id}")
        raise Invalid(field_name, f"Không có đơn vị {unit_id} / no unit {unit_id}")
    return unit


def require_active(directory: Directory, unit_id: str | None, day: date, field_name: str, role: str = "đơn vị / unit") -> Unit:
    unit = require(directory, unit_id, field_name)
    if unit.at(day) is None:
        status = unit.status(day)
        message = f"{role} {unit.current.name} không còn hoạt động vào ngày {day} ({status}) / {unit.current.name} is not active on {day} ({status})"
        if status in ("merged", "split", "dissolved", "ended"):
            raise Conflict(message, unit_id=unit.id, unit_status=status)
        raise Invalid(field_name, message)
    return unit


def validated(directory: Directory, changes: ChangeSet) -> ChangeSet:
    after = directory.with_changes(changes.units)
    for change in changes.changes:
        _check_codes(after, change.unit)
        _check_parents(after, change.unit)
    return changes


def _check_codes(after: Directory, unit: Unit) -> None:
    """A code is held by one unit at a time: the same code over overlapping periods is a conflict."""
    for segment in unit.segments:
        if not segment.code:
            continue
        for other, held in after.holders_of_code(segment.code, segment.start, segment.end):
            if other.id != unit.id:
                raise Conflict(
                    f"Mã {segment.code} đang được dùng bởi {held.name} ({held.start or '…'} – {held.end or 'nay'}) / code {segment.code} is held by {held.name} over an overlapping period",
                    other_unit={"id": other.id, "name": held.name, "code": held.code, "valid_from": day_text(held.start), "valid_to": day_text(held.end)},
                )


def _check_parents(after: Directory, unit: Unit) -> None:
    for segment in unit.segments:
        if not segment.parent_id:
            continue
        parent = after.get(segment.parent_id)
        if parent is None:
            raise Invalid("parent_id", f"Không có đơn vị cấp trên {segment.parent_id} / no parent unit {segment.parent_id}")
        day = segment.start or parent.valid_from
        if day is not None and parent.at(day) is None:
            raise Conflict(
                f"Đơn vị cấp trên {parent.current.name} không hoạt động vào ngày {day} ({parent.status(day)}) / the parent is not active on {day}",
                parent_id=parent.id,
            )
        check_day = day or local_today()
        if segment.parent_id == unit.id or after.is_under(segment.parent_id, unit.id, check_day):
            raise Conflict(f"Quan hệ cấp trên tạo thành vòng lặp / {parent.current.name} is {unit.current.name}'s own descendant: the hierarchy would have a cycle")


def day_before(day: date) -> date:
    return day - ONE_DAY
