"""Bulk import of agencies and organisations from a CSV or XLSX file, with a dry run.

`plan_import` decides, without writing, what each row would do: `create` a unit, `change` its
contacts, head, short name or note (an `update` act), leave it `unchanged`, or stop on an
`error` naming the row (as the user sees it: the header is row 1), the column and the problem.
Rows are checked one by one against the directory plus the rows before them, with the domain's
own rules (`acts.validated`), so a file is refused for exactly what the API would refuse.
Name, kind and parent are history: a difference is an error asking for a rename or move act,
never a silent overwrite. Empty cells leave existing values as they are, so re-running an
applied file finds every row unchanged.

`apply_import` plans again under the directory's lease and writes only a plan without errors,
in acts of at most `CHUNK` units. If it dies half-way, the acts stored so far stay (each is a
unit of work) and running the file again finishes the rest.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from tdkt.clock import local_today
from tdkt.errors import DomainError, Invalid
from tdkt.text import fold, nfc

from tdkt_registry.adapters.unit_store import UnitStore
from tdkt_registry.domain import acts
from tdkt_registry.domain.acts import Act, ChangeSet, NewUnit, UnitChange
from tdkt_registry.domain.directory import Directory
from tdkt_registry.domain.units import KINDS, Unit, check_kind
from tdkt_registry.service_layer.units import new_id

CHUNK = 200  # units per act, as the admin-unit import

# field → header names accepted, folded (`Mã đơn vị cấp trên` → `ma don vi cap tren`)
COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("code", "ma", "ma don vi", "ma so"),
    "name": ("name", "ten", "ten don vi"),
    "short_name": ("short name", "ten viet tat", "ten ngan", "viet tat"),
    "kind": ("kind", "type", "loai", "loai don vi"),
    "parent_code": ("parent code", "ma don vi cap tren", "ma cap tren"),
    "parent_id": ("parent id", "id don vi cap tren", "id cap tren"),
    "valid_from": ("valid from", "ngay thanh lap", "tu ngay", "ngay hieu luc"),
    "email": ("email", "e mail", "thu dien tu"),
    "phone": ("phone", "dien thoai", "so dien thoai"),
    "webhook_url": ("webhook url", "webhook"),
    "head_name": ("head name", "thu truong", "ho ten thu truong", "nguoi dung dau"),
    "head_title": ("head title", "chuc vu", "chuc vu thu truong"),
    "note": ("note", "ghi chu"),
}
IGNORED = {"stt", "tt", "so thu tu", "no"}  # the row numbers spreadsheets often carry
_HEADERS = {alias: name for name, aliases in COLUMNS.items() for alias in aliases}
# kind ids, their spaced forms ("mass organisation") and their Vietnamese labels ("Trường học")
_KINDS = {fold(k.replace("_", " ")): k for k in KINDS} | {fold(label): k for k, (label, _) in KINDS.items()}
DETAILS = {"short_name": 100, "email": 254, "phone": 20, "webhook_url": 500, "head_name": 200, "head_title": 200, "note": 2000}
CODE = re.compile(r"^[0-9A-Za-z._-]{1,20}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9 ().-]{6,20}$")
DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


@dataclass
class PlannedRow:
    row: int
    action: str = "unchanged"  # create | change | unchanged | error
    code: str | None = None
    name: str | None = None
    unit_id: str | None = None  # of the matched unit; of a created one once applied
    changes: list[dict[str, Any]] = field(default_factory=list)  # [{field, old, new}]
    errors: list[dict[str, str | None]] = field(default_factory=list)  # [{column, message}]
    spec: NewUnit | None = None  # what a create establishes
    details: dict[str, Any] | None = None  # what a change passes to `acts.update_details`

    def fail(self, column: str | None, message: str) -> None:
        self.action = "error"
        self.errors.append({"column": column, "message": message})

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("row", "action", "code", "name", "unit_id", "changes", "errors")}


@dataclass
class ImportPlan:
    rows: list[PlannedRow]

    def summary(self) -> dict[str, int]:
        counts = dict.fromkeys(("create", "change", "unchanged", "error"), 0)
        for row in self.rows:
            counts[row.action] += 1
        return counts

    @property
    def errors(self) -> list[PlannedRow]:
        return [r for r in self.rows if r.errors]

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary(), "rows": [r.to_dict() for r in self.rows]}


class ImportRefused(Invalid):
    """A plan with row errors is not applied: 422 with the rows in the problem body."""

    def __init__(self, plan: ImportPlan):
        bad = plan.errors
        DomainError.__init__(
            self,
            f"{len(bad)} dòng có lỗi, không ghi gì / {len(bad)} row(s) have errors: nothing was written",
            summary=plan.summary(),
            rows=[r.to_dict() for r in bad],
        )
        lines = [f"row {r.row}, {e['column'] or '-'}: {e['message']}" for r in bad for e in r.errors]
        self.errors = {"files": {"file": lines[:100]}}
        self.plan = plan


# ---------------------------------------------------------------- planning


def plan_import(directory: Directory, rows: list[dict[str, Any]], today: date | None = None) -> ImportPlan:
    """What importing `rows` would do to `directory`; writes nothing, never changes `directory`."""
    today = today or local_today()
    columns, header_errors = _map_headers({h for row in rows for h in row})
    planner = _Planner(directory, today)
    planned = [PlannedRow(1, errors=header_errors, action="error")] if header_errors else []
    for number, raw in enumerate(rows, start=2):
        if raw:
            planned.append(planner.plan({columns[h]: v for h, v in raw.items() if h in columns}, number))
    return ImportPlan(planned)


def _map_headers(headers: set[str]) -> tuple[dict[str, str], list[dict[str, str | None]]]:
    columns: dict[str, str] = {}
    errors: list[dict[str, str | None]] = []
    for header in sorted(headers):
        parts = [fold(re.sub(r"[_\-.]+", " ", p)) for p in (header, *re.split(r"[/()]", header))]
        if parts[0] in IGNORED:
            continue
        name = next((_HEADERS[p] for p in parts if p in _HEADERS), None)
        if name is None:
            errors.append({"column": header, "message": f"Cột không xác định / unknown column {header!r}; known: {', '.join(COLUMNS)}"})
        elif name in columns.values():
            errors.append({"column": header, "message": f"Hai cột cùng là {name} / two columns mean {name}"})
        else:
            columns[header] = name
    return columns, errors


class _Planner:
    def __init__(self, directory: Directory, today: date):
        self.base, self.today = directory, today
        self.after = Directory(directory.all())  # a copy the rows are added to, one by one
        self.by_name: dict[tuple[str, str | None], list[Unit]] = defaultdict(list)
        for unit in directory.all():
            if segment := unit.at(today):
                self.by_name[(fold(segment.name), segment.parent_id)].append(unit)
        self.codes: dict[str, tuple[int, str | None]] = {}  # code in the file → (row, unit id or None if it failed)
        self.claimed: dict[str, int] = {}  # unit id (existing or new) → the row that took it
        self.creating: dict[tuple[str, str | None], int] = {}  # (folded name, parent) of new units → row

    def plan(self, cells: dict[str, Any], number: int) -> PlannedRow:
        text = {k: nfc(str(v)) for k, v in cells.items() if k != "valid_from" and str(v).strip()}
        row = PlannedRow(number, code=text.get("code"), name=text.get("name"))
        values = self._check_cells(row, text, cells.get("valid_from"))
        parent_id, parent_column = self._parent(row, text, values.get("valid_from"))
        if not row.errors:
            try:
                self._decide(row, values, parent_id, parent_column)
            except DomainError as exc:
                row.fail(_column_of(exc, parent_column), exc.message)
        if row.code:
            self.codes.setdefault(row.code, (number, None if row.errors else row.unit_id or (row.spec and row.spec.id)))
        return row

    def _check_cells(self, row: PlannedRow, text: dict[str, str], valid_from: Any) -> dict[str, Any]:
        values: dict[str, Any] = dict(text)
        if not row.name:
            row.fail("name", "Thiếu tên đơn vị / the name is required")
        elif len(row.name) > 300:
            row.fail("name", "Tên tối đa 300 ký tự / the name is at most 300 characters")
        if row.code and not CODE.match(row.code):
            row.fail("code", "Mã gồm chữ, số, . _ - (tối đa 20) / a code is letters, digits, . _ - (at most 20)")
        if "kind" in text:
            values["kind"] = _KINDS.get(fold(re.sub(r"[_\-]+", " ", text["kind"])).replace("organization", "organisation"), text["kind"])
            try:
                check_kind(values["kind"])
            except Invalid as exc:
                row.fail("kind", exc.message)
        for name, limit in DETAILS.items():
            if len(text.get(name, "")) > limit:
                row.fail(name, f"Tối đa {limit} ký tự / at most {limit} characters")
        if "email" in text and not EMAIL.match(text["email"]):
            row.fail("email", f"Email không hợp lệ / not an email address: {text['email']!r}")
        if "phone" in text and not PHONE.match(text["phone"]):
            row.fail("phone", f"Số điện thoại không hợp lệ / not a phone number: {text['phone']!r}")
        if "webhook_url" in text and (urlsplit(text["webhook_url"]).scheme not in ("http", "https") or not urlsplit(text["webhook_url"]).netloc):
            row.fail("webhook_url", f"Địa chỉ phải bắt đầu bằng https:// / not an http(s) URL: {text['webhook_url']!r}")
        if valid_from not in (None, ""):
            values["valid_from"] = _day(valid_from)
            if values["valid_from"] is None:
                row.fail("valid_from", f"Ngày không hợp lệ, dùng YYYY-MM-DD hoặc dd/mm/yyyy / not a date, use YYYY-MM-DD or dd/mm/yyyy: {str(valid_from)!r}")
        return values

    def _parent(self, row: PlannedRow, text: dict[str, str], valid_from: date | None) -> tuple[str | None, str | None]:
        """The parent's id (None: top level) and the column it came from (None: not given)."""
        day = valid_from or self.today
        if parent_id := text.get("parent_id"):
            if self.after.get(parent_id) is None:
                row.fail("parent_id", f"Không có đơn vị cấp trên {parent_id} / no parent unit {parent_id}")
            return parent_id, "parent_id"
        code = text.get("parent_code")
        if not code:
            return None, None
        if code in self.codes:
            earlier, unit_id = self.codes[code]
            if unit_id is None:
                row.fail("parent_code", f"Đơn vị cấp trên (dòng {earlier}) có lỗi / the parent's row {earlier} has errors")
            return unit_id, "parent_code"
        parent = self.base.by_code(code, day)
        if parent is None:
            row.fail("parent_code", f"Không có đơn vị mã {code} vào ngày {day:%d/%m/%Y} / no unit holds code {code} on {day}")
            return None, "parent_code"
        return parent.id, "parent_code"

    def _decide(self, row: PlannedRow, values: dict[str, Any], parent_id: str | None, parent_column: str | None) -> None:
        existing = self._match(row, parent_id)
        if existing is None:
            self._create(row, values, parent_id)
        else:
            if existing.id in self.claimed:
                row.fail("code" if row.code else "name", f"Cùng đơn vị với dòng {self.claimed[existing.id]} / the same unit as row {self.claimed[existing.id]}")
                return
            self.claimed[existing.id] = row.row
            row.unit_id = existing.id
            self._compare(row, existing, values, parent_id, parent_column)

    def _match(self, row: PlannedRow, parent_id: str | None) -> Unit | None:
        if row.code and (unit := self.base.by_code(row.code, self.today)):
            return unit
        found = self.by_name.get((fold(row.name), parent_id), [])
        if row.code and found:
            other = found[0].current
            raise Invalid(
                "code",
                f"Đã có «{other.name}» (mã {other.code or '-'}) cùng cấp trên; đổi mã cần quyết định đổi tên / «{other.name}» (code {other.code or '-'}) already exists under that parent: recoding it needs a rename act",
            )
        if len(found) > 1:
            raise Invalid("name", f"Có {len(found)} đơn vị cùng tên dưới cấp trên này; ghi mã để chỉ rõ / {len(found)} units have this name under that parent: give the code")
        return found[0] if found else None

    def _create(self, row: PlannedRow, values: dict[str, Any], parent_id: str | None) -> None:
        if "kind" not in values:
            raise Invalid("kind", "Thiếu loại đơn vị / the kind is required for a new unit")
        key = (fold(row.name), parent_id)
        if key in self.creating:
            raise Invalid("name", f"Dòng {self.creating[key]} đã tạo đơn vị này / row {self.creating[key]} already creates this unit")
        parent = self.after.get(parent_id)
        day = values.get("valid_from") or self.today
        if parent is not None and parent.at(day) is None:
            raise Invalid("parent_id", f"Đơn vị cấp trên {parent.current.name} không hoạt động vào ngày {day:%d/%m/%Y} / the parent is not active on {day}")
        contacts, head = _contacts_and_head(values)
        spec = NewUnit(
            id=new_id(),
            name=row.name,
            kind=values["kind"],
            code=row.code,
            short_name=values.get("short_name"),
            parent_id=parent_id,
            valid_from=values.get("valid_from"),
            contacts=contacts,
            head=head,
            note=values.get("note"),
        )
        unit = spec.to_unit("planned")
        acts.validated(self.after, ChangeSet(Act("planned", "establish"), [UnitChange(unit, "established", created=True)]))
        self.after.put(unit)
        self.creating[key] = row.row
        row.action, row.spec = "create", spec

    def _compare(self, row: PlannedRow, unit: Unit, values: dict[str, Any], parent_id: str | None, parent_column: str | None) -> None:
        current = unit.current
        rename = f"needs a rename act (POST /units/{unit.id}/renames)"
        if row.name != current.name:
            held = (f"Mã {row.code} là của", f"code {row.code} belongs to") if row.code else ("Danh mục ghi tên", "the directory names it")
            row.fail("name", f"{held[0]} «{current.name}»; đổi tên cần quyết định đổi tên / {held[1]} «{current.name}»: renaming it to «{row.name}» {rename}")
        if values.get("kind") and values["kind"] != current.kind:
            row.fail(
                "kind", f"«{current.name}» là {current.kind}; đổi loại cần quyết định đổi tên / «{current.name}» is a {current.kind}: reclassifying it as {values['kind']} {rename}"
            )
        if parent_column and parent_id != current.parent_id:
            row.fail(
                parent_column, f"«{current.name}» đang trực thuộc đơn vị khác: cần quyết định chuyển / its parent differs: that needs a move act (POST /units/{unit.id}/moves)"
            )
        if values.get("valid_from") and values["valid_from"] != unit.valid_from:
            row.fail(
                "valid_from", f"Ngày thành lập trong danh mục là {unit.valid_from or '-'} / the directory has the unit from {unit.valid_from or '-'}: history changes through acts"
            )
        if row.errors:
            return
        contacts, head = _contacts_and_head(values)
        details = {"contacts": {**unit.contacts, **contacts}, "head": {**unit.head, **head}}
        if "short_name" in values:
            details["short_name"] = values["short_name"]
        if "note" in values:
            details["note"] = values["note"]
        old = {"short_name": current.short_name, "note": unit.note} | _flat(unit.contacts, unit.head)
        new = {**old, **{k: v for k, v in details.items() if k in ("short_name", "note")}, **_flat(details["contacts"], details["head"])}
        row.changes = [{"field": k, "old": old.get(k), "new": v} for k, v in new.items() if v != old.get(k)]
        if row.changes:
            changed = acts.update_details(self.after, Act("planned", "update"), unit.id, **details)
            self.after.put(changed.units[0])
            row.action, row.details = "change", details


