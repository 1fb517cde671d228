"""Notify's aggregates that publish events (mongoengine + outbox). The high-volume records —
deliveries, queue, inbox, digests — are plain documents written by `_id` (see service_layer)."""

from __future__ import annotations

from mongoengine import StringField
from tdkt.events.outbox import AggregateRoot


class DeadLetter(AggregateRoot):
    """A delivery given up on (dead, or uncertain after a crash mid-SMTP): announced once."""

    meta = {"collection": "dead_letters"}
    event_source = "/notify"
    id = StringField(primary_key=True)  # the delivery's id
    state = StringField()
    error = StringField()
    channel = StringField()
    recipient = StringField()
    event_id = StringField()
