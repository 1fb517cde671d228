"""Across services, through Kafka, with every process real: the registry launches a movement →
its periods appear in reports → a unit submits → an officer accepts → the unit's progress is
updated, and the events are on Kafka for the other services."""

from __future__ import annotations

import json
from datetime import timedelta
from io import BytesIO

import pytest
import requests
from kafka import KafkaConsumer
from openpyxl import load_workbook
from tdkt.clock import local_today
from tdkt_localstack.testing import wait_until

LEGAL = {"number": "15/KH-UBND", "date": "2026-01-05", "issuer": "Ủy ban nhân dân tỉnh Lai Châu"}


def events_on(topic: str, bootstrap: str, key: str) -> list[tuple[str, dict]]:
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None, consumer_timeout_ms=1500)
    try:
        return [(dict(r.headers)["ce_type"].decode(), json.loads(r.value)) for r in consumer if r.key and r.key.decode() == key]
    finally:
        consumer.close()


@pytest.mark.services("registry", "reports")
def test_a_movement_launched_in_the_registry_is_reported_on_and_accepted(system, make_token, servers):
    officer = {"Authorization": f"Bearer {make_token('tdkt_officer')}"}
    registry = system.url("registry")
    today = local_today()

    def post(url, body, headers=officer, etag=None):
        response = requests.post(url, json=body, headers=headers | ({"If-Match": etag} if etag else {}), timeout=30)
        assert response.status_code in (200, 201), response.text
        return response

    province = post(f"{registry}/units", {"code": "12", "name": "Tỉnh Lai Châu", "kind": "province"}).json()["units"][0]["id"]
    commune = post(f"{registry}/units", {"code": "03390", "name": "Xã Bình Lư", "kind": "commune", "parent_id": province, "valid_from": "2025-07-01"}).json()["units"][0]["id"]
    movement = post(
        f"{registry}/movements",
        {
            "title": "Thi đua hoàn thành chỉ tiêu giải ngân",
            "organiser_id": province,
            "period_start": (today - timedelta(days=20)).isoformat(),
            "period_end": (today + timedelta(days=60)).isoformat(),
            "content_areas": [{"key": "kinh-te", "title": "Kinh tế"}],
            "criteria": [{"key": "giai-ngan", "area": "kinh-te", "name": "Giải ngân đầu tư công", "unit_of_measure": "%", "target": 95, "value_type": "percent"}],
            "schedule": {"monthly_day": 28},
            "participants": {"selector": "communes_of", "selector_id": province},
            "legal_basis": LEGAL,
        },
    ).json()
    etag = requests.get(f"{registry}/movements/{movement['id']}", headers=officer, timeout=10).headers["ETag"]
    post(f"{registry}/movements/{movement['id']}/launch", {}, etag=etag)

    # reports learns of it through Kafka and opens the commune's periods
    reports = system.url("reports")
    reporter = {"Authorization": f"Bearer {make_token('unit_reporter', unit=commune)}"}
    head = {"Authorization": f"Bearer {make_token('unit_head', unit=commune)}"}

    def periods():
        found = requests.get(f"{reports}/reports", params={"movement_id": movement["id"]}, headers=reporter, timeout=10).json()
        return found["items"] if found.get("total") else None

    opened = wait_until(periods, timeout=60, message="the movement's periods in the reports service")
    current = next(p for p in opened if p["opens"] <= today.isoformat())
    url = f"{reports}/reports/{current['id']}"
    etag = requests.get(url, headers=reporter, timeout=10).headers["ETag"]
    saved = requests.put(
        f"{url}/draft", json={"narrative": "Đã giải ngân 97%", "values": {"giai-ngan": {"value": 97, "unit": "%"}}}, headers=reporter | {"If-Match": etag}, timeout=10
    )
    assert saved.status_code == 200, saved.text
    submitted = post(f"{url}/submit", {}, headers=head, etag=saved.headers["ETag"])
    accepted = post(f"{url}/accept", {"comment": "Đạt"}, etag=submitted.headers["ETag"])
    assert accepted.json()["state"] == "accepted"

    bootstrap = servers.kafka_bootstrap
    report_events = wait_until(lambda: [t for t, _ in events_on("reports.reports.v1", bootstrap, current["id"])] or None, timeout=30, message="report events on Kafka")
    assert report_events == ["vn.tdkt.reports.report.submitted.v1", "vn.tdkt.reports.report.accepted.v1"]

    def progress():
        found = events_on("reports.progress.v1", bootstrap, f"{movement['id']}.{commune}")
        return found if found and found[-1][1]["accepted"] == 1 else None

    latest = wait_until(progress, timeout=30, message="MovementProgressUpdated with the accepted report")[-1][1]
    assert latest["unit_id"] == commune and latest["last_accepted"]["values"]["giai-ngan"]["value"] == 97

    # the figures and the Excel export show it (the aggregation follows the progress, eventually)
    def aggregated():
        found = requests.get(f"{reports}/movements/{movement['id']}/aggregation", headers=officer, timeout=30)
        rows = found.json().get("items") if found.status_code == 200 else None
        return rows if rows and rows[0]["criteria"]["giai-ngan"]["value"] == 97 else None

    row = wait_until(aggregated, timeout=60, message="the accepted value in the movement's aggregation")[0]
    assert row["unit_id"] == commune and row["accepted"] == 1 and row["criteria"]["giai-ngan"]["met"] is True
    export = requests.get(f"{reports}/movements/{movement['id']}/export.xlsx", headers=officer, timeout=60)
    assert export.status_code == 200 and export.content.startswith(b"PK")
    cells = [c for r in load_workbook(BytesIO(export.content)).active.iter_rows(values_only=True) for c in r if c is not None]
    assert "Xã Bình Lư" in cells and 97 in cells

    status = requests.get(f"{reports}/projections", headers=officer, timeout=10).json()
    assert {p["name"]: p["documents"] for p in status["projections"]}["movements"] >= 1

    # the copies, rebuilt from scratch by replaying the registry's topics, are the same
    db = system.db("reports")
    ours = {"unit_views": [province, commune], "movement_views": [movement["id"]]}
    before = {name: [db[name].find_one({"_id": i}) for i in ids] for name, ids in ours.items()}
    output = system.tdkt("reports", "rebuild-projections")
    assert "records replayed" in output, output
    after = {name: [db[name].find_one({"_id": i}) for i in ids] for name, ids in ours.items()}
    assert after == before
    assert db.reports.find_one({"_id": current["id"]})["state"] == "accepted", "rebuilding the copies leaves the reports alone"
