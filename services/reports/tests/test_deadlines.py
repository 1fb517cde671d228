"""Deadline reminders: ReportDueSoon / ReportOverdue once per report and threshold — run twice,
run again later, run by two replica processes at once — none for a report already submitted,
and a late submission accepted and marked late.

The `registry` fixture's movement: first period due 5 days ago, second due in 45 days, final in
80. Events are counted in the reports' outboxes (nothing publishes them in these tests).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import date, timedelta

import pytest
from tdkt.settings import SettingsError
from tdkt_reports.adapters.documents import Report
from tdkt_reports.adapters.events import REPORT_EVENTS
from tdkt_reports.service_layer.deadlines import check_deadlines, load_deadline_settings, reminder_for
from tdkt_reports.service_layer.periods import report_id

from .conftest import TODAY

DUE_SOON, OVERDUE = REPORT_EVENTS["due_soon"].type, REPORT_EVENTS["overdue"].type


def reminders(db, movement_id: str) -> dict[str, list[tuple[str, int]]]:
    """Per report id: the reminder events in its outbox, as (kind, days)."""
    sent = {}
    for doc in db.reports.find({"movement_id": movement_id}, {"outbox": 1}):
        sent[doc["_id"]] = [(e["data"]["reminder"]["kind"], e["data"]["reminder"]["days"]) for e in doc.get("outbox", []) if e["type"] in (DUE_SOON, OVERDUE)]
    return sent


def test_overdue_once_per_report_and_threshold_however_often_the_check_runs(registry, db):
    units = [registry.unit("Xã Bình Lư"), registry.unit("Xã Tả Lèng")]
    movement = registry.movement(units)
    first, second = (movement["due_dates"][i]["period"] for i in (0, 1))

    result = check_deadlines(db, TODAY)
    assert result.counts["overdue"] == 2 and result.counts.get("due_soon", 0) == 0
    expected = {report_id(movement["id"], u, p): [("overdue", 0)] if p == first else [] for u in units for p in (first, second, "final")}
    assert reminders(db, movement["id"]) == expected
    doc = Report.objects.get(id=report_id(movement["id"], units[0], first))
    assert doc.reminders == ["overdue:0"] and doc.state == "open"
    event = doc.outbox[-1]
    assert event["type"] == OVERDUE and event["subject"] == doc.id and event["sequence"] == doc.version
    assert event["data"]["report"]["unit_id"] == units[0] and event["data"]["reminder"] == {"kind": "overdue", "days": 0, "due": movement["due_dates"][0]["due"]}

    again = check_deadlines(db, TODAY)  # the same day again, or after a restart: the markers say it is done
    assert again.counts.get("overdue", 0) == 0 and again.counts["already_reminded"] == 2
    assert reminders(db, movement["id"]) == expected

    soon = check_deadlines(db, date.fromisoformat(movement["due_dates"][1]["due"]) - timedelta(days=3))  # second period 3 days away
    assert soon.counts["due_soon"] == 2 and soon.counts.get("overdue", 0) == 0  # the first period's overdue reminders are past their window
    sent = reminders(db, movement["id"])
    assert all(sent[report_id(movement["id"], u, second)] == [("due_soon", 3)] for u in units)
    assert sum(len(v) for v in sent.values()) == 4


def test_a_week_late_gets_the_second_overdue_reminder_once_and_a_long_outage_no_burst(registry, db):
    unit = registry.unit("Xã Bình Lư")
    movement = registry.movement([unit])
    rid = report_id(movement["id"], unit, movement["due_dates"][0]["period"])
    check_deadlines(db, TODAY)
    check_deadlines(db, TODAY + timedelta(days=2))  # 7 days late
    check_deadlines(db, TODAY + timedelta(days=3))
    assert reminders(db, movement["id"])[rid] == [("overdue", 0), ("overdue", 7)]

    # a check that did not run for a while reaches two thresholds at once: only the most pressing is sent
    other = registry.unit("Xã Tả Lèng")
    late = registry.movement([other])
    check_deadlines(db, TODAY + timedelta(days=2))
    rid = report_id(late["id"], other, late["due_dates"][0]["period"])
    assert reminders(db, late["id"])[rid] == [("overdue", 7)]
    assert Report.objects.get(id=rid).reminders == ["overdue:0", "overdue:7"]


def test_a_report_submitted_before_the_check_gets_no_reminder_and_late_submission_is_marked_late(client, as_role, registry, db):
    punctual, slow = registry.unit("Xã Bình Lư"), registry.unit("Xã Tả Lèng")
    movement = registry.movement([punctual, slow])
    period = movement["due_dates"][0]["period"]
    submitted = submit(client, as_role, report_id(movement["id"], punctual, period), punctual)
    assert submitted["late"] is True  # due five days ago: accepted, marked late

    check_deadlines(db, TODAY)
    sent = reminders(db, movement["id"])
    assert sent[report_id(movement["id"], punctual, period)] == [] and sent[report_id(movement["id"], slow, period)] == [("overdue", 0)]

    # reminded, then submitted late: accepted, marked late, and no further reminder
    body = submit(client, as_role, report_id(movement["id"], slow, period), slow)
    assert body["state"] == "submitted" and body["late"] is True and body["versions"][-1]["late"] is True
    assert check_deadlines(db, TODAY + timedelta(days=2)).counts.get("overdue", 0) == 0
    assert reminders(db, movement["id"])[report_id(movement["id"], slow, period)] == [("overdue", 0)]


def submit(client, as_role, rid: str, unit: str) -> dict:
    reporter, head = as_role("unit_reporter", unit=unit), as_role("unit_head", unit=unit)
    etag = client.get(f"/api/v1/reports/{rid}", headers=reporter).headers["ETag"]
    saved = client.put(f"/api/v1/reports/{rid}/draft", json={"values": {"giai-ngan": {"value": 90}, "ocop": {"value": 1}}}, headers=reporter | {"If-Match": etag})
    assert saved.status_code == 200, saved.get_json()
    done = client.post(f"/api/v1/reports/{rid}/submit", json={}, headers=head | {"If-Match": saved.headers["ETag"]})
    assert done.status_code == 200, done.get_json()
    return done.get_json()


def test_an_inherited_report_is_reminded_to_its_successor(registry, db):
    old, successor = registry.unit("Thị trấn Tam Đường"), registry.unit("Xã Bình Lư (mới)")
    movement = registry.movement([old])
    registry.unit("Thị trấn Tam Đường", event="merged", id=old, end_reason="merged", valid_to=(TODAY - timedelta(days=1)).isoformat(), successor_ids=[successor])
    check_deadlines(db, TODAY)
    doc = Report.objects.get(id=report_id(movement["id"], old, movement["due_dates"][0]["period"]))
    assert [e["data"]["report"]["unit_id"] for e in doc.outbox if e["type"] == OVERDUE] == [successor]


REPLICA = """
import json, sys, time
from datetime import date
from pathlib import Path
from tdkt.settings import load_mongo_settings
from tdkt.store import connect_store
from tdkt_reports.service_layer.deadlines import check_deadlines

