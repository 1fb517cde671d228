"""Events between services: the CloudEvents envelope, topics, the outbox and its relay, the
consumer runner and dead letters. See `architecture.md`, "Consistency rules"."""

from tdkt.events.envelope import EnvelopeError, Event, EventType
from tdkt.events.topics import TopicSpec

__all__ = ["Event", "EventType", "EnvelopeError", "TopicSpec"]
