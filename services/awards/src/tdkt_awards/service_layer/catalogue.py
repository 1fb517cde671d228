"""Use cases on the rule catalogue: draft a version (from the defaults or a copy), edit its
content while it is a draft, activate it; find the version in force; quote a bonus.

Every change is appended to the version's `audit`: who, when, what (the paths that changed,
before and after), hash-chained to the previous entry so an edit of the log itself shows.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from importlib import resources
from typing import Any

from tdkt.errors import Conflict, NotFound
from tdkt.events.outbox import AlreadyExists, ConcurrentUpdate, save_aggregate

from tdkt_awards.adapters.documents import CatalogueVersion
from tdkt_awards.adapters.events import CATALOGUE_ACTIVATED
from tdkt_awards.domain import bonus
from tdkt_awards.domain.catalogue import Catalogue, parse


def default_catalogue() -> dict[str, Any]:
    return json.loads(resources.files("tdkt_awards.seed").joinpath("catalogue-default.json").read_text(encoding="utf-8"))


def _changes(before: Any, after: Any, path: str = "") -> list[dict[str, Any]]:
    """The leaf paths that differ between two JSON-like values."""
    if isinstance(before, dict) and isinstance(after, dict):
        found = []
        for key in sorted(set(before) | set(after)):
            found += _changes(before.get(key), after.get(key), f"{path}.{key}" if path else str(key))
        return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [c for i, (b, a) in enumerate(zip(before, after, strict=True)) for c in _changes(b, a, f"{path}.{i}")]
    return [] if before == after else [{"path": path, "before": before, "after": after}]


def _audit(doc: CatalogueVersion, action: str, actor: str | None, changes: list[dict[str, Any]]) -> None:
    previous = doc.audit[-1]["hash"] if doc.audit else ""
    entry = {"action": action, "by": actor, "at": datetime.now(UTC).isoformat(timespec="seconds"), "changes": changes, "prev": previous}
    entry["hash"] = hashlib.sha256((previous + json.dumps(entry, sort_keys=True, ensure_ascii=False, default=str)).encode()).hexdigest()
    doc.audit = [*doc.audit, entry]


def verify_audit(doc: CatalogueVersion) -> bool:
    previous = ""
    for entry in doc.audit:
        content = {k: v for k, v in entry.items() if k != "hash"}
        if content["prev"] != previous or hashlib.sha256((previous + json.dumps(content, sort_keys=True, ensure_ascii=False, default=str)).encode()).hexdigest() != entry["hash"]:
            return False
        previous = entry["hash"]
    return True


def _save(doc: CatalogueVersion) -> CatalogueVersion:
    try:
        save_aggregate(doc)
    except ConcurrentUpdate:
        raise Conflict("Phiên bản vừa bị sửa, tải lại rồi thử lại / the version changed meanwhile: reload and retry") from None
    except AlreadyExists:
        raise Conflict(f"Đã có phiên bản {doc.id} / version {doc.id} exists") from None
    return doc


def load(version_id: str) -> CatalogueVersion:
    doc = CatalogueVersion.objects(id=version_id).first()
    if doc is None:
        raise NotFound(f"Không có phiên bản danh mục {version_id} / no catalogue version {version_id}")
    return doc


def create_version(data: dict[str, Any], actor: str | None, version_id: str | None = None) -> CatalogueVersion:
    if data.get("copy_from"):
        content = dict(load(data["copy_from"]).content)
    else:
        content = data.get("content") or default_catalogue()["content"]
    content = parse(content).to_dict()  # stored normalised: every default written out
    doc = CatalogueVersion(
        id=version_id or uuid.uuid4().hex,
        issuer=data["issuer"],
        effective_from=data["effective_from"],
        legal_basis=data.get("legal_basis") or {},
        note=data.get("note"),
        content=content,
    )
    _audit(doc, "created", actor, [{"path": "", "before": None, "after": f"copy of {data['copy_from']}" if data.get("copy_from") else "content"}])
    return _save(doc)


def edit_content(version_id: str, content: dict[str, Any], actor: str | None, check_version: Callable[[CatalogueVersion], None]) -> CatalogueVersion:
    doc = load(version_id)
    check_version(doc)
    if doc.status != "draft":
        raise Conflict(f"Phiên bản đang {doc.status}: tạo phiên bản mới để thay đổi / a {doc.status} version cannot change: draft a new one (copy_from)")
    content = parse(content).to_dict()
    changes = _changes(doc.content, content)
    if changes:
        doc.content = content
        _audit(doc, "edited", actor, changes)
        _save(doc)
    return doc


def activate(version_id: str, actor: str | None, check_version: Callable[[CatalogueVersion], None]) -> CatalogueVersion:
    doc = load(version_id)
    check_version(doc)
    if doc.status != "draft":
        raise Conflict(f"Chỉ kích hoạt được bản nháp (đang: {doc.status}) / only a draft can be activated ({doc.status})")
    clash = CatalogueVersion.objects(issuer=doc.issuer, effective_from=doc.effective_from, status="active").only("id").first()
    if clash is not None:
        raise Conflict(f"Đã có phiên bản hiệu lực cùng ngày {doc.effective_from} / version {clash.id} is already active from that day", other_version=clash.id)
    doc.status = "active"
    _audit(doc, "activated", actor, [{"path": "status", "before": "draft", "after": "active"}])
    doc.record(CATALOGUE_ACTIVATED, {"version": view(doc, with_audit=False)})
    return _save(doc)


def in_force(issuer: str, day: date) -> tuple[CatalogueVersion, Catalogue]:
    candidates = [d for d in CatalogueVersion.objects(issuer=issuer, status="active").exclude("outbox", "audit") if d.effective_from <= day.isoformat()]
    if not candidates:
        raise NotFound(f"Không có danh mục hiệu lực của {issuer} vào ngày {day:%d/%m/%Y} / no catalogue of {issuer} is in force on {day}")
    doc = max(candidates, key=lambda d: d.effective_from)
    return doc, parse(doc.content)


def quote(issuer: str, title_code: str, day: date, household: bool = False) -> dict[str, Any]:
    """What a title pays on a decision date, with the working shown."""
    doc, catalogue = in_force(issuer, day)
    title = catalogue.title(title_code)
    salary = bonus.base_salary_on(day, list(catalogue.base_salaries))
    money = 0 if title.coefficient is None else bonus.amount(title.coefficient, salary.amount, household=household)
    return {
        "title": title.code,
        "title_name": title.name,
        "catalogue_version": doc.id,
        "coefficient": None if title.coefficient is None else str(title.coefficient),
        "base_salary": salary.amount,
        "base_salary_since": salary.since.isoformat(),
        "household": household,
        "amount": money,
        "working": "không có tiền thưởng / carries no bonus"
        if title.coefficient is None
        else f"{title.coefficient} × {vnd(salary.amount)}{' × 1,5 (hộ gia đình)' if household else ''}, làm tròn lên 10.000 đ = {vnd(money)}",
    }


def vnd(amount: int) -> str:
    """Money as Vietnamese write it: 2.530.000 đ."""
    return f"{amount:,} đ".replace(",", ".")


def view(doc: CatalogueVersion, with_audit: bool = True) -> dict[str, Any]:
    data = {k: getattr(doc, k) for k in ("id", "issuer", "effective_from", "legal_basis", "note", "status", "content", "version")}
    if with_audit:
        data["audit"] = list(doc.audit)
    return data


def seed_default(actor: str | None) -> str:
    data = default_catalogue()
    if CatalogueVersion.objects(id=data["id"]).only("id").first() is not None:
        return f"Không có gì thay đổi / nothing changed: catalogue {data['id']} is already loaded."
    create_version(data, actor, version_id=data["id"])
    activate(data["id"], actor, lambda d: None)
    return f"Danh mục mặc định / default catalogue {data['id']} loaded and active from {data['effective_from']} ({len(data['content']['titles'])} titles and forms)."
