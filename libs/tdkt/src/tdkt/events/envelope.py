"""CloudEvents 1.0 in Kafka binary mode.

On the wire: attributes in `ce_*` headers (`ce_id`, `ce_source`, `ce_type`, `ce_subject`,
`ce_time`, `ce_specversion`, and the extensions `ce_sequence` — the aggregate's version after
the change — and `ce_traceparent`), `content-type: application/json`, the W3C `traceparent`
header, the record key = the aggregate id so one aggregate's events stay in one partition and in
order, and the JSON payload as the value. The conversion itself is the CloudEvents SDK's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.exceptions import BaseCloudEventException
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from marshmallow import Schema, ValidationError

from tdkt.tracing import current_traceparent, new_traceparent, parse_traceparent

_JSON = JSONFormat()
CONTENT_TYPE = "application/json"


class EnvelopeError(ValueError):
    """A record that is not a valid TĐKT CloudEvent; it can never be processed (poison)."""


@dataclass(frozen=True)
class EventType:
    """One kind of event a service publishes: its CloudEvents type, its topic, and the
    marshmallow schema its payload must satisfy before it may leave the service."""

    type: str
    topic: str
    schema: type[Schema] | None = None

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if self.schema is None:
            return data
        errors = self.schema().validate(data)
        if errors:
            raise ValidationError(errors, data=data)
        return data


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    source: str
    subject: str
    time: datetime
    topic: str
    data: dict[str, Any]
    sequence: int | None = None
    traceparent: str | None = None
    extras: dict[str, str] = field(default_factory=dict)

    @classmethod
    def new(cls, event_type: EventType, *, source: str, subject: str, data: dict[str, Any], sequence: int | None = None) -> Event:
        """A new event of this type about aggregate `subject`; the payload is validated now,
        inside the write that causes it, so an invalid event fails the write, not a consumer."""
        parent = parse_traceparent(current_traceparent.get())
        return cls(
            id=str(uuid.uuid4()),
            type=event_type.type,
            source=source,
            subject=str(subject),
            time=datetime.now(UTC),
            topic=event_type.topic,
            data=event_type.validate(data),
            sequence=sequence,
            traceparent=str(parent.child() if parent else new_traceparent()),
        )

    # -- storage inside the aggregate's outbox -------------------------------------------------
    def to_outbox_entry(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "source": self.source,
            "subject": self.subject,
            "time": self.time,
            "topic": self.topic,
            "data": self.data,
            "sequence": self.sequence,
            "traceparent": self.traceparent,
        }

    @classmethod
    def from_outbox_entry(cls, entry: dict[str, Any]) -> Event:
        time = entry["time"]
        if time.tzinfo is None:  # BSON dates come back naive, in UTC
            time = time.replace(tzinfo=UTC)
        return cls(
            id=entry["id"],
            type=entry["type"],
            source=entry["source"],
            subject=entry["subject"],
            time=time,
            topic=entry["topic"],
            data=entry["data"],
            sequence=entry.get("sequence"),
            traceparent=entry.get("traceparent"),
        )

    # -- the wire ------------------------------------------------------------------------------
    def to_kafka(self) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
        """(key, value, headers) for kafka-python's `send`."""
        attributes: dict[str, Any] = {
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "subject": self.subject,
            "time": self.time,
            "datacontenttype": CONTENT_TYPE,
        }
        if self.sequence is not None:
            attributes["sequence"] = str(self.sequence)
        if self.traceparent:
            attributes["traceparent"] = self.traceparent
        message = ce_kafka.to_binary(CloudEvent(attributes, self.data), _JSON, key_mapper=lambda _e: self.subject)
        headers = list(message.headers.items())
        if self.traceparent:
            headers.append(("traceparent", self.traceparent.encode()))
        return self.subject.encode(), message.value, headers

    @classmethod
    def from_kafka(cls, topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]) -> Event:
        """Parse a consumed record; raise EnvelopeError naming what is wrong."""
        header_map = {name: raw for name, raw in headers if not name.startswith("dlq_") and name != "traceparent"}
        missing = [h for h in ("ce_id", "ce_source", "ce_type", "ce_specversion") if h not in header_map]
        if missing:
            raise EnvelopeError(f"not a CloudEvent in binary mode: missing header(s) {', '.join(missing)}")
        try:
            message = ce_kafka.KafkaMessage(headers=header_map, key=key, value=value or b"")
            ce = ce_kafka.from_binary(message, _JSON)
        except (BaseCloudEventException, ValueError, UnicodeDecodeError) as exc:
            raise EnvelopeError(f"invalid CloudEvent: {exc}") from None
        data = ce.get_data()
        if isinstance(data, (str, bytes)):
            raise EnvelopeError("payload is not valid JSON")
        if not isinstance(data, dict):
            raise EnvelopeError("payload is not a JSON object")
        subject = ce.get_subject() or (key.decode() if key else "")
        sequence = ce.get_extension("sequence")
        try:
            sequence = int(sequence) if sequence is not None else None
        except ValueError:
            raise EnvelopeError(f"ce_sequence is not an integer: {sequence!r}") from None
        time = ce.get_time() or datetime.now(UTC)
        return cls(
            id=ce.get_id(),
            type=ce.get_type(),
            source=ce.get_source(),
            subject=subject,
            time=time,
            topic=topic,
            data=data,
            sequence=sequence,
            traceparent=ce.get_extension("traceparent"),
        )