flags, name, today = Path(sys.argv[1]), sys.argv[2], date.fromisoformat(sys.argv[3])
db = connect_store(load_mongo_settings("reports"))
db.command("ping")  # connected before the start line, so both replicas begin together
(flags / f"ready-{name}").touch()
while not (flags / "go").exists():
    time.sleep(0.002)
print("RESULT " + json.dumps(check_deadlines(db, today).counts), flush=True)
"""


def test_two_replicas_running_the_check_at_once_send_one_reminder_per_report(registry, db, service_env, tmp_path):
    units = [registry.unit(f"Xã số {n}") for n in range(15)]
    movement = registry.movement(units)
    env = {**os.environ, **service_env}
    replicas = [
        subprocess.Popen([sys.executable, "-c", REPLICA, str(tmp_path), name, TODAY.isoformat()], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name in ("a", "b")
    ]
    try:
        deadline = time.monotonic() + 60
        while not all((tmp_path / f"ready-{name}").exists() for name in ("a", "b")):  # both started, neither finished
            assert all(p.poll() is None for p in replicas), [p.communicate() for p in replicas]
            assert time.monotonic() < deadline, "replicas did not start"
            time.sleep(0.01)
        (tmp_path / "go").touch()
        outputs = [p.communicate(timeout=120) for p in replicas]
    finally:
        for p in replicas:
            if p.poll() is None:
                p.kill()
    assert all(p.returncode == 0 for p in replicas), outputs
    counts = [json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:]) for out, _ in outputs]
    assert [c["candidates"] for c in counts] == [15, 15]  # each replica went through every report
    assert sum(c.get("overdue", 0) for c in counts) == 15  # between them, one reminder each

    sent = reminders(db, movement["id"])
    first = movement["due_dates"][0]["period"]
    assert all(sent[report_id(movement["id"], u, first)] == [("overdue", 0)] for u in units)
    assert sum(len(v) for v in sent.values()) == 15
    assert all(Report.objects.get(id=report_id(movement["id"], u, first)).reminders == ["overdue:0"] for u in units)


def test_thresholds_and_windows():
    due = date(2025, 10, 25)
    assert reminder_for(due, date(2025, 10, 21), (3,), (0, 7)) is None
    assert reminder_for(due, date(2025, 10, 22), (3,), (0, 7)).marker == "due_soon:3"
    assert reminder_for(due, due, (3,), (0, 7)).marker == "due_soon:3"  # due "by 25/10": still due soon on the day
    assert reminder_for(due, date(2025, 10, 26), (3,), (0, 7)).marker == "overdue:0"
    assert reminder_for(due, date(2025, 11, 1), (3,), (0, 7)).passes == ("overdue:0", "overdue:7")
    assert reminder_for(due, date(2025, 11, 30), (3,), (0, 7)) is None  # stale: not sent a month late
    assert reminder_for(due, date(2025, 10, 20), (7, 3), ()).marker == "due_soon:7"
    assert reminder_for(due, date(2025, 10, 23), (7, 3), ()).passes == ("due_soon:3", "due_soon:7")


def test_thresholds_come_from_the_environment_and_bad_ones_are_named():
    assert load_deadline_settings({}) == load_deadline_settings({"REPORTS_DUE_SOON_DAYS": "3", "REPORTS_OVERDUE_DAYS": "0,7", "REPORTS_DEADLINE_CHECK_INTERVAL_S": "600"})
    settings = load_deadline_settings({"REPORTS_DUE_SOON_DAYS": "7, 3", "REPORTS_OVERDUE_DAYS": "", "REPORTS_DEADLINE_CHECK_INTERVAL_S": "60"})
    assert (settings.due_soon_days, settings.overdue_days, settings.interval_s) == ((3, 7), (), 60)
    with pytest.raises(SettingsError) as bad:
        load_deadline_settings({"REPORTS_DUE_SOON_DAYS": "ba", "REPORTS_OVERDUE_DAYS": "-1", "REPORTS_DEADLINE_CHECK_INTERVAL_S": "0"})
    assert all(name in str(bad.value) for name in ("REPORTS_DUE_SOON_DAYS", "REPORTS_OVERDUE_DAYS", "REPORTS_DEADLINE_CHECK_INTERVAL_S"))
