"""Write with events → relay → Kafka → consumer effect in another database."""

from __future__ import annotations

from kafka import KafkaConsumer
from tdkt.events.outbox import HINTS, save_aggregate
from tdkt_localstack.testing import wait_until

from .conftest import Account, deposited, read_topic


def drain(runner, until, timeout=60):
    return wait_until(lambda: (runner.poll_once(200), until())[1], timeout=timeout, interval=0, message="consumer to catch up")


def test_event_goes_from_outbox_to_consumer_effect(source_db, sink_db, make_topic, relay_factory, consumer_factory, servers):
    topic = make_topic(partitions=3)
    account = Account(id="acc-1", owner="Xã Bình Lư")
    event = account.record(deposited(topic.name), {"amount": 5})
    save_aggregate(account)

    stored = source_db.accounts.find_one({"_id": "acc-1"})
    assert [e["id"] for e in stored["outbox"]] == [event.id], "the event is stored in the aggregate, in the same write"
    assert source_db[HINTS].count_documents({}) == 1

    relay = relay_factory()
    assert relay.run_once() == 1
    assert source_db.accounts.find_one({"_id": "acc-1"})["outbox"] == [], "published events leave the outbox"
    assert source_db[HINTS].count_documents({}) == 0

    runner = consumer_factory(topic.name)
    drain(runner, lambda: sink_db.effects.find_one({"_id": "acc-1"}))
    assert sink_db.effects.find_one({"_id": "acc-1"})["count"] == 1

    # The envelope on the wire, as another system would read it.
    raw = KafkaConsumer(topic.name, bootstrap_servers=servers.kafka_bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=10000, group_id=None)
    record = next(iter(raw))
    raw.close()
    headers = dict(record.headers)
    assert record.key == b"acc-1"
    assert headers["ce_id"].decode() == event.id
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_type"] == b"vn.tdkt.test.account.deposited.v1"
    assert headers["ce_source"] == b"/test"
    assert headers["ce_subject"] == b"acc-1"
    assert headers["ce_time"].decode().endswith("Z")
    assert headers["ce_sequence"] == b"1"
    assert headers["content-type"] == b"application/json"
    assert headers["traceparent"].decode().startswith("00-")
    assert record.value == b'{"amount": 5}' or record.value == b'{"amount":5}'


def test_order_per_key_is_kept_across_partitions(source_db, sink_db, make_topic, relay_factory, consumer_factory):
    """1,000 events over 20 aggregates on 4 partitions: each aggregate's events arrive in order."""
    topic = make_topic(partitions=4)
    accounts = [Account(id=f"acc-{i:02d}", owner=f"unit {i}") for i in range(20)]
    for account in accounts:
        save_aggregate(account)
    for round_ in range(50):
        for account in accounts:
            account.note = f"round {round_}"
            account.record(deposited(topic.name), {"round": round_})
            save_aggregate(account)

    relay = relay_factory()
    wait_until(lambda: relay.run_once() == 0 and source_db[HINTS].count_documents({}) == 0, message="relay to drain", timeout=120)
    runner = consumer_factory(topic.name)
    drain(runner, lambda: sum(d["count"] for d in sink_db.effects.find({})) >= 1000, timeout=120)

    for doc in sink_db.effects.find({}):
        assert doc["count"] == 50
        assert doc["seqs"] == sorted(doc["seqs"]), f"{doc['_id']} events out of order"
        assert len(set(doc["seqs"])) == 50


def test_overlapped_removal_publishes_each_event_once(source_db, make_topic, relay_factory, servers):
    """The process loop removes a pass's entries while the next pass runs: an aggregate written to
    while its removal is in flight is left for a later pass, never read with entries already sent."""
    topic = make_topic(partitions=2)
    accounts = [Account(id=f"acc-o{i}", owner=f"unit {i}") for i in range(5)]
    for account in accounts:
        account.record(deposited(topic.name), {"round": 0})
        save_aggregate(account)
    relay = relay_factory()
    relay.run_once(overlap=True)  # published; the removal may still be running
    for round_ in (1, 2):
        for account in accounts:
            account.record(deposited(topic.name), {"round": round_})
            save_aggregate(account)
        relay.run_once(overlap=True)
    wait_until(lambda: relay.run_once(overlap=True) == 0 and relay.settle() == 0 and source_db[HINTS].count_documents({}) == 0, message="relay to drain", timeout=60)
    assert all(not source_db.accounts.find_one({"_id": a.id})["outbox"] for a in accounts)
    ids = [dict(r.headers)["ce_id"] for r in read_topic(topic.name, servers.kafka_bootstrap)]
    assert len(ids) == 15 and len(set(ids)) == 15, "every event published, none twice"
