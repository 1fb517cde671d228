"""Regression (found by test_under_load): a consumer whose offset commit finds the broker away (a
Kafka restart right after a batch's effects) used to die with KafkaConnectionError, leaving the
service without a consumer. Now it logs, goes on, and a later commit covers the batch: each
event has its effect once."""

from __future__ import annotations

import uuid

from tdkt.events.consumer import ConsumerRunner, Subscription
from tdkt.events.envelope import Event, EventType
from tdkt.events.kafka import make_admin, make_consumer, make_producer
from tdkt.events.topics import TopicSpec, ensure_topics
from tdkt.settings import ConsumerSettings, KafkaSettings
from tdkt_localstack.kafka import KafkaServer, ensure_jars
from tdkt_localstack.paths import sub
from tdkt_localstack.ports import free_port
from tdkt_localstack.testing import wait_until

TYPE = "vn.tdkt.test.account.deposited.v1"


def test_a_commit_without_a_broker_does_not_end_the_consumer(mongo_db, tmp_path):
    broker = KafkaServer(ensure_jars(sub("cache")), tmp_path / "kafka", tmp_path / "kafka.log", free_port(), free_port()).start()
    broker.wait_ready()
    kafka = KafkaSettings([broker.bootstrap], "commit-away", 1)
    topic = TopicSpec(f"away.{uuid.uuid4().hex[:8]}.v1", 1)
    admin = make_admin(kafka)
    ensure_topics(admin, [topic], 1)
    admin.close()

    def effect(event, ctx):
        ctx.db.effects.update_one({"_id": event.subject}, {"$inc": {"count": 1}}, upsert=True)
        if event.subject == "first":
            broker.stop()  # the effect is stored; the commit that follows finds no broker

    group = f"g-{uuid.uuid4().hex[:8]}"
    settings = ConsumerSettings(group, max_poll_records=10, max_poll_interval_ms=60000, max_attempts=3, retry_backoff_ms=10)
    consumer = make_consumer(kafka, group, session_timeout_ms=10000, heartbeat_interval_ms=1000)
    producer = make_producer(kafka)
    runner = ConsumerRunner(mongo_db, consumer, producer, group, [Subscription(TYPE, topic.name, effect)], settings)
    runner.start()

    def publish(subject: str) -> None:
        key, value, headers = Event.new(EventType(TYPE, topic.name), source="/test", subject=subject, data={}, sequence=1).to_kafka()
        producer.send(topic.name, key=key, value=value, headers=headers).get(timeout=30)

    try:
        publish("first")
        # before the fix, KafkaConnectionError from the commit escaped poll_once here
        wait_until(lambda: runner.poll_once() or mongo_db.effects.find_one({"_id": "first"}), timeout=60, message="the first event handled")
        broker.start()
        broker.wait_ready()
        publish("second")
        wait_until(lambda: runner.poll_once() and mongo_db.effects.find_one({"_id": "second"}), timeout=120, message="the second event after the broker came back")
        assert {d["_id"]: d["count"] for d in mongo_db.effects.find()} == {"first": 1, "second": 1}
    finally:
        consumer.close(autocommit=False)
        producer.close(timeout=5)
        broker.stop()
