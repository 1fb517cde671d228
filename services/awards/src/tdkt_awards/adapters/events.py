"""Events the awards service publishes from its rule catalogue (council events: council_events.py)."""

from tdkt.events.envelope import EventType

CATALOGUE_TOPIC = "awards.catalogue.v1"
CATALOGUE_ACTIVATED = EventType("vn.tdkt.awards.catalogue.activated.v1", CATALOGUE_TOPIC)

DECISIONS_TOPIC = "awards.decisions.v1"
DECISION_ISSUED = EventType("vn.tdkt.awards.decision.issued.v1", DECISIONS_TOPIC)
AWARD_REVOKED = EventType("vn.tdkt.awards.award.revoked.v1", DECISIONS_TOPIC)
