"""Events of the council: sessions opened and closed, ballots tallied — counts only, never a
member's vote (no member id ever travels with a choice)."""

from tdkt.events.envelope import EventType

COUNCILS_TOPIC = "awards.councils.v1"

SESSION_OPENED = EventType("vn.tdkt.awards.council_session.opened.v1", COUNCILS_TOPIC)
SESSION_CLOSED = EventType("vn.tdkt.awards.council_session.closed.v1", COUNCILS_TOPIC)
BALLOT_TALLIED = EventType("vn.tdkt.awards.ballot.tallied.v1", COUNCILS_TOPIC)
