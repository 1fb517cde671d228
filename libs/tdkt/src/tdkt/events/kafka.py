"""Kafka clients configured the one way every service uses them."""

from __future__ import annotations

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError

from tdkt.settings import KafkaSettings


class BrokerUnreachable(RuntimeError):
    pass


def make_producer(settings: KafkaSettings, **overrides) -> KafkaProducer:
    """Idempotent producer with acks=all: the broker de-duplicates retried batches and keeps
    order within a partition, so a retry never reorders one aggregate's events."""
    config = dict(
        bootstrap_servers=settings.bootstrap_servers,
        client_id=settings.client_id,
        acks="all",
        enable_idempotence=True,
        max_in_flight_requests_per_connection=5,
        linger_ms=5,
        batch_size=256 * 1024,
        compression_type=None,
        delivery_timeout_ms=30000,
        request_timeout_ms=10000,
        max_block_ms=10000,
        bootstrap_timeout_ms=10000,
    )
    config.update(overrides)
    return _connect(KafkaProducer, settings, **config)


def make_consumer(settings: KafkaSettings, group_id: str, **overrides) -> KafkaConsumer:
    """Manual commits only: an offset is committed after the handler's effect is stored."""
    config = dict(
        bootstrap_servers=settings.bootstrap_servers,
        client_id=settings.client_id,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=200,
        bootstrap_timeout_ms=10000,
    )
    config.update(overrides)
    return _connect(KafkaConsumer, settings, **config)


def make_admin(settings: KafkaSettings, **overrides) -> KafkaAdminClient:
    config = dict(bootstrap_servers=settings.bootstrap_servers, client_id=settings.client_id + "-admin", bootstrap_timeout_ms=10000)
    config.update(overrides)
    return _connect(KafkaAdminClient, settings, **config)


def _connect(cls, settings: KafkaSettings, **config):
    try:
        return cls(**config)
    except KafkaError as exc:
        servers = ",".join(settings.bootstrap_servers)
        raise BrokerUnreachable(f"the Kafka broker at {servers} does not answer: {exc.__class__.__name__}: {exc}") from None
