"""Use cases on reports: draft, submit, review (accept or return), versions and their diff.

A unit's reporter or head writes its draft; only the head submits; an officer reviews. Each is
one atomic write of the report with its event in the outbox; `check_version` is the API's
If-Match, checked against the report as loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from tdkt.auth import Principal
from tdkt.clock import local_today
from tdkt.errors import Conflict, Invalid, NotFound
from tdkt.events.outbox import ConcurrentUpdate, save_aggregate

from tdkt_reports.adapters.documents import MovementView, Report
from tdkt_reports.adapters.events import REPORT_EVENTS
from tdkt_reports.domain import reports as rules

WRITERS = ("unit_reporter", "unit_head")
SUBMITTERS = ("unit_head",)
REVIEWERS = ("tdkt_officer", "admin")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def find(report_id: str, principal: Principal) -> Report:
    """The report, if this caller may see it (a unit sees its own, wide-sight roles all)."""
    doc = Report.objects(id=report_id).exclude("outbox").first()
    if doc is None or not principal.may_see_unit(doc.unit_id):
        raise NotFound("Không có báo cáo này / no such report")
    return doc


def criteria_of(doc: Report) -> list[dict[str, Any]]:
    movement = MovementView.objects(id=doc.movement_id).only("criteria").first()
    return list(movement.criteria) if movement else []


def event_data(doc: Report) -> dict[str, Any]:
    latest = doc.versions[-1] if doc.versions else {}
    return {
        "report": {
            "id": doc.id,
            "movement_id": doc.movement_id,
            "unit_id": doc.unit_id,
            "original_unit_id": doc.original_unit_id,
            "period": doc.period,
            "kind": doc.kind,
            "due": doc.due,
            "state": doc.state,
            "version": latest.get("number", 0),
            "late": doc.late,
            "submitted_at": latest.get("submitted_at"),
            "values": latest.get("values", {}),
        }
    }


def _save(doc: Report, event: str | None, extra: dict | None = None) -> Report:
    if event:
        doc.record(REPORT_EVENTS[event], {**event_data(doc), **(extra or {})})
    try:
        save_aggregate(doc)
    except ConcurrentUpdate:
        raise Conflict("Báo cáo vừa được thay đổi, tải lại rồi thử lại / the report changed meanwhile: reload and retry") from None
    return doc


def _own(doc: Report, principal: Principal) -> None:
    if doc.unit_id != principal.unit_id:
        raise NotFound("Không có báo cáo này / no such report")  # as if absent: no probing other units' ids


def save_draft(report_id: str, data: dict[str, Any], principal: Principal, check_version: Callable[[Report], None], today: date | None = None) -> Report:
    doc = find(report_id, principal)
    _own(doc, principal)
    check_version(doc)
    rules.check_editable(doc.state, date.fromisoformat(doc.opens), today or local_today())
    values = rules.check_values(criteria_of(doc), data.get("values") or {})
    doc.draft = {"narrative": data.get("narrative"), "values": values, "self_assessment": data.get("self_assessment"), "updated_at": _now(), "updated_by": principal.subject}
    doc.state = "draft"
    return _save(doc, None)


def submit(report_id: str, principal: Principal, check_version: Callable[[Report], None], today: date | None = None) -> Report:
    doc = find(report_id, principal)
    _own(doc, principal)
    check_version(doc)
    today = today or local_today()
    evidence = {a.get("criterion") for a in doc.attachments if a.get("criterion")}
    rules.check_submittable(doc.state, doc.draft, criteria_of(doc), evidence)
    late = today > date.fromisoformat(doc.due)
    number = len(doc.versions) + 1
    version = {k: doc.draft.get(k) for k in ("narrative", "values", "self_assessment")}
    version |= {"number": number, "submitted_at": _now(), "submitted_by": principal.subject, "late": late, "attachments": [a["id"] for a in doc.attachments]}
    doc.versions = [*doc.versions, version]
    doc.late = doc.late or late
    doc.state = "submitted"
    doc.history = [*doc.history, {"action": "submitted", "version": number, "by": principal.subject, "at": version["submitted_at"], "late": late}]
    return _save(doc, "submitted")


def review(report_id: str, decision: str, data: dict[str, Any], principal: Principal, check_version: Callable[[Report], None]) -> Report:
    doc = find(report_id, principal)
    check_version(doc)
    comments = data.get("item_comments") or {}
    rules.check_reviewable(doc.state, criteria_of(doc), comments)
    if decision == "returned" and not (data.get("comment") or comments):
        raise Invalid("comment", "Trả lại cần nêu lý do / say why the report is returned (comment or item_comments)")
    entry = {"version": doc.versions[-1]["number"], "decision": decision, "comment": data.get("comment"), "item_comments": comments, "by": principal.subject, "at": _now()}
    doc.reviews = [*doc.reviews, entry]
    doc.state = decision
    doc.history = [*doc.history, {"action": decision, "version": entry["version"], "by": principal.subject, "at": entry["at"]}]
    return _save(doc, "accepted" if decision == "accepted" else "returned", {"review": entry})


def version_diff(doc: Report, older: int, newer: int) -> dict[str, Any]:
    by_number = {v["number"]: v for v in doc.versions}
    for field, number in (("from", older), ("to", newer)):
        if number not in by_number:
            raise Invalid(field, f"Không có phiên bản {number} (có {len(doc.versions)}) / no version {number}; the report has {len(doc.versions)}", location="query")
    return rules.diff(by_number[older], by_number[newer])
