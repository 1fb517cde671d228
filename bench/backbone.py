"""Event backbone benchmark: raw kafka-python vs outbox → relay → idempotent consumer.

Both runs use the same broker, the same producer settings (idempotent, acks=all) and 1 KB
events, in the same process run, so the ratio means something on a shared, noisy machine.

1. Throughput. Raw: a producer sends N events while a consumer group reads them; events/s from
   the first send to the last record read. Backbone: N events already sit in aggregates' outboxes
   (K per aggregate, as a burst of writes leaves them); the relay publishes them and a consumer
   runner claims, handles and commits them; events/s from the relay's start to the last commit.
2. Latency at a steady rate. Raw: send → consume. Backbone: the aggregate write (save_aggregate,
   which includes the store round trips) → the handler's effect. p50 and p99.

    python -m bench.backbone [--events 20000] [--per-aggregate 5] [--rate 200] [--seconds 10]

Prints a table and writes bench/results/latest.json: [{name, value, unit, baseline, ratio}].
Not a test: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import threading
import time
import uuid
from datetime import UTC, datetime

import mongoengine
from kafka import KafkaConsumer, KafkaProducer
from mongoengine import StringField
from pymongo import MongoClient
from tdkt.events.consumer import ConsumerRunner, Subscription
from tdkt.events.envelope import Event, EventType
from tdkt.events.kafka import make_admin, make_consumer, make_producer
from tdkt.events.outbox import HINTS, AggregateRoot, save_aggregate
from tdkt.events.relay import OutboxRelay
from tdkt.events.topics import TopicSpec, ensure_topics
from tdkt.settings import ConsumerSettings, KafkaSettings, RelaySettings

from bench.common import bench_servers, percentile, record, row

PAYLOAD = "x" * 900  # with the other fields, about 1 KB of JSON per event


class BenchAggregate(AggregateRoot):
    meta = {"collection": "bench_aggregates"}
    event_source = "/bench"
    id = StringField(primary_key=True)


SPAWN = multiprocessing.get_context("spawn")


def raw_producer(kafka: KafkaSettings, topic: str, n: int, rate: float | None) -> None:
    producer: KafkaProducer = make_producer(kafka)
    start = time.perf_counter()
    for i in range(n):
        if rate:
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        body = json.dumps({"sent": time.time(), "i": i, "pad": PAYLOAD}).encode()
        producer.send(topic, key=f"agg-{i % 1000}".encode(), value=body, headers=[("ce_id", uuid.uuid4().hex.encode())])
    producer.flush()
    producer.close()


def relay_until_drained(kafka: KafkaSettings, mongo_uri: str, db_name: str) -> None:
    db = MongoClient(mongo_uri, tz_aware=True)[db_name]
    relay = OutboxRelay(db, make_producer(kafka), ["bench_aggregates"], RelaySettings(5, 500, 3600, 30))
    relay._next_sweep = float("inf")  # every hint is there already; a sweep would only re-read
    while db[HINTS].estimated_document_count():
        relay.run_once(overlap=True)
    relay.settle()
    relay.producer.close()


class Bench:
    def __init__(self, bootstrap: str, mongo_uri: str, partitions: int = 6):
        self.kafka = KafkaSettings([bootstrap], "bench", partitions)
        self.mongo_uri = mongo_uri
        self.partitions = partitions
        self.admin = make_admin(self.kafka)

    def topic(self, label: str) -> TopicSpec:
        spec = TopicSpec(f"bench.{label}.{uuid.uuid4().hex[:8]}.v1", self.partitions)
        ensure_topics(self.admin, [spec], self.partitions)
        return spec

    def database(self):
        name = f"bench_{uuid.uuid4().hex[:8]}"
        mongoengine.disconnect()
        mongoengine.connect(db=name, host=self.mongo_uri, tz_aware=True)
        return MongoClient(self.mongo_uri, tz_aware=True)[name]

    # -- raw kafka-python ----------------------------------------------------------------------
    def raw(self, n: int, rate: float | None = None) -> tuple[float, list[float]]:
        """kafka-python alone: a producer process sends, this process consumes and commits."""
        topic = self.topic("raw").name
        consumer: KafkaConsumer = make_consumer(self.kafka, f"bench-raw-{uuid.uuid4().hex[:6]}", max_poll_records=500)
        consumer.subscribe([topic])
        while not consumer.assignment():
            consumer.poll(100)
        latencies: list[float] = []
        producer = SPAWN.Process(target=raw_producer, args=(self.kafka, topic, n, rate))
        producer.start()
        started = None
        got = 0
        while got < n:
            for records in consumer.poll(200).values():
                now = time.time()
                for r in records:
                    sent = json.loads(r.value)["sent"]
                    started = started or sent
                    latencies.append(now - sent)
                got += len(records)
            consumer.commit()
        elapsed = time.time() - started
        producer.join()
        consumer.close()
        return n / elapsed, latencies

    # -- outbox → relay → idempotent consumer ---------------------------------------------------
    def _runner(self, db, topic: str, effects: list, write_per_event: bool):
        def handler(event, ctx):
            if write_per_event:
                ctx.db.projection.update_one({"_id": event.subject}, {"$set": {"seq": event.sequence}}, upsert=True)
            effects.append(time.time() - event.time.timestamp())

        group = f"bench-{uuid.uuid4().hex[:6]}"
        settings = ConsumerSettings(group, 500, 300000, 3, 50)
        consumer = make_consumer(self.kafka, group, max_poll_records=500)
        runner = ConsumerRunner(db, consumer, make_producer(self.kafka), group, [Subscription("vn.tdkt.bench.happened.v1", topic, handler)], settings)
        runner.start()
        return runner

    def backbone_burst(self, n: int, per_aggregate: int, write_per_event: bool = False) -> float:
        topic = self.topic("outbox").name
        event_type = EventType("vn.tdkt.bench.happened.v1", topic)
        db = self.database()
        # The burst of writes, done before the clock starts: N events in N/K aggregates' outboxes.
        now = datetime.now(UTC)
        docs, hints = [], []
        for a in range(n // per_aggregate):
            agg_id = f"agg-{a}"
            entries = []
            for k in range(per_aggregate):
                e = Event(str(uuid.uuid4()), event_type.type, "/bench", agg_id, now, topic, {"i": a * per_aggregate + k, "pad": PAYLOAD}, k + 1)
                entries.append(e.to_outbox_entry())
            docs.append({"_id": agg_id, "version": per_aggregate, "outbox": entries})
            hints.append({"_id": f"bench_aggregates/{agg_id}", "c": "bench_aggregates", "a": agg_id, "at": now})
        for i in range(0, len(docs), 500):
            db.bench_aggregates.insert_many(docs[i : i + 500])
            db[HINTS].insert_many(hints[i : i + 500])

        effects: list[float] = []
        runner = self._runner(db, topic, effects, write_per_event)
        while not runner.consumer.assignment():
            runner.consumer.poll(100)
        # The relay runs in a process of its own, as in a deployment.
        start = time.perf_counter()
        relay = SPAWN.Process(target=relay_until_drained, args=(self.kafka, self.mongo_uri, db.name))
        relay.start()
        while len(effects) < n:
            runner.poll_once(200)
        elapsed = time.perf_counter() - start
        relay.join()
        runner.consumer.close()
        db.client.drop_database(db.name)
        return n / elapsed

    def store_costs(self, per_aggregate: int, samples: int = 300) -> tuple[float, float, float]:
        """What one store round trip costs here, in ms: read by _id of a bare document, read of an
        aggregate holding K 1 KB outbox entries, and the $pullAll that acknowledges them. The
        relay pays the last two per aggregate; this row explains most of its throughput."""
        db = self.database()
        now = datetime.now(UTC)
        db.bare.insert_many([{"_id": f"b-{i}"} for i in range(samples)])
        db.aggs.insert_many(
            [
                {"_id": f"a-{i}", "outbox": [Event(str(uuid.uuid4()), "t", "/bench", f"a-{i}", now, "t", {"pad": PAYLOAD}, k).to_outbox_entry() for k in range(per_aggregate)]}
                for i in range(samples)
            ]
        )
        t = time.perf_counter()
        for i in range(samples):
            db.bare.find_one({"_id": f"b-{i}"})
        bare = (time.perf_counter() - t) / samples * 1000
        t = time.perf_counter()
        docs = [db.aggs.find_one({"_id": f"a-{i}"}, {"outbox": 1}) for i in range(samples)]
        read = (time.perf_counter() - t) / samples * 1000
        t = time.perf_counter()
        for doc in docs:
            db.aggs.update_one({"_id": doc["_id"]}, {"$pullAll": {"outbox": doc["outbox"]}})
        ack = (time.perf_counter() - t) / samples * 1000
        db.client.drop_database(db.name)
        return bare, read, ack

    def backbone_paced(self, n: int, rate: float) -> list[float]:
        topic = self.topic("paced").name
        event_type = EventType("vn.tdkt.bench.happened.v1", topic)
        db = self.database()
        effects: list[float] = []
        runner = self._runner(db, topic, effects, write_per_event=False)
        relay = OutboxRelay(db, make_producer(self.kafka), ["bench_aggregates"], RelaySettings(5, 500, 3600, 30))
        relay_thread = threading.Thread(target=relay.run)
        relay_thread.start()
        aggregates = [BenchAggregate(id=f"agg-{i}") for i in range(200)]
        for a in aggregates:
            save_aggregate(a)

        def write():
            start = time.perf_counter()
            for i in range(n):
                delay = start + i / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                agg = aggregates[i % len(aggregates)]
                agg.record(event_type, {"i": i, "pad": PAYLOAD})
                save_aggregate(agg)

        writer = threading.Thread(target=write)
        writer.start()
        while len(effects) < n:
            runner.poll_once(100)
        writer.join()
        relay.stop()
        relay_thread.join()
        runner.consumer.close()
        relay.producer.close()
        db.client.drop_database(db.name)
        return effects


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--per-aggregate", type=int, default=5)
    parser.add_argument("--rate", type=float, default=200.0, help="events/s for the latency runs")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each latency run")
    args = parser.parse_args()

    with bench_servers() as (bootstrap, mongo):
        bench = Bench(bootstrap, mongo)
        n, paced = args.events, int(args.rate * args.seconds)
        print(f"throughput: {n} events of ~1 KB, {args.per_aggregate} per aggregate …", flush=True)
        bench.raw(2000)  # warm-up: JIT of the broker, connections, page cache
        raw_tput, _ = bench.raw(n)
        box_tput = bench.backbone_burst(n, args.per_aggregate)
        box_tput_write = bench.backbone_burst(n // 2, args.per_aggregate, write_per_event=True)
        bare_ms, read_ms, ack_ms = bench.store_costs(args.per_aggregate)
        print(f"latency: {paced} events at {args.rate:.0f}/s …", flush=True)
        _, raw_lat = bench.raw(paced, rate=args.rate)
        box_lat = bench.backbone_paced(paced, args.rate)

    ms = 1000
    rows = [
        row("throughput: outbox → relay → idempotent consumer", box_tput, "events/s", raw_tput),
        row("throughput: same, handler writes one document per event", box_tput_write, "events/s", raw_tput),
        row(f"store: read an aggregate with {args.per_aggregate} outbox events, by _id", read_ms, "ms", bare_ms),
        row(f"store: $pullAll of those {args.per_aggregate} events", ack_ms, "ms", bare_ms),
        row(f"latency p50 at {args.rate:.0f}/s: write → effect", statistics.median(box_lat) * ms, "ms", statistics.median(raw_lat) * ms),
        row(f"latency p99 at {args.rate:.0f}/s: write → effect", percentile(box_lat, 99) * ms, "ms", percentile(raw_lat, 99) * ms),
    ]
    record(rows, "backbone")
    print("baselines: raw kafka-python for throughput and latency; a read by _id of a bare document for store rows")


if __name__ == "__main__":
    main()
