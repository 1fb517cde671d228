"""What the awards service copies from the others' events (tolerant reader: only the fields used):

- units (registry): names for dossiers and the public list, parents to check that a nominee
  belongs to the nominating unit;
- movements (registry): title, kind and period of the movement a nomination closes;
- progress (reports' MovementProgressUpdated, a compacted topic: the latest standing of each
  unit in each movement): whether the nominee's unit reported and was accepted. A change
  re-runs the eligibility pre-check of that unit's live nominations in that movement.

Kept with `tdkt.events.copies`: sequence-guarded, so re-delivery and replay are no-ops.
"""

from __future__ import annotations

from typing import Any

from tdkt.events.consumer import HandlerContext, Subscription
from tdkt.events.copies import Stale, apply_copy, mark_applied
from tdkt.events.envelope import Event

from tdkt_awards.adapters.events import MOVEMENT_TYPES, PROGRESS_TOPIC, PROGRESS_UPDATED_TYPE, UNIT_TYPES

UNITS, MOVEMENTS, PROGRESS = "unit_views", "movement_views", "progress_views"
UNIT_FIELDS = ("code", "name", "kind", "parent_id", "valid_to")
MOVEMENT_FIELDS = ("state", "title", "kind", "organiser_id", "period_start", "period_end")
PROGRESS_FIELDS = ("movement_id", "unit_id", "periods_total", "submitted", "accepted", "returned", "late", "final_accepted")


def on_unit(event: Event, ctx: HandlerContext) -> None:
    unit = ctx.data["unit"]
    try:
        apply_copy(ctx.db, UNITS, event.subject, event.sequence or 0, {k: unit.get(k) for k in UNIT_FIELDS})
    except Stale:
        return
    mark_applied(ctx.db, "units", event)


def on_movement(event: Event, ctx: HandlerContext) -> None:
    movement = ctx.data["movement"]
    try:
        apply_copy(ctx.db, MOVEMENTS, event.subject, event.sequence or 0, {k: movement.get(k) for k in MOVEMENT_FIELDS})
    except Stale:
        return
    mark_applied(ctx.db, "movements", event)


def on_progress(event: Event, ctx: HandlerContext) -> None:
    from tdkt_awards.service_layer.nominations import recheck_progress

    progress = ctx.data
    try:
        apply_copy(ctx.db, PROGRESS, event.subject, event.sequence or 0, {k: progress.get(k) for k in PROGRESS_FIELDS})
    except Stale:
        return
    # also on a replay of the same event: the recheck is idempotent, and may not have run before the crash
    recheck_progress(progress["movement_id"], progress["unit_id"])
    mark_applied(ctx.db, "progress", event)


def subscriptions() -> list[Subscription]:
    return (
        [Subscription(t, "registry.units.v1", on_unit) for t in UNIT_TYPES]
        + [Subscription(t, "registry.movements.v1", on_movement) for t in MOVEMENT_TYPES]
        + [Subscription(PROGRESS_UPDATED_TYPE, PROGRESS_TOPIC, on_progress)]
    )


# --- reads ---------------------------------------------------------------------------------


def unit(db, unit_id: str | None) -> dict[str, Any] | None:
    return db[UNITS].find_one({"_id": unit_id}) if unit_id else None


def movement(db, movement_id: str | None) -> dict[str, Any] | None:
    return db[MOVEMENTS].find_one({"_id": movement_id}) if movement_id else None


def progress(db, movement_id: str | None, unit_id: str | None) -> dict[str, Any] | None:
    if not movement_id or not unit_id:
        return None
    return db[PROGRESS].find_one({"_id": f"{movement_id}.{unit_id}"})


def is_within(db, unit_id: str, ancestor_id: str) -> bool:
    """Whether `unit_id` is `ancestor_id` or one of its descendants (by the copied parents; 32 levels at most)."""
    current = unit_id
    for _ in range(32):
        if current == ancestor_id:
            return True
        found = unit(db, current)
        if found is None or not found.get("parent_id"):
            return False
        current = found["parent_id"]
    return False
