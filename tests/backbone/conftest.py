"""A small aggregate and consumer wired like a real service's, for the backbone proof tests.

`Account` stands in for any aggregate (a unit, a nomination): it records an event per change.
The consumer's effect is a per-account counter incremented by `$inc` — deliberately *not*
idempotent by itself, so any event handled twice shows up as a wrong count.
"""

from __future__ import annotations

import uuid

import mongoengine
import pytest
from mongoengine import StringField
from tdkt.events.consumer import ConsumerRunner, Subscription
from tdkt.events.envelope import EventType
from tdkt.events.kafka import make_consumer, make_producer
from tdkt.events.outbox import AggregateRoot
from tdkt.events.relay import OutboxRelay
from tdkt.settings import ConsumerSettings, RelaySettings


class Account(AggregateRoot):
    meta = {"collection": "accounts"}
    event_source = "/test"
    id = StringField(primary_key=True)
    owner = StringField(required=True)
    note = StringField()


def deposited(topic: str) -> EventType:
    return EventType("vn.tdkt.test.account.deposited.v1", topic)


RELAY = RelaySettings(poll_interval_ms=10, batch_size=500, sweep_interval_s=3600, lease_ttl_s=3)
CONSUMER = ConsumerSettings(group_id="unused", max_poll_records=200, max_poll_interval_ms=60000, max_attempts=3, retry_backoff_ms=10)


def read_topic(topic: str, bootstrap: str) -> list:
    """Every record on a topic, from the start, as another system would read it."""
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=3000, group_id=None)
    try:
        return list(consumer)
    finally:
        consumer.close()


def count_effect(event, ctx):
    ctx.db.effects.update_one({"_id": event.subject}, {"$inc": {"count": 1}, "$push": {"seqs": event.sequence}}, upsert=True)


@pytest.fixture
def source_db(servers, mongo_db):
    """The producing service's database, registered with mongoengine for `Account`."""
    mongoengine.disconnect()
    mongoengine.connect(db=mongo_db.name, host=servers.mongo_uri, tz_aware=True, uuidRepresentation="standard")
    yield mongo_db
    mongoengine.disconnect()


@pytest.fixture
def sink_db(servers):
    """The consuming service's own database (a different one, as between real services)."""
    from pymongo import MongoClient

    client = MongoClient(servers.mongo_uri, tz_aware=True)
    name = f"t_sink_{uuid.uuid4().hex[:10]}"
    yield client[name]
    client.drop_database(name)
    client.close()


@pytest.fixture
def relay_factory(source_db, kafka_settings):
    made = []

    def factory(**overrides):
        producer = make_producer(kafka_settings)
        relay = OutboxRelay(source_db, producer, ["accounts"], overrides.pop("settings", RELAY), **overrides)
        made.append(producer)
        return relay

    yield factory
    for p in made:
        p.close(timeout=5)


@pytest.fixture
def consumer_factory(sink_db, kafka_settings):
    made = []

    def factory(topic, handler=count_effect, group=None, settings=CONSUMER, event_type="vn.tdkt.test.account.deposited.v1", schema=None):
        group = group or f"g-{uuid.uuid4().hex[:8]}"
        consumer = make_consumer(
            kafka_settings,
            group,
            max_poll_records=settings.max_poll_records,
            max_poll_interval_ms=settings.max_poll_interval_ms,
            session_timeout_ms=10000,
            heartbeat_interval_ms=1000,
        )
        producer = make_producer(kafka_settings)
        runner = ConsumerRunner(sink_db, consumer, producer, group, [Subscription(event_type, topic, handler, schema)], settings)
        runner.start()
        made.append((consumer, producer))
        return runner

    yield factory
    for consumer, producer in made:
        consumer.close(autocommit=False)
        producer.close(timeout=5)