def _contacts_and_head(values: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    contacts = {k: values[k] for k in ("email", "phone", "webhook_url") if k in values}
    head = {k.removeprefix("head_"): values[k] for k in ("head_name", "head_title") if k in values}
    return contacts, head


def _flat(contacts: dict, head: dict) -> dict[str, Any]:
    return {**{k: contacts.get(k) for k in ("email", "phone", "webhook_url")}, **{f"head_{k}": head.get(k) for k in ("name", "title")}}


def _day(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        if match := DMY.match(text):
            return date(int(match[3]), int(match[2]), int(match[1]))
        return date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None
    except ValueError:
        return None


def _column_of(exc: DomainError, parent_column: str | None) -> str | None:
    """The column a domain refusal is about: its field, or what its details point at."""
    column = exc.details.get("field")
    if column == "parent_id" or "parent_id" in exc.details:
        return parent_column or "parent_id"
    if "other_unit" in exc.details:
        return "code"
    return column.rsplit(".", 1)[-1] if column else None


# ---------------------------------------------------------------- applying


def apply_import(store: UnitStore, rows: list[dict[str, Any]], actor: str | None, source: str | None = None) -> ImportPlan:
    """Plan under the lease and store the plan, or raise `ImportRefused` having written nothing."""
    note = f"Nhập từ tệp / imported from {source}" if source else "Nhập từ tệp / imported from a file"
    with store.writing() as directory:
        plan = plan_import(directory, rows)
        if plan.errors:
            raise ImportRefused(plan)
        store.keep_alive()  # planning a large file takes a while
        creates = [r for r in plan.rows if r.action == "create"]
        for chunk in _chunks(creates):
            act = Act(new_id(), "establish", note=note)
            changes = ChangeSet(act, [UnitChange(r.spec.to_unit(act.id), "established", created=True) for r in chunk])
            directory = _commit(store, acts.validated(directory, changes), actor)
            for r in chunk:
                r.unit_id = r.spec.id
        for chunk in _chunks([r for r in plan.rows if r.action == "change"]):
            act = Act(new_id(), "update", note=note)
            changes = ChangeSet(act, [acts.update_details(directory, act, r.unit_id, **r.details).changes[0] for r in chunk])
            directory = _commit(store, changes, actor)
    return plan


def _commit(store: UnitStore, changes: ChangeSet, actor: str | None) -> Directory:
    store.commit(changes, actor)
    store.keep_alive()
    return store.directory(fresh=True)


def _chunks(rows: list[PlannedRow]) -> Iterator[list[PlannedRow]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]
