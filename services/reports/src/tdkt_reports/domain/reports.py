"""Progress reports (báo cáo tiến độ): one per participating unit and reporting period of a
movement, with their workflow and the rules on values. Pure: no I/O.

    open ──save──► draft ──submit──► submitted ──accept──► accepted   (final: nobody edits it)
                     ▲                    │
                     └──── save ◄── returned ◄──return──┘

Every submission freezes the draft into a numbered version (resubmission keeps them all, and two
versions can be diffed); a review (accept or return, with comments per criterion) belongs to the
version it judged. Submitting after the due date is allowed and marked late.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from tdkt.errors import Conflict, Invalid
from tdkt.text import fold

STATES = ("open", "draft", "submitted", "accepted", "returned", "cancelled")
EDITABLE = ("open", "draft", "returned")
FINAL_OPENS_DAYS = 30  # a final report may be written from a month before it is due


@dataclass(frozen=True)
class PeriodSpec:
    """A reporting period of a movement: its key ("2023-07" or "final"), when it opens, when due."""

    key: str
    kind: str  # interim | final
    opens: date
    due: date


def periods_of(movement: dict[str, Any]) -> list[PeriodSpec]:
    """The periods a launched movement's schedule asks for (its `due_dates`, from the registry)."""
    start = date.fromisoformat(movement["period_start"])
    specs = []
    for due in movement.get("due_dates") or ():
        day = date.fromisoformat(due["due"])
        if due["kind"] == "interim":
            opens = max(start, day.replace(day=1))
        else:
            opens = max(start, date.fromordinal(day.toordinal() - FINAL_OPENS_DAYS))
        specs.append(PeriodSpec(due["period"], due["kind"], opens, day))
    return specs


def check_values(criteria: list[dict[str, Any]], values: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each value typed as its criterion says, in the criterion's unit of measure; 422 naming
    `values.<criterion>` otherwise. Returns the values normalised (numbers as numbers)."""
    by_key = {c["key"]: c for c in criteria}
    clean: dict[str, dict[str, Any]] = {}
    for key, item in values.items():
        field = f"values.{key}"
        criterion = by_key.get(key)
        if criterion is None:
            raise Invalid(field, f"Phong trào không có tiêu chí {key!r} / the movement has no criterion {key!r}")
        unit = item.get("unit")
        if unit is not None and fold(unit) != fold(criterion["unit_of_measure"]):
            raise Invalid(f"{field}.unit", f"Đơn vị tính phải là {criterion['unit_of_measure']!r} / the unit of measure is {criterion['unit_of_measure']!r}, not {unit!r}")
        value = item.get("value")
        kind = criterion.get("value_type", "number")
        if isinstance(value, bool) and kind != "boolean":
            raise Invalid(f"{field}.value", "Cần một số, không phải đúng/sai / a number is expected, not true/false")
        if kind == "boolean":
            if not isinstance(value, bool) and value not in (0, 1):
                raise Invalid(f"{field}.value", "Cần có (true) hoặc không (false) / true or false is expected")
            value = bool(value)
        elif not isinstance(value, int | float):
            raise Invalid(f"{field}.value", f"Cần một số / a number is expected, got {value!r}")
        elif kind == "integer" and value != int(value):
            raise Invalid(f"{field}.value", "Cần một số nguyên / a whole number is expected")
        elif kind == "percent" and not 0 <= value <= 100:
            raise Invalid(f"{field}.value", "Phần trăm từ 0 đến 100 / a percentage is between 0 and 100")
        elif value < 0:
            raise Invalid(f"{field}.value", "Không nhận số âm / negative values are not accepted")
        clean[key] = {"value": value, "unit": criterion["unit_of_measure"], "note": item.get("note")}
    return clean


def check_editable(state: str, opens: date, today: date) -> None:
    if today < opens:
        raise Conflict(f"Kỳ báo cáo chưa mở (mở từ {opens:%d/%m/%Y}) / the reporting period opens on {opens}")
    if state not in EDITABLE:
        reason = {
            "submitted": "đã nộp, chờ xét duyệt / submitted and awaiting review",
            "accepted": "đã được chấp nhận, không sửa được / accepted: nobody edits an accepted report",
            "cancelled": "đã hủy / cancelled",
        }[state]
        raise Conflict(f"Báo cáo {reason}", report_state=state)


def check_submittable(state: str, draft: dict[str, Any] | None, criteria: list[dict[str, Any]], evidence: set[str]) -> None:
    if state == "submitted":
        raise Conflict("Phiên bản này đã nộp / this version has been submitted already", report_state=state)
    if state not in ("draft",) or not draft:
        raise Conflict(f"Chưa có bản nháp để nộp (trạng thái: {state}) / there is no draft to submit ({state})", report_state=state)
    missing = [c["key"] for c in criteria if c["key"] not in draft.get("values", {})]
    if missing:
        raise Invalid(f"values.{missing[0]}", f"Thiếu giá trị cho tiêu chí / a value is needed for every criterion; missing: {', '.join(missing)}")
    unproven = [c["key"] for c in criteria if c.get("evidence_required") and c["key"] not in evidence]
    if unproven:
        raise Invalid(f"attachments.{unproven[0]}", f"Cần minh chứng cho tiêu chí / evidence must be attached for: {', '.join(unproven)}")


def check_reviewable(state: str, criteria: list[dict[str, Any]], item_comments: dict[str, str]) -> None:
    if state != "submitted":
        raise Conflict(f"Chỉ xét duyệt được báo cáo đã nộp (trạng thái: {state}) / only a submitted report can be reviewed ({state})", report_state=state)
    keys = {c["key"] for c in criteria}
    for key in item_comments:
        if key not in keys and key != "narrative":
            raise Invalid(f"item_comments.{key}", f"Không có tiêu chí {key!r} / no criterion {key!r}")


def diff(older: dict[str, Any], newer: dict[str, Any]) -> dict[str, Any]:
    """What changed between two versions: per criterion, and the narrative and self-assessment."""
    keys = sorted(set(older["values"]) | set(newer["values"]))
    values = []
    for key in keys:
        before, after = older["values"].get(key, {}).get("value"), newer["values"].get(key, {}).get("value")
        if before != after:
            values.append({"criterion": key, "before": before, "after": after})
    return {
        "from_version": older["number"],
        "to_version": newer["number"],
        "values": values,
        "narrative_changed": older.get("narrative") != newer.get("narrative"),
        "self_assessment": None
        if older.get("self_assessment") == newer.get("self_assessment")
        else {"before": older.get("self_assessment"), "after": newer.get("self_assessment")},
    }
