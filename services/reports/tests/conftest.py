"""Reports tests run the real app against the real store; the registry's side is fed through
the real projection handlers with events shaped as the registry publishes them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import mongoengine
import pytest
from tdkt.clock import local_today
from tdkt.events.consumer import HandlerContext
from tdkt.events.envelope import Event, EventType
from tdkt.web.app import create_app
from tdkt_reports.bootstrap import SERVICE
from tdkt_reports.service_layer import projections

TODAY = local_today()


@pytest.fixture
def app(service_env):
    app = create_app(SERVICE)
    yield app
    mongoengine.disconnect()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db(app):
    return app.extensions["tdkt"].db


@dataclass
class Registry:
    """Publishes registry-shaped events straight into this service's handlers."""

    db: object
    sequences: dict = field(default_factory=dict)

    def publish(self, kind: str, subject: str, data: dict, topic: str) -> None:
        self.sequences[subject] = self.sequences.get(subject, 0) + 1
        event = Event.new(EventType(f"vn.tdkt.registry.{kind}.v1", topic), source="/registry", subject=subject, data=data, sequence=self.sequences[subject])
        handler = {"registry.units.v1": projections.on_unit, "registry.movements.v1": projections.on_movement, "registry.registrations.v1": projections.on_registration}[topic]
        handler(event, HandlerContext(self.db, data, 1))

    def unit(self, name: str, kind: str = "commune", event: str = "established", **extra) -> str:
        unit_id = extra.pop("id", None) or uuid.uuid4().hex
        self.publish(
            f"unit.{event}",
            unit_id,
            {
                "unit": {
                    "id": unit_id,
                    "name": name,
                    "kind": kind,
                    "code": None,
                    "parent_id": None,
                    "valid_from": None,
                    "valid_to": None,
                    "end_reason": None,
                    "successor_ids": [],
                    "predecessor_ids": [],
                    **extra,
                },
                "act": {},
            },
            "registry.units.v1",
        )
        return unit_id

    def movement(self, participants: list[str], event: str = "launched", movement_id: str | None = None, **overrides) -> dict:
        movement_id = movement_id or uuid.uuid4().hex
        start, end = TODAY - timedelta(days=40), TODAY + timedelta(days=80)
        movement = {
            "id": movement_id,
            "title": "Thi đua hoàn thành chỉ tiêu năm",
            "state": "launched",
            "organiser_id": "org",
            "period_start": start.isoformat(),
            "period_end": end.isoformat(),
            "content_areas": [{"key": "kinh-te", "title": "Kinh tế"}],
            "criteria": [
                {
                    "key": "giai-ngan",
                    "area": "kinh-te",
                    "name": "Giải ngân đầu tư công",
                    "unit_of_measure": "%",
                    "target": 95,
                    "direction": "higher_is_better",
                    "value_type": "percent",
                    "weight": 2,
                    "evidence_required": False,
                },
                {
                    "key": "ocop",
                    "area": "kinh-te",
                    "name": "Sản phẩm OCOP",
                    "unit_of_measure": "sản phẩm",
                    "target": 1,
                    "direction": "higher_is_better",
                    "value_type": "integer",
                    "weight": 1,
                    "evidence_required": False,
                },
            ],
            "due_dates": [
                {"kind": "interim", "period": (TODAY - timedelta(days=30)).strftime("%Y-%m"), "due": (TODAY - timedelta(days=5)).isoformat()},
                {"kind": "interim", "period": (TODAY + timedelta(days=31)).strftime("%Y-%m"), "due": (TODAY + timedelta(days=45)).isoformat()},
                {"kind": "final", "period": "final", "due": end.isoformat()},
            ],
            "participant_ids": participants,
        } | overrides
        self.publish(f"movement.{event}", movement_id, {"movement": movement}, "registry.movements.v1")
        return movement


@pytest.fixture
def registry(db) -> Registry:
    return Registry(db)
