"""Disclosure (công khai): the approved nominations are published for a window of working days
before the decision, objections received meanwhile are recorded and resolved, and a decision may
name a nomination only once its window is over with no objection left open (or upheld).

The public list carries names, units, titles or forms and the achievement summary — never contact
data, never the vote counts, never the dossier's documents. The window's length is catalogue data
(`council.disclosure_working_days`, default 5); whether a decision must wait for it is
`council.disclosure_required` (default true).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from tdkt.auth import Principal
from tdkt.clock import local_today
from tdkt.errors import Conflict, Invalid, NotFound
from tdkt.events.outbox import ConcurrentUpdate, save_aggregate

from tdkt_awards.adapters.documents import Disclosure, Nomination
from tdkt_awards.adapters.events import DISCLOSURE_OPENED
from tdkt_awards.domain.calendar import add_working_days
from tdkt_awards.service_layer import nominations
from tdkt_awards.service_layer.catalogue import in_force

DEFAULT_WINDOW = 5
GONE = "Không có đợt công khai này / no such disclosure"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _save(doc: Disclosure) -> Disclosure:
    try:
        save_aggregate(doc)
    except ConcurrentUpdate:
        raise Conflict("Vừa được thay đổi, tải lại rồi thử lại / changed meanwhile: reload and retry") from None
    return doc


def load(disclosure_id: str) -> Disclosure:
    doc = Disclosure.objects(id=disclosure_id).exclude("outbox").first()
    if doc is None:
        raise NotFound(GONE)
    return doc


def _entry(doc: Nomination, title_name: str) -> dict[str, Any]:
    nominee = doc.nominee
    return {
        "nomination_id": doc.id,
        "name": nominee.get("name"),
        "position": nominee.get("position"),
        "unit_name": nominee.get("unit_name"),
        "subject": doc.subject,
        "title_code": doc.title_code,
        "title_name": title_name,
        "achievement": doc.achievement,
    }


def open_disclosure(data: dict[str, Any], principal: Principal) -> Disclosure:
    opens = data.get("opens") or local_today()
    issuer = data["issuer"]
    _, catalogue = in_force(issuer, opens)
    days = data.get("working_days") or int(catalogue.council.get("disclosure_working_days", DEFAULT_WINDOW))
    entries = []
    for i, nomination_id in enumerate(data["nomination_ids"]):
        doc = Nomination.objects(id=nomination_id).exclude("outbox", "history").first()
        if doc is None:
            raise Invalid(f"nomination_ids.{i}", nominations.GONE)
        if doc.state != "approved" or doc.issuer != issuer:
            raise Invalid(f"nomination_ids.{i}", f"Chỉ công khai hồ sơ Hội đồng đã đồng ý của {issuer} ({doc.state}) / only approved nominations of this issuer")
        entries.append(_entry(doc, catalogue.title(doc.title_code).name))
    doc = Disclosure(
        id=uuid.uuid4().hex,
        title=data["title"],
        issuer=issuer,
        nomination_ids=list(data["nomination_ids"]),
        entries=entries,
        opens=opens.isoformat(),
        closes=add_working_days(opens, days).isoformat(),
        objections=[],
        opened_by=principal.subject,
    )
    doc.record(DISCLOSURE_OPENED, {"disclosure": public_view(doc)})
    _save(doc)
    for nomination_id in doc.nomination_ids:  # after the list is stored: a retry of a half-done open finds them approved and opens again
        nominations._advance(nomination_id, "disclose", None, lambda d, i=doc.id: d.disclosure_id == i, lambda d, i=doc.id: setattr(d, "disclosure_id", i))
    return doc


def record_objection(disclosure_id: str, data: dict[str, Any], principal: Principal, check_version: Callable[[Disclosure], None]) -> Disclosure:
    doc = load(disclosure_id)
    check_version(doc)
    if data["nomination_id"] not in doc.nomination_ids:
        raise Invalid("nomination_id", "Hồ sơ này không có trong đợt công khai / that nomination is not in this disclosure")
    received = data.get("received_on") or local_today()
    objection = {
        "id": uuid.uuid4().hex,
        "nomination_id": data["nomination_id"],
        "received_on": received.isoformat(),
        "source": data.get("source"),
        "content": data["content"],
        "status": "received",
        "late": received.isoformat() > doc.closes,
        "recorded_by": principal.subject,
        "recorded_at": _now(),
    }
    doc.objections = [*doc.objections, objection]
    return _save(doc)


def resolve_objection(disclosure_id: str, objection_id: str, data: dict[str, Any], principal: Principal, check_version: Callable[[Disclosure], None]) -> Disclosure:
    doc = load(disclosure_id)
    check_version(doc)
    found = next((o for o in doc.objections if o["id"] == objection_id), None)
    if found is None:
        raise NotFound("Không có ý kiến phản ánh này / no such objection")
    if found["status"] != "received":
        raise Conflict("Ý kiến này đã được xử lý / that objection was resolved already", status=found["status"])
    resolved = {**found, "status": data["status"], "resolution": data["resolution"], "resolved_by": principal.subject, "resolved_at": _now()}
    doc.objections = [resolved if o["id"] == objection_id else o for o in doc.objections]
    _save(doc)
    if data["status"] == "upheld":
        nominations.reject_after_objection(found["nomination_id"], f"Ý kiến phản ánh được xác minh đúng: {data['resolution']}", principal)
    return doc


def check_ready(nomination_ids: list[str], issuer: str, decision_date: date, field: str = "nomination_ids") -> list[Nomination]:
    """The nominations a decision may name on that date: approved by the council, their
    disclosure window over and no objection pending — 409 naming what each one waits for."""
    _, catalogue = in_force(issuer, decision_date)
    required = bool(catalogue.council.get("disclosure_required", True))
    ready = []
    for i, nomination_id in enumerate(nomination_ids):
        doc = Nomination.objects(id=nomination_id).exclude("outbox", "history").first()
        if doc is None:
            raise Invalid(f"{field}.{i}", nominations.GONE)
        waiting = _waiting_for(doc, required, decision_date)
        if waiting:
            raise Conflict(f"{doc.nominee.get('name')}: {waiting}", nomination_id=doc.id, state=doc.state)
        ready.append(doc)
    return ready


def _waiting_for(doc: Nomination, required: bool, decision_date: date) -> str | None:
    if doc.state == "approved" and not required:
        return None
    if doc.state in ("appraised", "on_agenda") or (doc.state == "approved" and required):
        return "chờ Hội đồng biểu quyết và công khai / waiting for the council's vote and the disclosure"
    if doc.state != "in_disclosure":
        return f"hồ sơ đang ở trạng thái {doc.state}, không thể ra quyết định / cannot be decided while {doc.state}"
    disclosure = Disclosure.objects(id=doc.disclosure_id).exclude("outbox").first()
    if disclosure is None:
        return "không tìm thấy đợt công khai / its disclosure is missing"
    if decision_date.isoformat() <= disclosure.closes:
        return f"đang công khai đến hết {date.fromisoformat(disclosure.closes):%d/%m/%Y} / in disclosure until {disclosure.closes}"
    pending = [o for o in disclosure.objections if o["nomination_id"] == doc.id and o["status"] == "received"]
    if pending:
        return f"còn {len(pending)} ý kiến phản ánh chưa xử lý / {len(pending)} objections not resolved"
    return None


def public_view(doc: Disclosure) -> dict[str, Any]:
    return {
        "id": doc.id,
        "title": doc.title,
        "issuer": doc.issuer,
        "opens": doc.opens,
        "closes": doc.closes,
        "entries": list(doc.entries),
        "objections_received": len(doc.objections),
    }


def view(doc: Disclosure) -> dict[str, Any]:
    return {**public_view(doc), "nomination_ids": list(doc.nomination_ids), "objections": list(doc.objections), "opened_by": doc.opened_by, "version": doc.version}
