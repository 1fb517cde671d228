"""The broker restarts while events are being written and published: nothing is lost."""

from __future__ import annotations

import threading
import time
import uuid

from kafka import KafkaConsumer
from tdkt.events.kafka import make_admin, make_producer
from tdkt.events.outbox import save_aggregate
from tdkt.events.relay import OutboxRelay
from tdkt.events.topics import TopicSpec, ensure_topics
from tdkt.settings import KafkaSettings
from tdkt_localstack.kafka import KafkaServer, ensure_jars
from tdkt_localstack.paths import sub
from tdkt_localstack.ports import free_port
from tdkt_localstack.testing import wait_until

from .conftest import RELAY, Account, deposited


def test_broker_restart_during_publishing_loses_nothing(source_db, tmp_path):
    # A broker of its own, so restarting it disturbs no other test.
    broker = KafkaServer(ensure_jars(sub("cache")), tmp_path / "kafka", tmp_path / "kafka.log", free_port(), free_port()).start()
    broker.wait_ready()
    settings = KafkaSettings([broker.bootstrap], "restart-test", 3)
    admin = make_admin(settings)
    topic = TopicSpec(f"restart.{uuid.uuid4().hex[:8]}.v1", 3)
    ensure_topics(admin, [topic], 3)
    admin.close()

    relay = OutboxRelay(source_db, make_producer(settings), ["accounts"], RELAY)
    relay_thread = threading.Thread(target=relay.run)
    relay_thread.start()

    written: list[str] = []
    accounts = [Account(id=f"acc-{i}", owner="Xã Hồ Thầu") for i in range(10)]

    def write(rounds):
        for r in range(rounds):
            for account in accounts:
                written.append(account.record(deposited(topic.name), {"round": r}).id)
                save_aggregate(account)
            time.sleep(0.02)

    try:
        write(10)
        broker.stop()  # SIGTERM, then the writers go on: the API never needed the broker
        write(10)
        time.sleep(1.0)
        broker.start()
        broker.wait_ready()
        write(10)
        wait_until(lambda: source_db.accounts.count_documents({"outbox.0": {"$exists": True}}) == 0, timeout=120, message="outboxes drained after the restart")
    finally:
        relay.stop()
        relay_thread.join(30)
        relay.producer.close(timeout=5)

    consumer = KafkaConsumer(topic.name, bootstrap_servers=broker.bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=5000, group_id=None)
    seen = {dict(r.headers)["ce_id"].decode() for r in consumer}
    consumer.close()
    broker.stop()
    assert len(written) == 300
    assert seen == set(written), f"{len(set(written) - seen)} events lost"


def test_relay_survives_a_broker_that_is_away_and_resumes(source_db, tmp_path):
    broker = KafkaServer(ensure_jars(sub("cache")), tmp_path / "kafka", tmp_path / "kafka.log", free_port(), free_port()).start()
    broker.wait_ready()
    settings = KafkaSettings([broker.bootstrap], "away-test", 1)
    admin = make_admin(settings)
    topic = TopicSpec(f"away.{uuid.uuid4().hex[:8]}.v1", 1)
    ensure_topics(admin, [topic], 1)
    admin.close()
    # Short timeouts so the test does not wait out the production defaults.
    relay = OutboxRelay(source_db, make_producer(settings, delivery_timeout_ms=3000, request_timeout_ms=2000, max_block_ms=2000), ["accounts"], RELAY)
    try:
        account = Account(id="acc-away", owner="Xã Giang Ma")
        account.record(deposited(topic.name), {"round": 0})
        save_aggregate(account)
        assert relay.run_once() == 1  # connected, metadata known

        broker.stop()
        account.record(deposited(topic.name), {"round": 1})
        save_aggregate(account)
        assert relay.run_once() == 0, "nothing acknowledged, and no exception escapes"
        assert relay.failed_aggregates == 1
        assert len(source_db.accounts.find_one({"_id": "acc-away"})["outbox"]) == 1, "the event stays in the outbox"

        broker.start()
        broker.wait_ready()
        wait_until(lambda: relay.run_once() == 1, timeout=60, message="the relay to publish after the broker came back")
        assert source_db.accounts.find_one({"_id": "acc-away"})["outbox"] == []
    finally:
        relay.producer.close(timeout=5)
        broker.stop()
