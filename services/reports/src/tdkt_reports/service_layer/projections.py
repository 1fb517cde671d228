"""The registry as this service needs it: units, movements and registrations, copied from the
registry's events (tolerant reader: only the fields used here), and what follows from them —
periods generated when a movement is launched or amended, inherited when a unit is merged.

Every copy keeps the `sequence` of the last event applied and ignores anything older or equal,
so re-delivered, replayed or duplicated events are no-ops; period generation is idempotent by
construction (deterministic report ids).
"""

from __future__ import annotations

from tdkt.events.consumer import HandlerContext, Subscription
from tdkt.events.copies import Replayed, Stale, apply_copy, mark_applied
from tdkt.events.envelope import Event
from tdkt.logs import get_logger

from tdkt_reports.adapters.events import MOVEMENT_TYPES, REGISTRATION_TYPES, UNIT_TYPES
from tdkt_reports.service_layer import periods

log = get_logger(__name__)
UNIT_FIELDS = ("code", "name", "kind", "parent_id", "valid_from", "valid_to", "end_reason", "successor_ids", "predecessor_ids")
MOVEMENT_FIELDS = ("state", "title", "organiser_id", "period_start", "period_end", "content_areas", "criteria", "due_dates", "participant_ids")


def on_unit(event: Event, ctx: HandlerContext) -> None:
    unit = ctx.data["unit"]
    try:
        apply_copy(ctx.db, "unit_views", event.subject, event.sequence or 0, {k: unit.get(k) for k in UNIT_FIELDS})
    except Stale:
        return
    mark_applied(ctx.db, "units", event)
    if event.type.endswith(".unit.merged.v1") and unit.get("end_reason") == "merged":
        for successor in unit.get("successor_ids") or ():
            passed = periods.inherit(ctx.db, event.subject, successor)
            log.info("periods inherited by the successor", predecessor=event.subject, successor=successor, periods=passed)


def on_movement(event: Event, ctx: HandlerContext) -> None:
    movement = ctx.data["movement"]
    try:
        previous = apply_copy(ctx.db, "movement_views", event.subject, event.sequence or 0, {k: movement.get(k) for k in MOVEMENT_FIELDS})
    except Stale:
        return
    mark_applied(ctx.db, "movements", event)
    current = {**movement, "id": event.subject}
    if isinstance(previous, Replayed):
        previous = None  # what the schedule was before is lost; generating the periods again is enough
    if movement.get("state") == "launched":
        created = periods.generate(ctx.db, current, {**previous, "id": event.subject} if previous and previous.get("state") == "launched" else None)
        log.info("reporting periods generated", movement=event.subject, created=created)
    elif movement.get("state") == "cancelled":
        periods.cancel_movement(ctx.db, current)


def on_registration(event: Event, ctx: HandlerContext) -> None:
    registration = ctx.data["registration"]
    try:
        apply_copy(
            ctx.db,
            "registration_views",
            registration["id"],
            event.sequence or 0,
            {"movement_id": registration["movement_id"], "unit_id": registration["unit_id"], "targets": registration.get("targets") or {}},
        )
    except Stale:
        return
    mark_applied(ctx.db, "registrations", event)


def subscriptions() -> list[Subscription]:
    return (
        [Subscription(t, "registry.units.v1", on_unit) for t in UNIT_TYPES]
        + [Subscription(t, "registry.movements.v1", on_movement) for t in MOVEMENT_TYPES]
        + [Subscription(t, "registry.registrations.v1", on_registration) for t in REGISTRATION_TYPES]
    )
