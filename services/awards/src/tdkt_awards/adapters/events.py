"""Events the awards service publishes from its rule catalogue (council events: council_events.py)."""

from tdkt.events.envelope import EventType
from tdkt.events.registry_types import MOVEMENT_TYPES, UNIT_TYPES  # noqa: F401 (re-exported)

CATALOGUE_TOPIC = "awards.catalogue.v1"
CATALOGUE_ACTIVATED = EventType("vn.tdkt.awards.catalogue.activated.v1", CATALOGUE_TOPIC)

DECISIONS_TOPIC = "awards.decisions.v1"
DECISION_ISSUED = EventType("vn.tdkt.awards.decision.issued.v1", DECISIONS_TOPIC)
AWARD_REVOKED = EventType("vn.tdkt.awards.award.revoked.v1", DECISIONS_TOPIC)

NOMINATIONS_TOPIC = "awards.nominations.v1"
NOMINATION_EVENTS = {
    name: EventType(f"vn.tdkt.awards.nomination.{name}.v1", NOMINATIONS_TOPIC)
    for name in ("submitted", "returned", "appraised", "approved", "rejected", "proposed", "decided", "revoked")
}
DISCLOSURE_OPENED = EventType("vn.tdkt.awards.disclosure.opened.v1", NOMINATIONS_TOPIC)
# nominations for forms the province confers, sent as one proposal (keyed by proposal id)
PROVINCE_PROPOSAL_SENT = EventType("vn.tdkt.awards.province_proposal.sent.v1", NOMINATIONS_TOPIC)

# what this service consumes (tolerant reader: only the fields used, see service_layer/projections.py)
PROGRESS_UPDATED_TYPE, PROGRESS_TOPIC = "vn.tdkt.reports.movement_progress.updated.v1", "reports.progress.v1"
