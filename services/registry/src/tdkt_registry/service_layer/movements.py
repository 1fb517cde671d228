"""Use cases on movements: draft, edit or amend, launch, close, cancel — and who takes part.

Each is one atomic write of the movement's document with its event in the outbox. Drafts
publish nothing: the other services learn about a movement when it is launched.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from tdkt.errors import Conflict, Invalid, NotFound
from tdkt.events.outbox import ConcurrentUpdate, save_aggregate
from tdkt.text import fold

from tdkt_registry.adapters.documents import ClusterDocument, MovementDocument
from tdkt_registry.adapters.events import MOVEMENT_EVENTS
from tdkt_registry.adapters.unit_store import UnitStore
from tdkt_registry.domain import movements as rules
from tdkt_registry.domain.directory import Directory
from tdkt_registry.domain.movements import Movement, Participants
from tdkt_registry.domain.units import ADMINISTRATIVE_KINDS, KINDS
from tdkt_registry.service_layer.units import new_id

COMMUNE_KINDS = frozenset(k for k in ADMINISTRATIVE_KINDS if KINDS[k][1] == "commune")


def resolve_participants(directory: Directory, participants: Participants, day: date) -> list[str]:
    """The participating units as of `day` (the movement's start): 422 when none match."""
    if participants.selector is None:
        for i, unit_id in enumerate(participants.unit_ids):
            unit = directory.get(unit_id)
            if unit is None or unit.at(day) is None:
                reason = "không có" if unit is None else f"không hoạt động vào ngày {day}"
                raise Invalid(f"participants.unit_ids.{i}", f"Đơn vị {unit_id} {reason} / unit {unit_id} {'does not exist' if unit is None else f'is not active on {day}'}")
        found = list(dict.fromkeys(participants.unit_ids))
    elif participants.selector == "cluster":
        cluster = ClusterDocument.objects(id=participants.selector_id).first()
        if cluster is None:
            raise Invalid("participants.selector_id", f"Không có cụm/khối {participants.selector_id} / no cluster {participants.selector_id}")
        found = [m for m in cluster.member_ids if directory.get(m) and directory.get(m).at(day)]
    else:
        root = directory.get(participants.selector_id)
        if root is None or root.at(day) is None:
            raise Invalid("participants.selector_id", f"Đơn vị {participants.selector_id} không có hoặc không hoạt động vào ngày {day} / no such unit active on {day}")
        subtree = [u for u, _ in directory.subtree(root.id, day)]
        if participants.selector == "communes_of":
            found = [u.id for u in subtree if u.at(day).kind in COMMUNE_KINDS]
        else:
            found = [u.id for u in subtree if not participants.kinds or u.at(day).kind in participants.kinds]
    if not found:
        raise Invalid("participants", f"Bộ chọn không khớp đơn vị nào vào ngày {day} / the selection matches no unit on {day}")
    return found


def movement_from(data: dict[str, Any], movement_id: str, state: str = "draft") -> Movement:
    return Movement.from_dict({**data, "id": movement_id, "state": state})


def _load(movement_id: str) -> MovementDocument:
    doc = MovementDocument.objects(id=movement_id).first()
    if doc is None:
        raise NotFound(f"Không có phong trào {movement_id} / no movement {movement_id}")
    return doc


def load(movement_id: str) -> tuple[MovementDocument, Movement]:
    doc = _load(movement_id)
    return doc, Movement.from_dict(doc.content)


def _check_organiser(directory: Directory, movement: Movement) -> None:
    organiser = directory.get(movement.organiser_id)
    if organiser is None or organiser.at(movement.period_start) is None:
        raise Invalid(
            "organiser_id",
            f"Đơn vị phát động {movement.organiser_id} không có hoặc không hoạt động vào ngày bắt đầu / the organiser is not an active unit on {movement.period_start}",
        )


def _save(doc: MovementDocument, movement: Movement, participant_ids: list[str], actor: str | None, action: str, event: str | None, extra: dict | None = None) -> MovementDocument:
    doc.content = movement.to_dict()
    doc.title_folded = fold(movement.title)
    doc.state = movement.state
    doc.participant_ids = participant_ids
    doc.history = [*doc.history, {"action": action, "actor": actor, "state": movement.state, **(extra or {})}]
    if event:
        doc.record(MOVEMENT_EVENTS[event], {"movement": {**movement.to_dict(), "participant_ids": participant_ids}, **(extra or {})})
    try:
        save_aggregate(doc)
    except ConcurrentUpdate:
        raise Conflict("Phong trào vừa được người khác sửa, tải lại rồi thử lại / the movement changed meanwhile: reload and retry") from None
    return doc


def create_movement(store: UnitStore, data: dict[str, Any], actor: str | None, movement_id: str | None = None) -> MovementDocument:
    movement = rules.check(movement_from(data, movement_id or new_id()))
    directory = store.directory()
    _check_organiser(directory, movement)
    participant_ids = resolve_participants(directory, movement.participants, movement.period_start)
    return _save(MovementDocument(id=movement.id, state="draft"), movement, participant_ids, actor, "drafted", None)


def update_movement(store: UnitStore, movement_id: str, data: dict[str, Any], actor: str | None, check_version: Callable[[MovementDocument], None]) -> MovementDocument:
    doc, current = load(movement_id)
    check_version(doc)
    proposed = movement_from(data, movement_id, current.state)
    movement, changed = rules.amend(current, proposed)
    if not changed:
        return doc
    directory = store.directory()
    _check_organiser(directory, movement)
    participant_ids = resolve_participants(directory, movement.participants, movement.period_start)
    event = "amended" if movement.state == "launched" else None
    return _save(doc, movement, participant_ids, actor, "amended" if event else "edited", event, {"changed": changed})


def launch_movement(store: UnitStore, movement_id: str, actor: str | None, check_version: Callable[[MovementDocument], None]) -> MovementDocument:
    doc, movement = load(movement_id)
    check_version(doc)
    directory = store.directory()
    _check_organiser(directory, movement)
    participant_ids = resolve_participants(directory, movement.participants, movement.period_start)  # as of the start, now
    return _save(doc, rules.launch(movement, participant_ids), participant_ids, actor, "launched", "launched")


def close_movement(movement_id: str, actor: str | None, check_version, reason: str | None = None) -> MovementDocument:
    doc, movement = load(movement_id)
    check_version(doc)
    return _save(doc, rules.close(movement), list(doc.participant_ids), actor, "closed", "closed", {"reason": reason})


def cancel_movement(movement_id: str, actor: str | None, check_version, reason: str) -> MovementDocument:
    doc, movement = load(movement_id)
    check_version(doc)
    was_launched = movement.state == "launched"
    # A draft nobody outside the registry has seen is cancelled quietly; a launched one is announced.
    return _save(doc, rules.cancel(movement), list(doc.participant_ids), actor, "cancelled", "cancelled" if was_launched else None, {"reason": reason})
