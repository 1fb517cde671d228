"""Composition root of the registry service: the one place that says what the service is made of.

The shared entrypoints (API, consumer, relay) read `SERVICE` and nothing else; nothing here
connects to anything at import.
"""

from tdkt.events.topics import TopicSpec
from tdkt.service import ServiceDefinition

from tdkt_registry.adapters.events import CLUSTERS_TOPIC, MOVEMENTS_TOPIC, REGISTRATIONS_TOPIC, UNITS_TOPIC


def _blueprints():
    from tdkt_registry.entrypoints.api import clusters, movements, registrations, units

    return [units.blp, clusters.blp, movements.blp, registrations.blp]


def _cli():
    from tdkt_registry.entrypoints.cli import registry

    return registry


SERVICE = ServiceDefinition(
    name="registry",
    title="Registry — Đơn vị, cụm/khối thi đua, phong trào / Units, emulation clusters, movements",
    description="Owner: the TĐKT standing body (Phòng/Sở Nội vụ). Owns units and their history, emulation clusters and blocks, movements with their criteria, and registrations.",
    default_port=8001,
    topics=(
        TopicSpec(UNITS_TOPIC, compacted=True),  # unit events carry the unit's full state
        TopicSpec(CLUSTERS_TOPIC, compacted=True),
        TopicSpec(MOVEMENTS_TOPIC),
        TopicSpec(REGISTRATIONS_TOPIC),
    ),
    outbox_collections=("units", "clusters", "movements", "registrations"),
    blueprints=_blueprints,
    cli=_cli,
    setup_commands=(("import-admin-units",), ("seed-plan",)),
)
