"""kill -9 the reports consumer at the worst moment — half-way through opening the periods of a
large movement, and again while it turns report events into progress — then restart it: every
period exists once, every unit's progress counts each report once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import uuid
from datetime import timedelta

from pymongo import MongoClient
from tdkt.clock import local_today
from tdkt.events.envelope import Event, EventType
from tdkt.events.kafka import make_admin, make_producer
from tdkt.events.topics import ensure_topics
from tdkt_localstack.testing import wait_until
from tdkt_registry.bootstrap import SERVICE as REGISTRY
from tdkt_reports.bootstrap import SERVICE as REPORTS

UNITS = 400
TODAY = local_today()


def consumer(env: dict) -> subprocess.Popen:
    log = open(os.path.join(tempfile.gettempdir(), f"kill-consumer-{uuid.uuid4().hex[:6]}.log"), "w")  # noqa: SIM115
    return subprocess.Popen([sys.executable, "-m", "tdkt_reports", "consumer"], env=env, stdout=log, stderr=subprocess.STDOUT)


def test_periods_and_progress_survive_kill_9(service_env, servers, kafka_settings):
    env = os.environ | service_env
    admin = make_admin(kafka_settings)
    ensure_topics(admin, [*REGISTRY.topics, *REPORTS.topics], 3)
    admin.close()
    producer = make_producer(kafka_settings)
    units = [uuid.uuid4().hex for _ in range(UNITS)]
    movement_id = uuid.uuid4().hex
    movement = {
        "id": movement_id,
        "title": "Phong trào thử tải",
        "state": "launched",
        "organiser_id": "org",
        "period_start": (TODAY - timedelta(days=40)).isoformat(),
        "period_end": (TODAY + timedelta(days=40)).isoformat(),
        "content_areas": [{"key": "kinh-te", "title": "Kinh tế"}],
        "criteria": [{"key": "giai-ngan", "area": "kinh-te", "name": "Giải ngân", "unit_of_measure": "%", "target": 95, "value_type": "percent", "weight": 1}],
        "due_dates": [
            {"kind": "interim", "period": (TODAY - timedelta(days=30)).strftime("%Y-%m"), "due": (TODAY - timedelta(days=5)).isoformat()},
            {"kind": "interim", "period": TODAY.strftime("%Y-%m") + "x", "due": (TODAY + timedelta(days=10)).isoformat()},
            {"kind": "final", "period": "final", "due": (TODAY + timedelta(days=40)).isoformat()},
        ],
        "participant_ids": units,
    }
    launched = Event.new(
        EventType("vn.tdkt.registry.movement.launched.v1", "registry.movements.v1"), source="/registry", subject=movement_id, data={"movement": movement}, sequence=1
    )
    producer.send(launched.topic, key=launched.to_kafka()[0], value=launched.to_kafka()[1], headers=launched.to_kafka()[2]).get(timeout=10)

    db = MongoClient(servers.mongo_uri)[service_env["MONGODB_DATABASE"]]
    first = consumer(env)
    try:
        wait_until(lambda: db.reports.estimated_document_count() > 0, timeout=60, message="the first periods")
        first.send_signal(signal.SIGKILL)  # the worst moment: some periods written, the offset not committed
        first.wait(timeout=10)
        partial = db.reports.count_documents({"movement_id": movement_id})
        second = consumer(env)
        wait_until(lambda: db.reports.count_documents({"movement_id": movement_id}) == UNITS * 3, timeout=120, message="every period after the restart")
        assert partial <= UNITS * 3

        # report events for 50 units' first period: progress is fed once per report, even across a kill
        period = movement["due_dates"][0]["period"]
        for n, unit in enumerate(units[:50]):
            report = {
                "id": f"{movement_id}.{unit}.{period}",
                "movement_id": movement_id,
                "unit_id": unit,
                "original_unit_id": unit,
                "period": period,
                "kind": "interim",
                "due": movement["due_dates"][0]["due"],
                "state": "accepted",
                "version": 1,
                "late": n % 2 == 0,
                "submitted_at": None,
                "values": {"giai-ngan": {"value": 96, "unit": "%"}},
            }
            event = Event.new(EventType("vn.tdkt.reports.report.accepted.v1", "reports.reports.v1"), source="/reports", subject=report["id"], data={"report": report}, sequence=3)
            key, value, headers = event.to_kafka()
            producer.send(event.topic, key=key, value=value, headers=headers)
            if n == 0:  # the same event twice, as a relay re-publishing after a crash would
                producer.send(event.topic, key=key, value=value, headers=headers)
        producer.flush(timeout=10)
        wait_until(lambda: db.progress.estimated_document_count() > 0, timeout=60, message="the first progress")
        second.send_signal(signal.SIGKILL)
        second.wait(timeout=10)
        third = consumer(env)
        try:
            wait_until(lambda: db.progress.count_documents({"movement_id": movement_id}) == 50, timeout=120, message="every unit's progress after the restart")
            for doc in db.progress.find({"movement_id": movement_id}):
                assert list(doc["periods"]) == [period] and doc["periods"][period]["state"] == "accepted"
                latest = doc["outbox"][-1]["data"] if doc["outbox"] else None
                assert latest is None or latest["accepted"] == 1, "one report, counted once"
        finally:
            third.send_signal(signal.SIGTERM)
            third.wait(timeout=20)
    finally:
        for process in (first,):
            if process.poll() is None:
                process.kill()
        producer.close(timeout=5)
    ids = [r["_id"] for r in db.reports.find({"movement_id": movement_id}, {"_id": 1})]
    assert len(ids) == len(set(ids)) == UNITS * 3
