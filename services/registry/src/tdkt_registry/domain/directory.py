"""The unit directory: every unit, with the indexes that answer "as of this date" questions.

A province holds a few thousand units and changes a few times a day, so the whole directory is
held in memory and queried in Python: children, ancestors, subtree and diacritic-insensitive
search as of any date cost microseconds to milliseconds, whatever the store can index.
`Directory.with_changes` overlays a change set without copying, so a write is validated
against the state it will produce (e.g. a successor taking over a predecessor's code).

Threads share one directory (gunicorn's gthread workers), so a published directory is never
mutated: changes go into a `copy()` (shallow, a millisecond or two) that then replaces it.
`put` only ever *replaces* index sets, never edits them, which is what makes the shallow copy safe.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date

from tdkt.text import fold, sort_key

from tdkt_registry.domain.units import KINDS, Segment, Unit


class Directory:
    def __init__(self, units: Iterable[Unit] = ()):
        self._units: dict[str, Unit] = {}
        self._by_code: dict[str, frozenset[str]] = {}
        self._by_parent: dict[str | None, frozenset[str]] = {}  # units that ever had this parent
        self._search: dict[str, str] = {}
        self._ordered: dict[date, list[Unit]] = {}
        for unit in units:
            self.put(unit)

    # ---- maintenance ----

    def put(self, unit: Unit) -> None:
        old = self._units.get(unit.id)
        if old is not None:
            for code in old.codes():
                self._by_code[code] = self._by_code[code] - {unit.id}
            for parent in old.parents() or {None}:
                self._by_parent[parent] = self._by_parent[parent] - {unit.id}
        self._units[unit.id] = unit
        for code in unit.codes():
            self._by_code[code] = self._by_code.get(code, frozenset()) | {unit.id}
        for parent in unit.parents() or {None}:
            self._by_parent[parent] = self._by_parent.get(parent, frozenset()) | {unit.id}
        self._search[unit.id] = unit.search_text()
        self._ordered = {}

    def copy(self) -> Directory:
        twin = Directory.__new__(Directory)
        twin._units, twin._search = dict(self._units), dict(self._search)
        twin._by_code, twin._by_parent = dict(self._by_code), dict(self._by_parent)
        twin._ordered = {}
        return twin

    def in_name_order(self, day: date) -> list[Unit]:
        """Every unit, in Vietnamese order of its name on `day` — sorted once per day and
        directory version (lists are mostly read for today, over and over)."""
        ordered = self._ordered.get(day)
        if ordered is None:
            ordered = sorted(self._units.values(), key=lambda u: sort_key((u.at(day) or u.current).name))
            if len(self._ordered) >= 8:
                self._ordered = {}
            self._ordered[day] = ordered
        return ordered

    def with_changes(self, changed: Iterable[Unit]) -> Directory:
        return _Overlay(self, {u.id: u for u in changed})

    # ---- lookups ----

    def __len__(self) -> int:
        return len(self._units)

    def __contains__(self, unit_id: str) -> bool:
        return self.get(unit_id) is not None

    def get(self, unit_id: str | None) -> Unit | None:
        return self._units.get(unit_id) if unit_id else None

    def all(self) -> Iterator[Unit]:
        return iter(self._units.values())

    def _code_holder_ids(self, code: str) -> set[str]:
        return self._by_code.get(code, frozenset())

    def _ids_ever_under(self, parent_id: str | None) -> set[str]:
        return self._by_parent.get(parent_id, frozenset())

    def _search_text(self, unit: Unit) -> str:
        return self._search.get(unit.id) or unit.search_text()

    # ---- questions asked "as of" a date ----

    def holders_of_code(self, code: str, start: date | None = None, end: date | None = None) -> list[tuple[Unit, Segment]]:
        """Units that held `code` at some time in [start, end] (None = unbounded)."""
        found = []
        for unit_id in self._code_holder_ids(code):
            unit = self.get(unit_id)
            for segment in unit.segments:
                if segment.code == code and segment.overlaps(start, end):
                    found.append((unit, segment))
                    break
        return found

    def by_code(self, code: str, day: date) -> Unit | None:
        holders = [u for u, _ in self.holders_of_code(code, day, day)]
        return holders[0] if holders else None

    def children(self, parent_id: str, day: date) -> list[Unit]:
        kids = []
        for unit_id in self._ids_ever_under(parent_id):
            unit = self.get(unit_id)
            segment = unit.at(day)
            if segment and segment.parent_id == parent_id:
                kids.append(unit)
        return sorted(kids, key=lambda u: sort_key(u.at(day).name))

    def ancestors(self, unit_id: str, day: date) -> list[Unit]:
        """Parent first, up to the root, as of `day` (stops at a parent that did not exist then)."""
        chain: list[Unit] = []
        seen = {unit_id}
        segment = self.get(unit_id).at(day) if self.get(unit_id) else None
        while segment and segment.parent_id and segment.parent_id not in seen:
            parent = self.get(segment.parent_id)
            if parent is None or parent.at(day) is None:
                break
            chain.append(parent)
            seen.add(parent.id)
            segment = parent.at(day)
        return chain

    def subtree(self, unit_id: str, day: date) -> list[tuple[Unit, int]]:
        """Every unit under `unit_id` on `day`, breadth first, with its depth below it (1 = child)."""
        found: list[tuple[Unit, int]] = []
        frontier, depth, seen = [unit_id], 0, {unit_id}
        while frontier:
            depth += 1
            next_frontier = []
            for parent_id in frontier:
                for child in self.children(parent_id, day):
                    if child.id not in seen:
                        seen.add(child.id)
                        found.append((child, depth))
                        next_frontier.append(child.id)
            frontier = next_frontier
        return found

    def is_under(self, unit_id: str, ancestor_id: str, day: date) -> bool:
        return any(a.id == ancestor_id for a in self.ancestors(unit_id, day))

    def tier(self, unit: Unit, day: date) -> str | None:
        """The administrative level a unit belongs to: its own if it is an administrative unit,
        else its nearest administrative ancestor's (a district's agency is at district level)."""
        for candidate in (unit, *self.ancestors(unit.id, day)):
            segment = candidate.at(day) or candidate.current
            tier = KINDS.get(segment.kind, (None, None))[1]
            if tier:
                return tier
        return None

    def search(self, text: str) -> Iterator[Unit]:
        """Units any of whose names or codes, folded, contain the folded `text`."""
        needle = fold(text)
        for unit in self.all():
            if needle in self._search_text(unit):
                yield unit


class _Overlay(Directory):
    """A directory with some units replaced or added, sharing the base's indexes."""

    def __init__(self, base: Directory, changed: dict[str, Unit]):
        self._base, self._changed = base, changed

    def put(self, unit: Unit) -> None:
        self._changed[unit.id] = unit

    def in_name_order(self, day: date) -> list[Unit]:
        return sorted(self.all(), key=lambda u: sort_key((u.at(day) or u.current).name))

    def __len__(self) -> int:
        return len(self._base) + sum(1 for i in self._changed if self._base.get(i) is None)

    def get(self, unit_id):
        return self._changed.get(unit_id) or self._base.get(unit_id)

    def all(self):
        yield from self._changed.values()
        yield from (u for u in self._base.all() if u.id not in self._changed)

    def _code_holder_ids(self, code):
        return self._base._code_holder_ids(code) | {i for i, u in self._changed.items() if code in u.codes()}

    def _ids_ever_under(self, parent_id):
        return self._base._ids_ever_under(parent_id) | {i for i, u in self._changed.items() if parent_id in (u.parents() or {None})}

    def _search_text(self, unit):
        return unit.search_text() if unit.id in self._changed else self._base._search_text(unit)
