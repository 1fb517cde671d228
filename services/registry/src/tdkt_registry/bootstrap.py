"""Composition root of the registry service: the one place that says what the service is made of.

The shared entrypoints (API, consumer, relay) read `SERVICE` and nothing else. Feature work adds
blueprints, subscriptions and outbox collections here; no module connects to anything at import.
"""

from tdkt.events.topics import TopicSpec
from tdkt.service import ServiceDefinition

SERVICE = ServiceDefinition(
    name="registry",
    title="Registry — Đơn vị, cụm/khối thi đua, phong trào / Units, emulation clusters, movements",
    description="Owner: the TĐKT standing body (Phòng/Sở Nội vụ). Owns units and their history, emulation clusters and blocks, movements with their criteria, and registrations.",
    default_port=8001,
    topics=(
        TopicSpec("registry.units.v1"),
        TopicSpec("registry.clusters.v1"),
        TopicSpec("registry.movements.v1"),
        TopicSpec("registry.registrations.v1"),
    ),
)
