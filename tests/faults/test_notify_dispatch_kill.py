"""No second email, whatever moment the dispatcher dies: notify's real processes, real Kafka, a
real SMTP server that is slow to answer DATA. The relay process (which runs the dispatcher) is
killed with SIGKILL at the worst moment — the server has the message, the dispatcher has not
recorded it — and restarted; the email is not sent again (it is `uncertain` in the log, an
operator's call), and the next one, queued while the dispatcher was dead, is sent exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from kafka import KafkaProducer
from tdkt.events.envelope import Event, EventType
from tdkt_localstack.mailcatcher import MailCatcher, MaildirHandler
from tdkt_localstack.ports import free_port
from tdkt_localstack.testing import wait_until

LOUD_DATA_S = 4.0  # the server keeps the client waiting for its final reply this long


class SlowToAnswer(MaildirHandler):
    """Stores the message, then makes the client wait for the 250: the window in question."""

    async def handle_DATA(self, server, session, envelope) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(LOUD_DATA_S)
        return reply


@pytest.fixture
def smtp_server(tmp_path_factory):  # overrides the plugin's: this test's services mail this one
    catcher = MailCatcher(tmp_path_factory.mktemp("mail") / "Maildir", "127.0.0.1", free_port())
    catcher.controller = Controller(SlowToAnswer(catcher.folder), hostname="127.0.0.1", port=catcher.controller.port)
    catcher.start()
    yield catcher
    catcher.stop()


def publish(bootstrap: str, topic: str, event: Event) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    key, value, headers = event.to_kafka()
    producer.send(topic, key=key, value=value, headers=headers).get(timeout=30)
    producer.close()


def reminder(period: str) -> Event:
    report = {"id": f"mv.u1.{period}", "movement_id": "mv", "unit_id": "u1", "period": period, "kind": "interim", "due": "2026-11-25", "state": "open", "version": 0, "late": False}
    return Event.new(EventType("vn.tdkt.reports.report.due_soon.v1", "reports.reports.v1"), source="/reports", subject=report["id"], data={"report": report}, sequence=1)


@pytest.mark.services("notify", env={"NOTIFY_CLAIM_S": "3", "OUTBOX_LEASE_TTL_S": "3"})
def test_killing_the_dispatcher_mid_smtp_sends_no_second_email(system, servers, smtp_server):
    system.tdkt("notify", "seed-routes")
    db, notify = system.db("notify"), system.services["notify"]
    unit = Event.new(
        EventType("vn.tdkt.registry.unit.established.v1", "registry.units.v1"),
        source="/registry",
        subject="u1",
        data={"unit": {"name": "Xã Bình Lư", "contacts": {"email": "binhlu@example.vn"}}},
        sequence=1,
    )
    publish(servers.kafka_bootstrap, "registry.units.v1", unit)
    wait_until(lambda: db.unit_views.find_one({"_id": "u1"}), timeout=60, message="the unit's copy with its address")

    first = reminder("2026-10")
    publish(servers.kafka_bootstrap, "reports.reports.v1", first)
    first_id = f"{first.id}:unit:u1:email"
    wait_until(lambda: (db.deliveries.find_one({"_id": first_id}) or {}).get("state") == "committing", timeout=60, message="the dispatcher in the DATA phase")
    wait_until(lambda: len(smtp_server.messages()) == 1, timeout=10, message="the server holding the message")
    notify.processes["relay"].send_signal(signal.SIGKILL)  # the server has it; the dispatcher has not recorded it
    notify.processes["relay"].wait(timeout=10)

    second = reminder("2026-11")  # arrives while no dispatcher runs
    publish(servers.kafka_bootstrap, "reports.reports.v1", second)
    second_id = f"{second.id}:unit:u1:email"
    wait_until(lambda: db.deliveries.find_one({"_id": second_id}), timeout=60, message="the second reminder recorded by the consumer")

    log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"notify-relay-restarted-{os.getpid()}.log", "w")  # noqa: SIM115 (closed with the process)
    notify.processes["relay"] = subprocess.Popen([sys.executable, "-m", "tdkt_notify", "relay"], env=notify.env, stdout=log, stderr=subprocess.STDOUT)
    wait_until(lambda: (db.deliveries.find_one({"_id": first_id}) or {}).get("state") == "uncertain", timeout=60, message="the interrupted email judged uncertain")
    wait_until(lambda: (db.deliveries.find_one({"_id": second_id}) or {}).get("state") == "sent", timeout=60, message="the second email sent")
    time.sleep(LOUD_DATA_S + 1)  # anything resent would have arrived by now
    subjects = sorted(m["Subject"] for m in smtp_server.messages())
    assert subjects == ["Nhắc hạn nộp báo cáo kỳ 2026-10 — hạn 25/11/2026", "Nhắc hạn nộp báo cáo kỳ 2026-11 — hạn 25/11/2026"]
    assert db.dead_letters.find_one({"_id": first_id})["state"] == "uncertain"
    assert db.delivery_queue.count_documents({}) == 0
