"""Registrations (đăng ký thi đua): a participating unit commits to a target per criterion and
names the titles it aims for; it may amend until the registration deadline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from tdkt.auth import Principal
from tdkt.clock import local_today
from tdkt.errors import Conflict, Invalid, NotFound
from tdkt.events.outbox import AlreadyExists, ConcurrentUpdate, save_aggregate

from tdkt_registry.adapters.documents import MovementDocument, RegistrationDocument
from tdkt_registry.adapters.events import REGISTRATION_EVENTS
from tdkt_registry.domain.movements import Movement, check_target

REGISTRANT_ROLES = ("unit_head", "unit_reporter")


def registration_id(movement_id: str, unit_id: str) -> str:
    return f"{movement_id}.{unit_id}"  # one registration per unit and movement, by construction


def _movement(movement_id: str) -> tuple[Movement, list[str]]:
    doc = MovementDocument.objects(id=movement_id).exclude("outbox", "history").first()
    if doc is None or doc.state == "draft":
        raise NotFound(f"Không có phong trào {movement_id} / no movement {movement_id}")
    return Movement.from_dict(doc.content), list(doc.participant_ids)


def _check(movement: Movement, participant_ids: list[str], unit_id: str, data: dict[str, Any]) -> dict[str, float]:
    if movement.state != "launched":
        raise Conflict(f"Phong trào không nhận đăng ký (trạng thái: {movement.state}) / the movement takes no registrations ({movement.state})")
    if unit_id not in participant_ids:
        raise Conflict("Đơn vị không thuộc đối tượng tham gia phong trào / the unit does not take part in this movement")
    today = local_today()
    if today > movement.registration_closes:
        raise Conflict(f"Đã hết hạn đăng ký ({movement.registration_closes.strftime('%d/%m/%Y')}) / registration closed on {movement.registration_closes}")
    targets = data["targets"]
    for key, value in targets.items():
        check_target(movement, key, value, f"targets.{key}")
    missing = [c.key for c in movement.criteria if c.key not in targets]
    if missing:
        raise Invalid(f"targets.{missing[0]}", f"Thiếu chỉ tiêu cho tiêu chí / a target is required for every criterion; missing: {', '.join(missing)}")
    return targets


def submit(movement_id: str, data: dict[str, Any], principal: Principal) -> RegistrationDocument:
    unit_id = data.get("unit_id") or principal.unit_id
    if unit_id != principal.unit_id:
        raise Invalid("unit_id", "Chỉ đăng ký được cho đơn vị của mình / you can register your own unit only")
    movement, participant_ids = _movement(movement_id)
    targets = _check(movement, participant_ids, unit_id, data)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    doc = RegistrationDocument(
        id=registration_id(movement_id, unit_id),
        movement_id=movement_id,
        unit_id=unit_id,
        targets=targets,
        titles=data.get("titles") or [],
        note=data.get("note"),
        submitted_at=now,
        submitted_by=principal.subject,
    )
    doc.record(REGISTRATION_EVENTS["submitted"], {"registration": view(doc)})
    try:
        save_aggregate(doc)
    except AlreadyExists:
        raise Conflict("Đơn vị đã đăng ký; dùng PUT để điều chỉnh / the unit has registered already: amend it with PUT", registration_id=doc.id) from None
    return doc


def amend(movement_id: str, unit_id: str, data: dict[str, Any], principal: Principal, check_version: Callable[[RegistrationDocument], None]) -> RegistrationDocument:
    if unit_id != principal.unit_id:
        raise NotFound("Không có đăng ký này / no such registration")
    doc = find(movement_id, unit_id, principal)
    check_version(doc)
    movement, participant_ids = _movement(movement_id)
    doc.targets = _check(movement, participant_ids, unit_id, data)
    doc.titles = data.get("titles") or []
    doc.note = data.get("note")
    doc.amended_at = datetime.now(UTC).isoformat(timespec="seconds")
    doc.amendments += 1
    doc.record(REGISTRATION_EVENTS["amended"], {"registration": view(doc)})
    try:
        save_aggregate(doc)
    except ConcurrentUpdate:
        raise Conflict("Đăng ký vừa được sửa, tải lại rồi thử lại / the registration changed meanwhile") from None
    return doc


def find(movement_id: str, unit_id: str, principal: Principal) -> RegistrationDocument:
    doc = RegistrationDocument.objects(id=registration_id(movement_id, unit_id)).exclude("outbox").first()
    if doc is None or not principal.may_see_unit(doc.unit_id):
        raise NotFound("Không có đăng ký này / no such registration")
    return doc


def view(doc: RegistrationDocument) -> dict[str, Any]:
    return {
        "id": doc.id,
        "movement_id": doc.movement_id,
        "unit_id": doc.unit_id,
        "targets": dict(doc.targets),
        "titles": list(doc.titles),
        "note": doc.note,
        "submitted_at": doc.submitted_at,
        "amended_at": doc.amended_at,
        "amendments": doc.amendments,
    }
