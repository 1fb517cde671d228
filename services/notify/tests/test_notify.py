"""notify against the real store, a real SMTP server and a real HTTP receiver: events routed by the
rules to inbox, email, webhooks and the public list; one effect per (event, recipient, channel)
however often an event arrives; digests; signed webhooks retried with backoff, in order per
aggregate, a slow receiver never holding up the others; what a crash in the middle leaves; and
who may read or manage what.

Events are handed to the consumer's handlers in-process (as the consumer does); the dispatcher
runs its real workers against the real servers."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import mongoengine
import pytest
from tdkt.clock import TIMEZONE
from tdkt.events.consumer import HandlerContext
from tdkt.events.envelope import Event, EventType
from tdkt.web.app import create_app
from tdkt_notify import settings as notify_settings
from tdkt_notify.adapters.mailer import Mailer, load_smtp_settings
from tdkt_notify.bootstrap import SERVICE
from tdkt_notify.service_layer import config, intake
from tdkt_notify.service_layer.digests import send_digests
from tdkt_notify.service_layer.dispatch import Channels, Dispatcher

UNIT, OTHER, PARENT = "u-binh-lu", "u-ban-giang", "u-tam-duong"
DUE_SOON = "vn.tdkt.reports.report.due_soon.v1"


@pytest.fixture
def app(service_env, monkeypatch):
    monkeypatch.setenv("NOTIFY_RETRY_BASE_S", "0.05")
    notify_settings.current.cache_clear()
    app = create_app(SERVICE)
    with app.app_context():
        db = app.extensions["tdkt"].db
        config.seed_routes(db)
        for unit_id, name, email, parent in (
            (UNIT, "Xã Bình Lư", "binhlu@example.vn", PARENT),
            (OTHER, "Xã Bản Giang", None, PARENT),
            (PARENT, "Huyện Tam Đường", "tamduong@example.vn", None),
        ):
            event = Event.new(EventType("vn.tdkt.registry.unit.established.v1", "registry.units.v1"), source="/registry", subject=unit_id, data={}, sequence=1)
            intake.on_unit(event, HandlerContext(db=db, data={"unit": {"name": name, "parent_id": parent, "contacts": {"email": email}}}, attempt=1))
        yield app
    notify_settings.current.cache_clear()
    mongoengine.disconnect()


@pytest.fixture
def db(app):
    return app.extensions["tdkt"].db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def dispatcher(db):
    dispatcher = Dispatcher(db, Channels(mailer=Mailer(load_smtp_settings())), workers=8)
    yield dispatcher
    dispatcher.pool.shutdown(wait=True)


def deliver(db, type_: str, topic: str, subject: str, data: dict, sequence: int = 1, event: Event | None = None) -> Event:
    event = event or Event.new(EventType(type_, topic), source="/test", subject=subject, data=data, sequence=sequence)
    intake.on_event(event, HandlerContext(db=db, data=data, attempt=1))
    return event


def report_event(db, kind: str = "due_soon", unit: str = UNIT, period: str = "2026-11", sequence: int = 1) -> Event:
    report = {
        "id": f"mv.{unit}.{period}",
        "movement_id": "mv",
        "unit_id": unit,
        "period": period,
        "kind": "interim",
        "due": "2026-11-25",
        "state": "open",
        "version": 0,
        "late": False,
    }
    return deliver(db, f"vn.tdkt.reports.report.{kind}.v1", "reports.reports.v1", report["id"], {"report": report}, sequence)


def test_a_reminder_reaches_the_unit_by_email_and_inbox_once(db, client, dispatcher, smtp_server, as_role):
    event = report_event(db)
    dispatcher.drain()
    [mail] = smtp_server.wait_for(1)
    assert mail["Subject"] == "Nhắc hạn nộp báo cáo kỳ 2026-11 — hạn 25/11/2026" and mail["To"] == "binhlu@example.vn"
    assert "Kính gửi Xã Bình Lư" in mail.get_body(("plain",)).get_content() and "<b>25/11/2026</b>" in mail.get_body(("html",)).get_content()

    # the same event again (a redelivery, a replay): no second email, no second message
    deliver(db, DUE_SOON, "reports.reports.v1", event.subject, event.data, event=event)
    dispatcher.drain()
    time.sleep(0.3)
    assert len(smtp_server.messages()) == 1
    reporter = as_role("unit_reporter", unit=UNIT)
    inbox = client.get("/api/v1/inbox", headers=reporter).get_json()
    assert inbox["total"] == 1 and inbox["unread"] == 1 and inbox["items"][0]["title"].startswith("Nhắc hạn nộp báo cáo")
    assert client.get("/api/v1/inbox", headers=as_role("unit_reporter", unit=OTHER)).get_json()["total"] == 0
    message_id = inbox["items"][0]["id"]
    assert client.post(f"/api/v1/inbox/{message_id}/read", json={}, headers=as_role("unit_reporter", unit=OTHER)).status_code == 404
    assert client.post(f"/api/v1/inbox/{message_id}/read", json={}, headers=reporter).get_json()["read"] is True
    assert client.get("/api/v1/inbox/unread-count", headers=reporter).get_json() == {"unread": 0}
    assert client.get("/api/v1/inbox/unread-count", headers=as_role("unit_head", unit=UNIT)).get_json() == {"unread": 1}  # read marks are per user

    log = client.get(f"/api/v1/deliveries?event_id={event.id}&channel=email", headers=as_role("tdkt_officer")).get_json()
    assert log["total"] == 1 and log["items"][0]["state"] == "sent" and log["items"][0]["attempts"][0]["latency_ms"] >= 0
    assert client.get("/api/v1/deliveries", headers=reporter).status_code == 403


def test_overdue_goes_to_the_parent_too_and_a_unit_without_email_is_logged(db, dispatcher, smtp_server):
    report_event(db, "overdue", unit=OTHER)
    dispatcher.drain()
    [mail] = smtp_server.wait_for(1)
    assert mail["To"] == "tamduong@example.vn"  # the parent; Bản Giang has no address
    skipped = db[intake.DELIVERIES].find_one({"recipient": f"unit:{OTHER}", "channel": "email"})
    assert skipped["state"] == "skipped" and "no email" in skipped["error"]


def test_digest_mode_sends_one_email_per_unit_per_day(db, client, dispatcher, smtp_server, as_role):
    created = client.post("/api/v1/subscriptions", json={"owner": "unit", "channel": "email", "mode": "digest"}, headers=as_role("unit_head", unit=UNIT))
    assert created.status_code == 201, created.get_json()
    for period in ("2026-10", "2026-11", "final"):
        report_event(db, "due_soon", period=period)
    dispatcher.drain()
    assert smtp_server.messages() == []
    tomorrow = datetime.now(TIMEZONE) + timedelta(days=1)
    morning = tomorrow.replace(hour=8, minute=0).astimezone(UTC)  # the next morning in Vietnam, after the digest hour
    assert send_digests(db, at=morning) == {"digests_queued": 1}
    assert send_digests(db, at=morning) == {"digests_queued": 0}
    dispatcher.drain()
    [mail] = smtp_server.wait_for(1)
    assert mail["Subject"].startswith("Tổng hợp thông báo ngày") and mail["Subject"].endswith("3 nội dung")
    body = mail.get_body(("plain",)).get_content()
    assert all(f"kỳ {p}" in body for p in ("2026-10", "2026-11", "final"))


def test_quiet_hours_hold_an_email(db, client, as_role):
    now_local = datetime.now(UTC) + timedelta(hours=7)
    start, end = (now_local - timedelta(hours=1)).strftime("%H:%M"), (now_local + timedelta(hours=2)).strftime("%H:%M")
    body = {"owner": "unit", "channel": "email", "quiet_hours": {"start": start, "end": end}}
    assert client.post("/api/v1/subscriptions", json=body, headers=as_role("unit_head", unit=UNIT)).status_code == 201
    event = report_event(db)
    queued = db[intake.QUEUE].find_one({"_id": f"{event.id}:unit:{UNIT}:email"})
    held = queued["due_at"].replace(tzinfo=UTC) - datetime.now(UTC)
    assert timedelta(hours=1, minutes=50) < held <= timedelta(hours=2)


def webhook(client, as_role, receiver, path: str = "/hook", scope: str = "all", event_types=("*",)) -> dict:
    created = client.post(
        "/api/v1/subscriptions",
        json={"owner": "unit", "unit_id": UNIT, "channel": "webhook", "url": receiver.url(path), "scope": scope, "event_types": list(event_types)},
        headers=as_role("tdkt_officer"),
    )
    assert created.status_code == 201, created.get_json()
    return created.get_json()


def test_webhooks_are_signed_retried_and_in_order_per_aggregate(db, client, as_role, dispatcher, webhook_receiver):
    created = webhook(client, as_role, webhook_receiver, event_types=["vn.tdkt.reports.report.accepted.v1", "vn.tdkt.reports.report.returned.v1"])
    webhook_receiver.secret = created["secret"]  # shown once, in this answer
    listed = client.get("/api/v1/subscriptions", headers=as_role("tdkt_officer")).get_json()["items"]
    assert listed and all("secret" not in s for s in listed)
    webhook_receiver.respond("/hook", [503, 429, 200, 200])
    first = report_event(db, "returned", sequence=1)
    second = report_event(db, "accepted", sequence=2)
    dispatcher.drain(timeout=30)
    got = webhook_receiver.wait_for(4)
    assert [r.headers["X-TDKT-Event"] for r in got] == ["vn.tdkt.reports.report.returned.v1"] * 3 + ["vn.tdkt.reports.report.accepted.v1"]
    assert webhook_receiver.refused == []  # every signature verified by the receiver
    assert {r.headers["X-TDKT-Delivery"] for r in got} == {f"{first.id}:webhook:{created['id']}:webhook", f"{second.id}:webhook:{created['id']}:webhook"}
    first_log = db[intake.DELIVERIES].find_one({"_id": f"{first.id}:webhook:{created['id']}:webhook"})
    assert first_log["state"] == "sent" and [a["status"] for a in first_log["attempts"]] == [503, 429, 200]


def test_a_dead_receiver_never_delays_the_others(db, client, as_role, dispatcher, webhook_receiver, monkeypatch):
    monkeypatch.setenv("NOTIFY_WEBHOOK_TIMEOUT_S", "1")
    notify_settings.current.cache_clear()
    slow, fast = webhook(client, as_role, webhook_receiver, "/slow"), webhook(client, as_role, webhook_receiver, "/fast")
    webhook_receiver.delay("/slow", 3)
    dispatcher.channels._webhooks = None  # take the 1 s timeout
    started = time.monotonic()
    report_event(db, "accepted")
    dispatcher.tick()
    fast_seen = None
    while time.monotonic() - started < 5 and fast_seen is None:
        if any(r.path == "/fast" for r in webhook_receiver.received):
            fast_seen = time.monotonic() - started
        time.sleep(0.02)
    assert fast_seen is not None and fast_seen < 0.9, fast_seen  # not behind the slow one's 1 s timeout
    assert slow and fast


def test_a_permanent_failure_is_dead_and_visible_and_can_be_resent(db, client, as_role, dispatcher, webhook_receiver):
    created = webhook(client, as_role, webhook_receiver)
    webhook_receiver.secret = created["secret"]
    webhook_receiver.respond("/hook", [400, 200])
    event = report_event(db, "accepted")
    dispatcher.drain()
    delivery_id = f"{event.id}:webhook:{created['id']}:webhook"
    dead = client.get("/api/v1/deliveries?state=dead", headers=as_role("tdkt_officer")).get_json()
    assert [d["id"] for d in dead["items"]] == [delivery_id]
    assert db["dead_letters"].find_one({"_id": delivery_id})["outbox"][0]["type"] == "vn.tdkt.notify.delivery.dead.v1"
    assert client.post(f"/api/v1/deliveries/{delivery_id}/resend", json={}, headers=as_role("tdkt_officer")).status_code == 200
    dispatcher.drain()
    assert db[intake.DELIVERIES].find_one({"_id": delivery_id})["state"] == "sent"


def test_a_crash_mid_smtp_never_sends_a_second_email(db, dispatcher, smtp_server):
    """State left by a dispatcher killed at each point, then a restarted one takes over."""
    before, during = report_event(db, period="2026-09"), report_event(db, period="2026-10")
    now = datetime.now(UTC)
    # killed after claiming, before DATA: nothing reached the server → sent once on restart
    db[intake.QUEUE].update_one({"_id": f"{before.id}:unit:{UNIT}:email"}, {"$set": {"claimed_until": now - timedelta(seconds=1)}})
    # killed after `committing` (DATA under way): the server may have it → never sent again
    db[intake.DELIVERIES].update_one({"_id": f"{during.id}:unit:{UNIT}:email"}, {"$set": {"state": "committing"}})
    db[intake.QUEUE].update_one({"_id": f"{during.id}:unit:{UNIT}:email"}, {"$set": {"claimed_until": now - timedelta(seconds=1)}})
    dispatcher.drain()
    time.sleep(0.3)
    assert [m["Subject"] for m in smtp_server.messages()] == ["Nhắc hạn nộp báo cáo kỳ 2026-09 — hạn 25/11/2026"]
    assert db[intake.DELIVERIES].find_one({"_id": f"{during.id}:unit:{UNIT}:email"})["state"] == "uncertain"


def test_decisions_are_announced_publicly(db, client):
    decision = {
        "id": "d1",
        "reference": "12/QĐ-UBND",
        "decision_date": "2026-12-01",
        "subject": "khen thưởng",
        "issuer": "Ủy ban nhân dân tỉnh Lai Châu",
        "awardees": [{"name": "Xã Bình Lư", "unit_id": UNIT, "unit_name": "Xã Bình Lư", "title_name": "Tập thể lao động tiên tiến", "amount": 2030000}],
        "totals": {"total_amount": 2030000},
    }
    deliver(db, "vn.tdkt.awards.decision.issued.v1", "awards.decisions.v1", "d1", {"decision": decision})
    public = client.get("/api/v1/announcements").get_json()
    assert public["total"] == 1 and public["items"][0]["title"].startswith("Quyết định số 12/QĐ-UBND ngày 01/12/2026")
    assert "2.030.000 đ" in public["items"][0]["text"]
    assert db[intake.DELIVERIES].find_one({"recipient": f"unit:{UNIT}", "channel": "email"})["address"] == "binhlu@example.vn"


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"owner": "unit", "channel": "webhook", "url": "ftp://example.vn/x"}, "url", 422),
        ({"owner": "unit", "channel": "webhook", "url": "http://user:pw@example.vn/x"}, "url", 422),
        ({"owner": "user", "channel": "email"}, "email", 422),
        ({"owner": "user", "channel": "email", "email": "not-an-address"}, "email", 422),
        ({"owner": "unit", "channel": "email", "quiet_hours": {"start": "25:00", "end": "07:00"}}, "quiet_hours", 422),
        ({"owner": "unit", "channel": "email", "event_types": ["vn.tdkt.nope.v1"]}, "event_types.0", 422),
        ({"owner": "unit", "channel": "email", "owner_id": "x"}, "owner_id", 422),
        ({"owner": "unit", "unit_id": OTHER, "channel": "email"}, None, 403),
        ({"owner": "unit", "channel": "webhook", "url": "http://127.0.0.1:9/x", "scope": "all"}, None, 403),
    ],
)
def test_bad_subscriptions_are_refused_naming_the_field(client, as_role, body, field, status):
    response = client.post("/api/v1/subscriptions", json=body, headers=as_role("unit_head", unit=UNIT))
    assert response.status_code == status, response.get_json()
    if field:
        errors = response.get_json()["errors"]["json"]
        assert field in errors or field.split(".")[0] in errors, errors


def test_private_webhook_targets_are_refused_in_production(client, as_role, monkeypatch):
    monkeypatch.setenv("TDKT_ENV", "production")
    notify_settings.current.cache_clear()
    for url in ("https://127.0.0.1/x", "https://10.1.2.3/x", "https://169.254.169.254/latest", "http://example.vn/x", "https://localhost/x"):
        response = client.post("/api/v1/subscriptions", json={"owner": "unit", "channel": "webhook", "url": url}, headers=as_role("unit_head", unit=UNIT))
        assert response.status_code == 422 and "url" in response.get_json()["errors"]["json"], (url, response.get_json())


def test_templates_are_checked_before_they_are_saved(db, client, as_role, dispatcher, smtp_server):
    officer = as_role("communications")
    shipped = client.get("/api/v1/templates/report_due_soon", headers=officer).get_json()
    assert shipped["preview"]["subject"].startswith("Nhắc hạn nộp báo cáo")
    broken = client.put("/api/v1/templates/report_due_soon", json={**{k: shipped[k] for k in ("subject", "txt", "html")}, "subject": "{% if %}"}, headers=officer)
    assert broken.status_code == 422 and "subject" in broken.get_json()["errors"]["json"]
    undefined = client.put("/api/v1/templates/report_due_soon", json={**{k: shipped[k] for k in ("subject", "txt", "html")}, "txt": "{{ data.report.nope }}"}, headers=officer)
    assert undefined.status_code == 422 and "txt" in undefined.get_json()["errors"]["json"]
    saved = client.put(
        "/api/v1/templates/report_due_soon",
        json={**{k: shipped[k] for k in ("subject", "txt", "html")}, "subject": "[Nhắc việc] Báo cáo kỳ {{ data.report.period }}"},
        headers=officer,
    )
    assert saved.status_code == 200 and saved.get_json()["overridden"] is True
    report_event(db)
    dispatcher.drain()
    assert smtp_server.wait_for(1)[0]["Subject"] == "[Nhắc việc] Báo cáo kỳ 2026-11"
    assert client.put("/api/v1/templates/report_due_soon", json=shipped | {"txt": "x"}, headers=as_role("unit_head", unit=UNIT)).status_code == 403
