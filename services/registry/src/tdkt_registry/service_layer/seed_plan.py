"""`tdkt registry seed-plan`: the 2023 Tam Đường plan (`seed/tam-duong-2023-plan.txt`) as a
launched movement — its theme, eight content areas, criteria drafted from the plan's text
(`seed/tam-duong-2023-movement.json`: the plan names the areas but no figures, so the targets
are illustrative data an operator edits), its period and the district's 2023 units.

Idempotent: the movement has a fixed id; a second run finds it and says so.
"""

from __future__ import annotations

import json
from datetime import date
from importlib import resources

from tdkt.errors import Conflict

from tdkt_registry.adapters.documents import MovementDocument
from tdkt_registry.adapters.unit_store import UnitStore
from tdkt_registry.domain.units import parse_day
from tdkt_registry.service_layer import movements


def seed_movement() -> dict:
    return json.loads(resources.files("tdkt_registry.seed").joinpath("tam-duong-2023-movement.json").read_text(encoding="utf-8"))


def load_seed_plan(store: UnitStore, actor: str | None) -> str:
    data = seed_movement()
    existing = MovementDocument.objects(id=data["id"]).only("id", "state").first()
    if existing is not None and existing.state == "draft":  # a previous run stopped between drafting and launching
        doc = movements.launch_movement(store, data["id"], actor, lambda d: None)
        return f"Phong trào / movement {doc.id} launched ({len(doc.participant_ids)} participating units)."
    if existing is not None:
        return f"Không có gì thay đổi / nothing changed: movement {data['id']} is already loaded ({existing.state})."
    start = parse_day(data["period_start"], "period_start")
    directory = store.directory()
    organiser = directory.by_code(data.pop("organiser_code"), start)
    if organiser is None:
        raise Conflict("Chưa có đơn vị năm 2023: chạy `tdkt registry import-admin-units` trước / the 2023 units are missing: run `tdkt registry import-admin-units` first")
    participants = data["participants"]
    participants["selector_id"] = directory.by_code(participants.pop("selector_code"), start).id
    movement_id = data.pop("id")
    doc = movements.create_movement(store, {**data, "organiser_id": organiser.id}, actor, movement_id=movement_id)
    doc = movements.launch_movement(store, movement_id, actor, lambda d: None)
    return f"Phong trào / movement {movement_id} launched: {len(doc.content['criteria'])} criteria in {len(doc.content['content_areas'])} content areas, {len(doc.participant_ids)} participating units as of {start:%d/%m/%Y}."


def seed_day() -> date:
    return parse_day(seed_movement()["period_start"], "period_start")
