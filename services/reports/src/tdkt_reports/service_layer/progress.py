"""A unit's standing in a movement, fed by its own reports' events (this service consumes its own
topic), published as MovementProgressUpdated: the per-unit snapshot the awards service uses to
check that a nominee's unit reported and was accepted.

Going through the topic instead of writing the progress beside the report keeps each write to a
single document (atomic with its event) and makes the progress rebuildable by replay. Each
period's entry keeps the sequence of the report event it came from; older events are ignored.
"""

from __future__ import annotations

from typing import Any

from tdkt.events.consumer import HandlerContext, Subscription
from tdkt.events.envelope import Event
from tdkt.events.outbox import AlreadyExists, ConcurrentUpdate, save_aggregate

from tdkt_reports.adapters import aggregation_inputs
from tdkt_reports.adapters.documents import MovementView, Progress
from tdkt_reports.adapters.events import PROGRESS_UPDATED, REPORT_EVENTS, REPORTS_TOPIC


def progress_id(movement_id: str, unit_id: str) -> str:
    return f"{movement_id}.{unit_id}"


def snapshot(doc: Progress, periods_total: int) -> dict[str, Any]:
    entries = doc.periods.values()
    accepted = sorted((e for e in entries if e["state"] == "accepted"), key=lambda e: e.get("due") or "")
    return {
        "id": doc.id,
        "movement_id": doc.movement_id,
        "unit_id": doc.unit_id,
        "periods_total": periods_total,
        "submitted": sum(1 for e in entries if e["state"] in ("submitted", "accepted", "returned")),
        "accepted": len(accepted),
        "returned": sum(1 for e in entries if e["state"] == "returned"),
        "late": sum(1 for e in entries if e.get("late")),
        "final_accepted": any(e["kind"] == "final" for e in accepted),
        "last_accepted": {"period": accepted[-1]["period"], "values": accepted[-1]["values"]} if accepted else None,
        "periods": {key: {k: e.get(k) for k in ("kind", "state", "late", "version", "due")} for key, e in sorted(doc.periods.items())},
    }


def on_report(event: Event, ctx: HandlerContext) -> None:
    report = ctx.data["report"]
    key = progress_id(report["movement_id"], report["unit_id"])
    for _attempt in range(5):  # another copy of this consumer may update the same unit's progress
        doc = Progress.objects(id=key).first() or Progress(id=key, movement_id=report["movement_id"], unit_id=report["unit_id"], periods={})
        entry = doc.periods.get(report["period"])
        if entry is not None and entry.get("seq", 0) >= (event.sequence or 0):
            return  # already applied (a re-delivery, a replay)
        doc.periods = {
            **doc.periods,
            report["period"]: {
                "report_id": report["id"],
                "period": report["period"],
                "kind": report["kind"],
                "due": report["due"],
                "state": report["state"],
                "late": report["late"],
                "version": report["version"],
                "values": report["values"],
                "seq": event.sequence or 0,
            },
        }
        movement = MovementView.objects(id=doc.movement_id).only("due_dates").first()
        doc.record(PROGRESS_UPDATED, snapshot(doc, len(movement.due_dates) if movement else 0))
        try:
            save_aggregate(doc)
            aggregation_inputs.progress_changed(ctx.db, doc.movement_id, doc.unit_id)  # the figures' cache re-reads this unit
            return
        except (ConcurrentUpdate, AlreadyExists):
            continue
    raise ConcurrentUpdate(f"progress {key} kept changing; the event will be retried")


def subscriptions() -> list[Subscription]:
    return [Subscription(REPORT_EVENTS[name].type, REPORTS_TOPIC, on_report) for name in ("submitted", "accepted", "returned")]
