"""Nothing lost, nothing doubled: the relay and the consumer die at the worst moments."""

from __future__ import annotations

import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from tdkt.events.outbox import HINTS, save_aggregate
from tdkt_localstack.testing import wait_until

from .conftest import Account, deposited, read_topic

PROCS = Path(__file__).with_name("procs.py")


def test_relay_dies_after_ack_before_recording_it(source_db, sink_db, make_topic, relay_factory, consumer_factory, servers):
    topic = make_topic()
    account = Account(id="acc-crash", owner="Xã Tả Lèng")
    event = account.record(deposited(topic.name), {"amount": 1})
    save_aggregate(account)

    doomed = relay_factory()
    claims = doomed.publish(doomed.claim())  # Kafka acknowledged ...
    assert claims and not any(c.failed for c in claims)
    del doomed  # ... and the relay dies before removing the entries from the outbox.
    assert source_db.accounts.find_one({"_id": "acc-crash"})["outbox"], "the event is still pending"
    assert source_db[HINTS].count_documents({}) == 0, "its hint was already taken"

    restarted = relay_factory()  # the sweep at start finds the stranded entry
    assert restarted.run_once() == 1
    assert [r.headers for r in read_topic(topic.name, servers.kafka_bootstrap)].__len__() == 2, "published twice"

    runner = consumer_factory(topic.name)
    wait_until(lambda: (runner.poll_once(200), sink_db.effects.find_one({"_id": "acc-crash"}))[1], message="effect")
    for _ in range(5):
        runner.poll_once(200)
    assert sink_db.effects.find_one({"_id": "acc-crash"})["count"] == 1, f"event {event.id} had its effect once"


def test_consumer_dies_after_effect_before_commit(source_db, sink_db, make_topic, relay_factory, consumer_factory):
    topic = make_topic()
    for i in range(10):
        account = Account(id=f"acc-{i}", owner="Xã Bản Bo")
        account.record(deposited(topic.name), {"amount": i})
        save_aggregate(account)
    relay_factory().run_once()

    group = f"g-{uuid.uuid4().hex[:6]}"
    doomed = consumer_factory(topic.name, group=group)
    records = []
    wait_until(lambda: records.extend(r for rs in doomed.consumer.poll(500).values() for r in rs) or len(records) >= 10, message="records")
    assert doomed.process(records)  # effects and done marker stored ...
    doomed.consumer.close(autocommit=False)  # ... and the process dies before committing.
    assert sum(d["count"] for d in sink_db.effects.find({})) == 10

    again = consumer_factory(topic.name, group=group)
    redelivered = wait_until(lambda: again.poll_once(500), message="redelivery", timeout=60)
    assert redelivered == 10, "the uncommitted records came again"
    assert sum(d["count"] for d in sink_db.effects.find({})) == 10, "and had no second effect"


def _spawn(*args):
    # Output goes to a file, never to an unread pipe: a full pipe would block the worker.
    log = tempfile.NamedTemporaryFile("w+", prefix=f"crash-{args[0]}-", suffix=".log", delete=False)
    proc = subprocess.Popen([sys.executable, str(PROCS), *args], stdout=log, stderr=subprocess.STDOUT, text=True)
    wait_until(lambda: "ready" in Path(log.name).read_text() or proc.poll() is not None, timeout=60, message=f"{args[0]} process to start")
    assert proc.poll() is None, f"{args[0]} process exited: {Path(log.name).read_text()[-2000:]}"
    return proc


def test_kill_9_relay_and_consumer_under_load(source_db, sink_db, make_topic, servers):
    """A writer keeps saving events while the relay and then the consumer are killed -9 at random
    moments and restarted; afterwards every event had exactly one effect, in order per key."""
    rng = random.Random(20230615)
    topic = make_topic(partitions=3)
    accounts = [Account(id=f"acc-{i:02d}", owner=f"unit {i}") for i in range(12)]
    written: list[str] = []

    def writer():
        for round_ in range(40):
            for account in accounts:
                written.append(account.record(deposited(topic.name), {"round": round_}).id)
                save_aggregate(account)
            time.sleep(0.01)

    args = (servers.mongo_uri, source_db.name, servers.kafka_bootstrap)
    thread = threading.Thread(target=writer)
    thread.start()
    relay = _spawn("relay", *args)
    relay_kills = 0
    while thread.is_alive() or relay_kills < 5:
        time.sleep(rng.uniform(0.02, 0.3))
        relay.kill()  # SIGKILL: no cleanup of any kind
        relay.wait()
        relay_kills += 1
        relay = _spawn("relay", *args)
    thread.join()
    wait_until(lambda: source_db.accounts.count_documents({"outbox.0": {"$exists": True}}) == 0, timeout=120, message="outboxes to drain")
    relay.terminate()
    relay.wait(30)

    on_topic = read_topic(topic.name, servers.kafka_bootstrap)
    ids_on_topic = {dict(r.headers)["ce_id"].decode() for r in on_topic}
    assert ids_on_topic == set(written), "every written event reached Kafka"

    group = f"g-{uuid.uuid4().hex[:6]}"
    cargs = (servers.mongo_uri, sink_db.name, servers.kafka_bootstrap, topic.name, group)
    consumer = _spawn("consumer", *cargs)
    applied = lambda: sum(d["count"] for d in sink_db.effects.find({}))  # noqa: E731
    for _ in range(4):  # kill it mid-stream: once it has made progress, at a random moment
        start = applied()
        wait_until(lambda start=start: applied() >= min(start + 40, len(written)), timeout=120, message="consumer progress")
        if applied() >= len(written):
            break
        time.sleep(rng.uniform(0.0, 0.2))
        consumer.kill()
        consumer.wait()
        consumer = _spawn("consumer", *cargs)
    wait_until(lambda: sum(d["count"] for d in sink_db.effects.find({})) >= len(written), timeout=120, message="all effects")
    time.sleep(1)  # let any straggling redelivery arrive before the final count
    consumer.terminate()
    consumer.wait(30)

    effects = list(sink_db.effects.find({}))
    assert sum(d["count"] for d in effects) == len(written), "each event had exactly one effect"
    for doc in effects:
        assert doc["seqs"] == sorted(doc["seqs"]) and len(set(doc["seqs"])) == len(doc["seqs"]) == 40
    invocations = sum(d["n"] for d in sink_db.invocations.find({}))
    print(
        f"\n{len(written)} events, {len(on_topic)} records on the topic ({len(on_topic) - len(written)} republished after relay kills), "
        f"{invocations} handler runs ({invocations - len(written)} after consumer kills, absorbed by claims and guards)"
    )
