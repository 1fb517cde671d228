"""A poison record goes to `<topic>.dlq` with its origin in headers and the records behind it
keep flowing; after the fix, a re-drive puts it back and it is handled."""

from __future__ import annotations

import uuid

from marshmallow import Schema, fields
from tdkt.events.dlq import redrive
from tdkt.events.kafka import make_consumer, make_producer
from tdkt.events.outbox import save_aggregate
from tdkt_localstack.testing import wait_until

from .conftest import Account, count_effect, deposited, read_topic


class DepositRead(Schema):
    amount = fields.Integer(required=True)


def test_poison_goes_to_dlq_and_the_partition_keeps_moving(source_db, sink_db, make_topic, relay_factory, consumer_factory, servers, kafka_settings):
    topic = make_topic(partitions=1)  # one partition: the good records are *behind* the poison
    producer = make_producer(kafka_settings)
    producer.send(topic.name, key=b"garbage", value=b"\x00not json", headers=[("x", b"y")]).get(10)  # no envelope at all

    broken = {"on": True}

    def sometimes_failing(event, ctx):
        if event.data["amount"] == 13 and broken["on"]:
            raise RuntimeError("unlucky amount")
        count_effect(event, ctx)

    for i, amount in enumerate([1, 13, "not a number", 3]):
        account = Account(id=f"acc-{i}", owner="Xã Nà Tăm")
        account.record(deposited(topic.name), {"amount": amount})
        save_aggregate(account)
    relay_factory().run_once()

    group = f"g-{uuid.uuid4().hex[:6]}"
    runner = consumer_factory(topic.name, handler=sometimes_failing, group=group, schema=DepositRead)
    wait_until(lambda: (runner.poll_once(300), sink_db.effects.count_documents({}) == 2)[1], message="good records handled")
    assert {d["_id"] for d in sink_db.effects.find({})} == {"acc-0", "acc-3"}

    dead = read_topic(topic.dlq, servers.kafka_bootstrap)
    assert len(dead) == 3
    by_key = {r.key: dict(r.headers) for r in dead}
    assert by_key[b"garbage"]["dlq_error"].startswith(b"EnvelopeError")
    assert by_key[b"garbage"]["dlq_attempts"] == b"0"
    assert by_key[b"acc-1"]["dlq_error"] == b"RuntimeError: unlucky amount"
    assert by_key[b"acc-1"]["dlq_attempts"] == b"3", "bounded retries before giving up"
    assert by_key[b"acc-2"]["dlq_error"].startswith(b"ValidationError")
    for headers in by_key.values():
        assert headers["dlq_origin_topic"].decode() == topic.name
        assert headers["dlq_origin_partition"] == b"0"
        assert headers["dlq_origin_offset"].isdigit()
        assert headers["dlq_group"].decode() == group
    assert runner.dead_lettered_total == 3

    # The cause is fixed; the operator re-drives (`tdkt dlq redrive <topic>.dlq`).
    broken["on"] = False
    redriver = make_consumer(kafka_settings, f"redrive-{uuid.uuid4().hex[:6]}")
    report = redrive(redriver, producer, topic.dlq)
    redriver.close()
    assert report.redriven == 3 and report.by_origin == {topic.name: 3}
    wait_until(lambda: (runner.poll_once(300), sink_db.effects.count_documents({}) == 3)[1], message="re-driven record handled")
    assert sink_db.effects.find_one({"_id": "acc-1"})["count"] == 1
    # The two records that can never be handled went back to the dead letters, not into a loop.
    wait_until(lambda: len(read_topic(topic.dlq, servers.kafka_bootstrap)) == 5, message="permanent poison dead-lettered again")
    producer.close()
