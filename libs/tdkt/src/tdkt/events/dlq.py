"""Re-driving dead letters: after the cause is fixed, put them back on their origin topic.

The record goes back with its original key, value and CloudEvents headers (the `dlq_*` ones
dropped), so it keeps its event id: consumer groups that had handled it skip it, and the group
that dead-lettered it (whose claim was released) handles it now.
"""

from __future__ import annotations

from dataclasses import dataclass

from kafka import KafkaConsumer, KafkaProducer, OffsetAndMetadata, TopicPartition

from tdkt.events.topics import DLQ_SUFFIX

REDRIVE_GROUP = "tdkt-dlq-redrive"


@dataclass
class RedriveReport:
    topic: str
    redriven: int
    by_origin: dict[str, int]


def redrive(consumer: KafkaConsumer, producer: KafkaProducer, dlq_topic: str, limit: int | None = None, idle_timeout_ms: int = 3000) -> RedriveReport:
    """Move the dead letters not yet re-driven (by the redrive group's committed offset) back."""
    if not dlq_topic.endswith(DLQ_SUFFIX):
        raise ValueError(f"{dlq_topic} is not a dead-letter topic (it should end with {DLQ_SUFFIX})")
    consumer.subscribe([dlq_topic])
    moved = 0
    by_origin: dict[str, int] = {}
    while limit is None or moved < limit:
        polled = consumer.poll(timeout_ms=idle_timeout_ms, max_records=100 if limit is None else min(100, limit - moved))
        if not polled:
            break
        offsets = {}
        futures = []
        for tp, records in polled.items():
            for r in records:
                headers = dict(r.headers or [])
                origin = headers.get("dlq_origin_topic", b"").decode() or dlq_topic[: -len(DLQ_SUFFIX)]
                clean = [(k, v) for k, v in (r.headers or []) if not k.startswith("dlq_")]
                futures.append(producer.send(origin, key=r.key, value=r.value, headers=clean))
                by_origin[origin] = by_origin.get(origin, 0) + 1
                offsets[TopicPartition(tp.topic, tp.partition)] = OffsetAndMetadata(r.offset + 1, "", -1)
        for f in futures:
            f.get(timeout=30)  # on the origin topic before the dead letter counts as re-driven
        consumer.commit(offsets)
        moved += len(futures)
    return RedriveReport(dlq_topic, moved, by_origin)
