"""Rebuilding the projections from scratch by replaying the registry's topics.

The copies (`unit_views`, `movement_views`, `registration_views`, and any other collection a
registry subscription writes) are emptied, then every record of the registry topics, from the
start up to the end offsets seen when the rebuild began, goes through the same handlers the
consumer uses. The handlers' sequence guards make it safe to run while the consumer keeps going;
periods are regenerated idempotently (existing reports are untouched).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from kafka import TopicPartition
from pymongo.database import Database
from tdkt.events.consumer import HandlerContext, Subscription
from tdkt.events.envelope import EnvelopeError, Event
from tdkt.events.kafka import make_consumer
from tdkt.settings import KafkaSettings

PROJECTIONS = ("unit_views", "movement_views", "registration_views", "cluster_views", "projection_meta")


@dataclass
class RebuildReport:
    records: int = 0
    applied: dict[str, int] = field(default_factory=dict)
    skipped: int = 0  # records of types no projection reads, or not valid events


def rebuild(db: Database, kafka: KafkaSettings, subscriptions: list[Subscription], progress: Callable[[int], None] = lambda n: None) -> RebuildReport:
    registry = [s for s in subscriptions if s.topic.startswith("registry.")]
    by_type = {s.event_type: s for s in registry}
    topics = sorted({s.topic for s in registry})
    for name in PROJECTIONS:
        db[name].drop()
    consumer = make_consumer(kafka, f"reports-rebuild-{uuid.uuid4().hex[:8]}", enable_auto_commit=False)
    report = RebuildReport()
    try:
        partitions = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        pending = {tp for tp in partitions if ends[tp] > 0}
        while pending:
            for tp, records in consumer.poll(timeout_ms=1000).items():
                for record in records:
                    report.records += 1
                    _replay(db, record, by_type, report)
                    if record.offset + 1 >= ends[tp]:
                        pending.discard(tp)
                progress(len(records))
            pending = {tp for tp in pending if consumer.position(tp) < ends[tp]}
    finally:
        consumer.close(autocommit=False)
    return report


def _replay(db: Database, record, by_type: dict[str, Subscription], report: RebuildReport) -> None:
    try:
        event = Event.from_kafka(record.topic, record.key, record.value, record.headers)
    except EnvelopeError:
        report.skipped += 1
        return
    subscription = by_type.get(event.type)
    if subscription is None:
        report.skipped += 1
        return
    subscription.handler(event, HandlerContext(db, event.data, 1))
    report.applied[event.type] = report.applied.get(event.type, 0) + 1
