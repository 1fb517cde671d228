"""The events notify reads (every service's) and the one it publishes."""

from tdkt.events.envelope import EventType
from tdkt.events.registry_types import MOVEMENT_TYPES, UNIT_TYPES  # noqa: F401 (re-exported)

DELIVERIES_TOPIC = "notify.deliveries.v1"
DELIVERY_DEAD = EventType("vn.tdkt.notify.delivery.dead.v1", DELIVERIES_TOPIC)

# type → topic of every event notify may route (the default rules name most of them; an operator may route the others)
ROUTABLE = {
    **{t: "registry.movements.v1" for t in MOVEMENT_TYPES},
    **{f"vn.tdkt.registry.registration.{n}.v1": "registry.registrations.v1" for n in ("submitted", "amended")},
    **{f"vn.tdkt.reports.report.{n}.v1": "reports.reports.v1" for n in ("submitted", "accepted", "returned", "due_soon", "overdue")},
    **{f"vn.tdkt.awards.nomination.{n}.v1": "awards.nominations.v1" for n in ("submitted", "returned", "appraised", "approved", "rejected", "proposed", "decided", "revoked")},
    "vn.tdkt.awards.disclosure.opened.v1": "awards.nominations.v1",
    "vn.tdkt.awards.province_proposal.sent.v1": "awards.nominations.v1",
    **{f"vn.tdkt.awards.council_session.{n}.v1": "awards.councils.v1" for n in ("opened", "closed")},
    "vn.tdkt.awards.decision.issued.v1": "awards.decisions.v1",
    "vn.tdkt.awards.award.revoked.v1": "awards.decisions.v1",
    "vn.tdkt.awards.catalogue.activated.v1": "awards.catalogue.v1",
}
