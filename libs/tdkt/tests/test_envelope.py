import json
from datetime import UTC, datetime

import pytest
from marshmallow import Schema, ValidationError, fields
from tdkt.events.envelope import EnvelopeError, Event, EventType
from tdkt.tracing import current_traceparent, parse_traceparent


class UnitRenamed(Schema):
    name = fields.String(required=True)


RENAMED = EventType("vn.tdkt.registry.unit.renamed.v1", "registry.units.v1", UnitRenamed)


def test_round_trip_through_kafka_binary_mode():
    token = current_traceparent.set("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    try:
        event = Event.new(RENAMED, source="/registry", subject="03390", data={"name": "Xã Bình Lư"}, sequence=7)
    finally:
        current_traceparent.reset(token)
    key, value, headers = event.to_kafka()
    assert key == b"03390"
    assert json.loads(value) == {"name": "Xã Bình Lư"}
    names = dict(headers)
    assert names["ce_type"] == b"vn.tdkt.registry.unit.renamed.v1"
    assert names["ce_sequence"] == b"7"
    assert parse_traceparent(names["traceparent"]).trace_id == "0af7651916cd43dd8448eb211c80319c", "the request's trace continues"

    back = Event.from_kafka("registry.units.v1", key, value, headers)
    assert (back.id, back.type, back.source, back.subject, back.sequence, back.data) == (event.id, event.type, "/registry", "03390", 7, {"name": "Xã Bình Lư"})
    assert abs((back.time - event.time).total_seconds()) < 0.001


def test_outbox_entry_round_trip_handles_naive_bson_dates():
    event = Event.new(RENAMED, source="/registry", subject="x", data={"name": "A"})
    entry = event.to_outbox_entry()
    entry["time"] = entry["time"].replace(tzinfo=None)
    assert Event.from_outbox_entry(entry).time.tzinfo == UTC


def test_invalid_payload_fails_the_write_not_a_consumer():
    with pytest.raises(ValidationError):
        Event.new(RENAMED, source="/registry", subject="x", data={"nam": "typo"})


@pytest.mark.parametrize(
    "headers, value, message",
    [
        ([], b"{}", "missing header"),
        ([("ce_id", b"1"), ("ce_source", b"/x"), ("ce_type", b"t"), ("ce_specversion", b"1.0"), ("content-type", b"application/json")], b"[1,2]", "not a JSON object"),
        (
            [("ce_id", b"1"), ("ce_source", b"/x"), ("ce_type", b"t"), ("ce_specversion", b"1.0"), ("content-type", b"application/json"), ("ce_sequence", b"x")],
            b"{}",
            "ce_sequence",
        ),
        ([("ce_id", b"1"), ("ce_source", b"/x"), ("ce_type", b"t"), ("ce_specversion", b"1.0"), ("content-type", b"application/json")], b"{oops", "not valid JSON"),
    ],
)
def test_malformed_records_are_envelope_errors(headers, value, message):
    with pytest.raises(EnvelopeError, match=message):
        Event.from_kafka("t", b"k", value, headers)


def test_time_header_is_rfc3339_utc():
    event = Event("1", "t", "/s", "k", datetime(2023, 6, 15, 8, 0, tzinfo=UTC), "topic", {})
    assert dict(event.to_kafka()[2])["ce_time"] == b"2023-06-15T08:00:00Z"
