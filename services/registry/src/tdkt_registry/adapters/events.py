"""Every event the registry publishes: its CloudEvents type and its topic.

Unit events carry the unit's full state (the topic is compacted, keyed by unit id: the latest
record per unit is all a new consumer needs). The payloads are described for everyone in
`contracts/asyncapi.yaml`.
"""

from tdkt.events.envelope import EventType

UNITS_TOPIC = "registry.units.v1"
CLUSTERS_TOPIC = "registry.clusters.v1"
MOVEMENTS_TOPIC = "registry.movements.v1"
REGISTRATIONS_TOPIC = "registry.registrations.v1"

UNIT_EVENTS = {name: EventType(f"vn.tdkt.registry.unit.{name}.v1", UNITS_TOPIC) for name in ("established", "updated", "renamed", "moved", "merged", "split", "dissolved")}
CLUSTER_EVENTS = {name: EventType(f"vn.tdkt.registry.cluster.{name}.v1", CLUSTERS_TOPIC) for name in ("registered", "updated")}
MOVEMENT_EVENTS = {name: EventType(f"vn.tdkt.registry.movement.{name}.v1", MOVEMENTS_TOPIC) for name in ("launched", "amended", "closed", "cancelled")}
REGISTRATION_EVENTS = {name: EventType(f"vn.tdkt.registry.registration.{name}.v1", REGISTRATIONS_TOPIC) for name in ("submitted", "amended")}
