"""Reporting periods: a report document per participating unit and period of each launched
movement, created in state `open` with a deterministic id, so generating twice (a re-delivered
event, a rebuild) creates nothing new.

- launched: every participant gets every period.
- amended: new participants and new periods appear; an open period whose due date moved follows
  it; a period dropped from the schedule is cancelled if nothing was submitted for it.
- cancelled: periods not yet submitted are cancelled.
- a unit merged into another: its open periods pass to the successor (the report keeps
  `original_unit_id`; history stays attributed to the old unit), unless the successor reports
  for that period itself, in which case the predecessor's is cancelled.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo.database import Database
from pymongo.errors import BulkWriteError

from tdkt_reports.domain.reports import EDITABLE, PeriodSpec, periods_of
from tdkt_reports.service_layer import listing

BATCH = 500


def report_id(movement_id: str, unit_id: str, period: str) -> str:
    return f"{movement_id}.{unit_id}.{period}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def generate(db: Database, movement: dict[str, Any], previous: dict[str, Any] | None = None) -> int:
    """Create the missing periods of a launched movement; returns how many were created."""
    mark = listing.generation_starts(db, movement["id"])
    specs = periods_of(movement)
    new_docs = [_open_report(movement["id"], unit_id, spec) for unit_id in movement.get("participant_ids") or () for spec in specs]
    created = 0
    for start in range(0, len(new_docs), BATCH):
        try:
            created += len(db.reports.insert_many(new_docs[start : start + BATCH], ordered=False).inserted_ids)
        except BulkWriteError as exc:  # the periods that exist already: that is the point
            created += exc.details.get("nInserted", 0)
            if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
                raise
    if previous:
        _follow_schedule_changes(db, movement, previous, specs)
    listing.generation_ends(db, movement["id"], mark)  # not reached on a failure: the mark stays busy
    return created


def _open_report(movement_id: str, unit_id: str, spec: PeriodSpec) -> dict[str, Any]:
    return {
        "_id": report_id(movement_id, unit_id, spec.key),
        "movement_id": movement_id,
        "unit_id": unit_id,
        "original_unit_id": unit_id,
        "period": spec.key,
        "kind": spec.kind,
        "opens": spec.opens.isoformat(),
        "due": spec.due.isoformat(),
        "state": "open",
        "draft": {},
        "versions": [],
        "reviews": [],
        "attachments": [],
        "reminders": [],
        "late": False,
        "history": [{"action": "opened", "at": _now()}],
        "version": 0,
        "outbox": [],
    }


def _follow_schedule_changes(db: Database, movement: dict[str, Any], previous: dict[str, Any], specs: list[PeriodSpec]) -> None:
    before = {p.key: p for p in periods_of(previous)}
    now = {p.key: p for p in specs}
    moved = [p for key, p in now.items() if key in before and (before[key].due, before[key].opens) != (p.due, p.opens)]
    dropped = [key for key in before if key not in now]
    for unit_id in movement.get("participant_ids") or ():
        for spec in moved:
            db.reports.update_one(
                {"_id": report_id(movement["id"], unit_id, spec.key), "state": {"$in": list(EDITABLE)}},
                {"$set": {"due": spec.due.isoformat(), "opens": spec.opens.isoformat()}, "$inc": {"version": 1}},
            )
        for key in dropped:
            cancel(db, report_id(movement["id"], unit_id, key), "the period left the movement's schedule")


def cancel(db: Database, rid: str, reason: str) -> None:
    db.reports.update_one(
        {"_id": rid, "state": {"$in": list(EDITABLE)}},
        {"$set": {"state": "cancelled"}, "$push": {"history": {"action": "cancelled", "reason": reason, "at": _now()}}, "$inc": {"version": 1}},
    )


def cancel_movement(db: Database, movement: dict[str, Any]) -> None:
    for unit_id in movement.get("participant_ids") or ():
        for spec in periods_of(movement):
            cancel(db, report_id(movement["id"], unit_id, spec.key), "the movement was cancelled")


def inherit(db: Database, predecessor_id: str, successor_id: str) -> int:
    """Pass a merged unit's open periods to its successor; returns how many passed."""
    passed = 0
    for movement in db.movement_views.find({"participant_ids": predecessor_id, "state": "launched"}):
        for spec in periods_of(movement | {"id": movement["_id"]}):
            rid = report_id(movement["_id"], predecessor_id, spec.key)
            own = db.reports.find_one({"_id": report_id(movement["_id"], successor_id, spec.key)}, {"_id": 1})
            if own is not None:
                cancel(db, rid, f"merged into {successor_id}, which reports for this period itself")
                continue
            result = db.reports.update_one(
                {"_id": rid, "state": {"$in": list(EDITABLE)}, "unit_id": predecessor_id},
                {
                    "$set": {"unit_id": successor_id},
                    "$push": {"history": {"action": "inherited", "from_unit_id": predecessor_id, "to_unit_id": successor_id, "at": _now()}},
                    "$inc": {"version": 1},
                },
            )
            passed += result.modified_count
    return passed
