"""`tdkt registry import-admin-units`: today's 34 provinces and 3,321 communes and wards from the
`vietnam-provinces` package, plus the history the seed needs (Tam Đường district and its 13
communes, merged on 2025-07-01), as ordinary acts with their legal basis.

Idempotent: every row is compared with the unit holding its code today; a second run creates
nothing, changes nothing and says so. Differences (a renamed ward in a newer package) are
recorded as rename or move acts dated on the package's data date, never as silent overwrites.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from typing import Any

import vietnam_provinces as vp
from tdkt.text import nfc

from tdkt_registry.adapters.unit_store import UnitStore
from tdkt_registry.domain import acts
from tdkt_registry.domain.acts import Act, ChangeSet, NewUnit, UnitChange
from tdkt_registry.domain.directory import Directory
from tdkt_registry.domain.units import ONE_DAY, LegalBasis, parse_day
from tdkt_registry.service_layer.units import new_id

REFORM_DAY = date(2025, 7, 1)  # two-tier local government (Law 72/2025/QH15), new communes operate
DATA_DAY = date.fromisoformat(vp.__data_version__)
CHUNK = 200  # units per act: one act document stays well under the store's comfortable size
SOURCE = f"vietnam-provinces {vp.__version__} (dữ liệu / data {vp.__data_version__})"

PROVINCE_KINDS = {"tỉnh": "province", "thành phố trung ương": "municipality"}
WARD_KINDS = {"xã": "commune", "phường": "ward", "đặc khu": "special_zone"}
SEED_KINDS = {"public service unit": "public_service_unit", "mass organisation": "mass_organisation", "armed forces": "armed_forces"}

# The acts of the 2025 reform that the seed history refers to (domain.md, § two-tier government).
COMMUNE_MERGER_BASIS = LegalBasis(
    "1670/NQ-UBTVQH15", date(2025, 6, 16), "Ủy ban Thường vụ Quốc hội", "Nghị quyết về việc sắp xếp các đơn vị hành chính cấp xã của tỉnh Lai Châu năm 2025"
)
DISTRICT_ABOLITION_BASIS = LegalBasis("72/2025/QH15", date(2025, 6, 16), "Quốc hội", "Luật Tổ chức chính quyền địa phương (bỏ cấp huyện từ 01/7/2025)")


@dataclass
class ImportSummary:
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    acts: int = 0
    history: str = ""
    changes: list[str] = field(default_factory=list)

    def sentence(self) -> str:
        if not self.created and not self.changed:
            return f"Không có gì thay đổi / nothing changed: {self.unchanged} units already up to date ({SOURCE})."
        return f"{self.created} created, {self.changed} changed, {self.unchanged} unchanged, in {self.acts} act(s) ({SOURCE})."


@dataclass(frozen=True)
class AdminRow:
    code: str
    name: str
    kind: str
    parent_code: str | None


def admin_rows() -> list[AdminRow]:
    # Names are compared as stored: NFC with blanks collapsed (the package has "Xã  Xuân Giang").
    rows = [AdminRow(f"{int(p.code):02d}", nfc(p.name), PROVINCE_KINDS[p.division_type.value], None) for p in vp.Province.iter_all()]
    rows += [AdminRow(f"{int(w.code):05d}", nfc(w.name), WARD_KINDS[w.division_type.value], f"{int(w.province_code):02d}") for w in vp.Ward.iter_all()]
    return rows


def seed_history_rows() -> list[dict[str, str]]:
    with resources.files("tdkt_registry.seed").joinpath("tam-duong-2023-units.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def import_admin_units(store: UnitStore, actor: str | None, progress: Callable[[int], None] = lambda n: None) -> ImportSummary:
    rows = admin_rows()
    history = seed_history_rows()
    summary = ImportSummary()
    since = {r["code"]: parse_day(r["valid_from"], "valid_from") for r in history if r["kind"] == "province" and r["valid_from"]}
    provinces = [r for r in rows if r.parent_code is None]
    wards = [r for r in rows if r.parent_code is not None]

    with store.writing() as directory:
        # 1. provinces, 2. the history whose successors are today's communes, 3. the other communes
        directory = _sync(store, directory, provinces, summary, since, actor, progress)
        directory = _load_history(store, directory, history, {r.code: r for r in wards}, summary, actor, progress)
        directory = _sync(store, directory, wards, summary, {}, actor, progress)  # the reform's successors exist by now: unchanged
        if summary.acts:
            store.write_snapshot(directory)  # the next cold reader loads this, not 3,000 documents
    return summary


def _sync(store: UnitStore, directory: Directory, rows: list[AdminRow], summary: ImportSummary, since: dict, actor: str | None, progress) -> Directory:
    """Create what is missing and record what differs, `CHUNK` units per act."""
    pending: list[NewUnit] = []
    for row in rows:
        parent = directory.by_code(row.parent_code, DATA_DAY) if row.parent_code else None
        parent_id = parent.id if parent else _pending_id(pending, row.parent_code)
        existing = directory.by_code(row.code, DATA_DAY)
        if existing is None:
            pending.append(NewUnit(new_id(), row.name, row.kind, row.code, parent_id=parent_id, valid_from=since.get(row.code, REFORM_DAY if row.parent_code else None)))
        else:
            current = existing.at(DATA_DAY)
            if (current.name, current.kind, current.parent_id) == (row.name, row.kind, parent_id):
                summary.unchanged += 1
                progress(1)
            else:
                directory = _record_difference(store, directory, existing.id, row, parent_id, summary, actor)
                progress(1)
        if len(pending) >= CHUNK:
            directory = _establish(store, directory, pending, summary, actor, progress)
            pending = []
    return _establish(store, directory, pending, summary, actor, progress) if pending else directory


def _pending_id(pending: list[NewUnit], code: str | None) -> str | None:
    return next((p.id for p in pending if p.code == code), None)


def _establish(store: UnitStore, directory: Directory, specs: list[NewUnit], summary: ImportSummary, actor: str | None, progress) -> Directory:
    act = Act(id=new_id(), kind="establish", note=f"Nhập từ / imported from {SOURCE}")
    changes = acts.validated(directory, ChangeSet(act, [UnitChange(s.to_unit(act.id), "established", created=True) for s in specs]))
    store.commit(changes, actor)
    store.keep_alive()
    summary.created += len(specs)
    summary.acts += 1
    progress(len(specs))
    return store.directory(fresh=True)


def _record_difference(store, directory, unit_id, row: AdminRow, parent_id, summary, actor) -> Directory:
    unit = directory.get(unit_id)
    current = unit.current
    day = max(DATA_DAY, (current.start or DATA_DAY) + ONE_DAY)
    basis = LegalBasis(SOURCE, DATA_DAY, "Tổng cục Thống kê (danh mục đơn vị hành chính) / GSO", "Đối chiếu danh mục đơn vị hành chính")
    attributes: dict[str, Any] = {}
    if current.name != row.name:
        attributes["name"] = row.name
    if current.kind != row.kind:
        attributes["kind"] = row.kind
    if current.parent_id != parent_id:
        attributes["parent_id"] = parent_id
    kind = "move" if list(attributes) == ["parent_id"] else "rename"  # a rename act may also re-parent (a reclassified ward)
    act = Act(id=new_id(), kind=kind, effective_date=day, legal_basis=basis, note="Khác với danh mục / differs from the official list")
    changed = unit.changed_from(day, act.id, **attributes)
    store.commit(acts.validated(directory, ChangeSet(act, [UnitChange(changed, "moved" if kind == "move" else "renamed")])), actor)
    summary.changed += 1
    summary.acts += 1
    summary.changes.append(f"{row.code} {current.name} → {row.name}: {', '.join(attributes)}")
    return store.directory(fresh=True)


def _load_history(store, directory: Directory, history: list[dict[str, str]], wards: dict[str, AdminRow], summary: ImportSummary, actor, progress) -> Directory:
    """The seed's units of 2023 and what became of them on 2025-07-01 (loaded once)."""
    district = next(r for r in history if r["kind"] == "district")
    if directory.by_code(district["code"], date(2023, 6, 15)):
        summary.history = f"{district['name']} ({district['code']}) and its units: already loaded"
        summary.unchanged += len(history) - 1
        return directory
    province = directory.by_code(district["parent_code"], date(2023, 6, 15))
    ids: dict[str, str] = {}
    specs: list[NewUnit] = []
    for row in history:
        if row["kind"] == "province":
            continue
        parent_id = province.id if row["parent_code"] == district["parent_code"] else ids[row["parent_code"]]
        spec = NewUnit(
            new_id(),
            row["name"],
            SEED_KINDS.get(row["kind"], row["kind"]),
            row["code"] or None,
            parent_id=parent_id,
            valid_from=parse_day(row["valid_from"] or None, "valid_from"),
            note=row["note"],
        )
        if row["code"]:
            ids[row["code"]] = spec.id
        specs.append(spec)
    directory = _establish(store, directory, specs, summary, actor, progress)

    by_successor: dict[str, list[str]] = {}
    for row in history:
        if row["successor_code"]:
            by_successor.setdefault(row["successor_code"], []).append(ids[row["code"]])
    for successor_code, predecessor_ids in by_successor.items():
        ward = wards[successor_code]
        spec = NewUnit(new_id(), ward.name, ward.kind, ward.code, parent_id=province.id)
        act = Act(id=new_id(), kind="merge", effective_date=REFORM_DAY, legal_basis=COMMUNE_MERGER_BASIS)
        existing = directory.by_code(successor_code, DATA_DAY)
        existing = existing if existing and existing.id not in predecessor_ids else None  # an open predecessor still holds the code
        changes = acts.merge(directory, act, predecessor_ids, into_id=existing.id if existing else None, new_unit=None if existing else spec)
        store.commit(changes, actor)
        summary.created += 0 if existing else 1
        summary.changed += len(predecessor_ids)
        summary.acts += 1
        progress(1)
        directory = store.directory(fresh=True)

    ended = [s for s in specs if s.kind not in ("district",) and directory.get(s.id).at(REFORM_DAY)]
    for spec in [*ended, next(s for s in specs if s.kind == "district")]:
        act = Act(id=new_id(), kind="dissolve", effective_date=REFORM_DAY, legal_basis=DISTRICT_ABOLITION_BASIS, note="Kết thúc hoạt động cấp huyện / the district level ends")
        store.commit(acts.dissolve(directory, act, spec.id), actor)
        summary.acts += 1
        directory = store.directory(fresh=True)
    summary.changed += len(ended) + 1
    summary.history = f"{district['name']} ({district['code']}): {len(specs)} units of 2023, {len(by_successor)} mergers and {len(ended) + 1} dissolutions on {REFORM_DAY}"
    return directory


def count_rows() -> int:
    return len(admin_rows()) + len(seed_history_rows())
