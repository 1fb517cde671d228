"""What a service is, in one declaration its composition root (`bootstrap.py`) fills in.

The shared entrypoints (API app factory, consumer, relay, topic creation, the local supervisor)
read this and nothing else, which is what keeps the four services laid out alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tdkt.events.consumer import Subscription
from tdkt.events.topics import TopicSpec
from tdkt.scheduler import PeriodicJob


@dataclass(frozen=True)
class ServiceDefinition:
    name: str  # "registry": the URL segment, the database suffix, the consumer group suffix
    title: str  # shown in the API docs, Vietnamese / English
    description: str
    default_port: int
    topics: tuple[TopicSpec, ...] = ()  # topics this service publishes to (it creates them)
    outbox_collections: tuple[str, ...] = ()  # collections whose documents carry an outbox
    blueprints: Callable[[], list] = field(default=lambda: [])  # flask-smorest Blueprints, mounted under /api/v1
    subscriptions: Callable[[], list[Subscription]] = field(default=lambda: [])
    periodic_jobs: Callable[[], list[PeriodicJob]] = field(default=lambda: [])  # run in the relay process (tdkt.scheduler); each must be idempotent
    max_body_bytes: int = 1 * 1024 * 1024
    cli: Callable[[], object] | None = None  # a click group mounted as `tdkt <service> …`
    setup_commands: tuple[tuple[str, ...], ...] = ()  # idempotent `tdkt <service> …` commands `make up` runs on every start (reference data)

    @property
    def source(self) -> str:
        return f"/{self.name}"
