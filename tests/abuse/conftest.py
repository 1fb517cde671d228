"""Fixtures of the abuse cases: each service's real Flask app on the real store (the test's own
database from `service_env`), one service per test, since mongoengine's connection is global."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import mongoengine
import pytest
from flask import Flask
from tdkt.services import service_named
from tdkt.web.app import create_app


@pytest.fixture
def service_app(service_env) -> Iterator[Callable[[str], Flask]]:
    """`service_app("reports")`: that service's app, its store connected to this test's database."""
    made: list[Flask] = []

    def make(name: str) -> Flask:
        assert not made, "one service per test: they would share mongoengine's default connection"
        made.append(create_app(service_named(name)))
        return made[0]

    yield make
    mongoengine.disconnect()


def problem(response, status: int) -> dict:
    """The problem+json body of a response that must have `status` (never a stack trace)."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:800])
    assert response.mimetype == "application/problem+json", response.mimetype
    body = response.get_json()
    assert " / " in body["title"]  # bilingual
    return body


def names_field(response, location: str, field: str) -> dict:
    """A 422 whose `errors[location]` names `field` (or a path under it, e.g. `targets.a.b`)."""
    body = problem(response, 422)
    named = body.get("errors", {}).get(location, {})
    assert any(k == field or k.startswith(f"{field}.") for k in named), (field, body)
    return body


# --- awards: units as the registry's events bring them, the shipped catalogue, a nomination ------


def awards_unit(unit_id: str, name: str, parent: str | None = None) -> None:
    """A unit in awards' own copy, fed to its handler as the registry's event would (inside an app context)."""
    from tdkt.events.consumer import HandlerContext
    from tdkt.events.envelope import Event, EventType
    from tdkt_awards.adapters.documents import Nomination
    from tdkt_awards.service_layer import projections

    data = {"unit": {"name": name, "parent_id": parent, "kind": "commune"}}
    event = Event.new(EventType("vn.tdkt.registry.unit.established.v1", "registry.units.v1"), source="/test", subject=unit_id, data=data, sequence=1)
    projections.on_unit(event, HandlerContext(db=Nomination._get_db(), data=data, attempt=1))


@pytest.fixture
def awards(service_app) -> Iterator[Flask]:
    """Awards with the shipped catalogue and two communes, `u-a` (Xã Bình Lư) and `u-b` (Xã Sơn Bình)."""
    from tdkt_awards.service_layer.catalogue import seed_default

    app = service_app("awards")
    with app.app_context():
        seed_default("test")
        awards_unit("u-a", "Xã Bình Lư")
        awards_unit("u-b", "Xã Sơn Bình")
        yield app


def collective(unit_id: str, title: str = "TTLDTT", **nominee) -> dict:
    """A unit's nomination for a collective title (as services/awards/tests build them)."""
    return {
        "kind": "annual",
        "year": 2026,
        "title_code": title,
        "subject": "collective",
        "nominee": {"unit_id": unit_id, "members_total": 20, "members_completed_tasks": 20, "members_with_titles": {"LDTT": 16}, "members_disciplined": 0, **nominee},
        "achievement": "Hoàn thành xuất sắc nhiệm vụ năm 2026",
    }


def created(response, status: int = 201) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:800]
    return response.get_json()


# --- reports: the registry's events fed to its projections (as services/reports/tests do) ------


def reports_feed(db, kind: str, subject: str, data: dict, topic: str) -> None:
    from tdkt.events.consumer import HandlerContext
    from tdkt.events.envelope import Event, EventType
    from tdkt_reports.service_layer import projections

    event = Event.new(EventType(f"vn.tdkt.registry.{kind}.v1", topic), source="/registry", subject=subject, data=data, sequence=1)
    handler = {"registry.units.v1": projections.on_unit, "registry.movements.v1": projections.on_movement}[topic]
    handler(event, HandlerContext(db, data, 1))


@pytest.fixture
def reports(service_app) -> Flask:
    """Reports with units `u-a`, `u-b` (one named like a formula) and a launched movement `m-1`
    in which both report: each has its interim and final reports."""
    from datetime import timedelta

    from tdkt.clock import local_today

    app = service_app("reports")
    db = app.extensions["tdkt"].db
    for unit_id, name in (("u-a", "Xã Bình Lư"), ("u-b", '=HYPERLINK("http://evil.example","Xã Sơn Bình")')):
        unit = {"id": unit_id, "name": name, "kind": "commune", "code": unit_id[-1], "parent_id": None, "valid_from": None, "valid_to": None, "end_reason": None}
        reports_feed(db, "unit.established", unit_id, {"unit": {**unit, "successor_ids": [], "predecessor_ids": []}, "act": {}}, "registry.units.v1")
    today = local_today()
    movement = {
        "id": "m-1",
        "title": "+Thi đua hoàn thành chỉ tiêu năm",
        "state": "launched",
        "organiser_id": "org",
        "period_start": (today - timedelta(days=40)).isoformat(),
        "period_end": (today + timedelta(days=80)).isoformat(),
        "content_areas": [{"key": "kinh-te", "title": "@Kinh tế"}],
        "criteria": [
            {
                "key": "giai-ngan",
                "area": "kinh-te",
                "name": "-Giải ngân",
                "unit_of_measure": "%",
                "target": 95,
                "direction": "higher_is_better",
                "value_type": "percent",
                "weight": 1,
                "evidence_required": False,
            }
        ],
        "due_dates": [
            {"kind": "interim", "period": (today - timedelta(days=30)).strftime("%Y-%m"), "due": (today - timedelta(days=5)).isoformat()},
            {"kind": "final", "period": "final", "due": (today + timedelta(days=80)).isoformat()},
        ],
        "participant_ids": ["u-a", "u-b"],
    }
    reports_feed(db, "movement.launched", "m-1", {"movement": movement}, "registry.movements.v1")
    return app
