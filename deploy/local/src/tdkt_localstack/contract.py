"""The event contract, `contracts/asyncapi.yaml`, read for tests: its messages by `ce_type`, their
payload and header schemas, and one check of a record against its message that serves both the
outboxes (`outbox_problems`: what a relay would send) and Kafka itself (`kafka_problems`: what an
end-to-end run really sent). Only tests import it (it needs the dev dependencies `pyyaml` and
`jsonschema`); it lives here, beside the shared pytest plugin, so tests in any folder can import it
whatever pytest's import mode.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft7Validator, FormatChecker
from kafka import KafkaConsumer, TopicPartition
from pymongo.database import Database
from referencing import Registry
from referencing.jsonschema import DRAFT7
from tdkt.events.envelope import EnvelopeError, Event
from tdkt_awards.adapters import council_events
from tdkt_awards.adapters import events as awards_events
from tdkt_notify.adapters import events as notify_events
from tdkt_registry.adapters import events
from tdkt_reports.adapters import events as reports_events

from tdkt_localstack.paths import REPO

CONTRACT: Path = REPO / "contracts" / "asyncapi.yaml"
DOC: dict[str, Any] = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))
BASE = "urn:tdkt:contract:asyncapi"  # the document as one resource: `#/components/schemas/...` refs resolve inside it
SCHEMAS = Registry().with_resource(BASE, DRAFT7.create_resource(DOC))

ROOT = {
    events.UNITS_TOPIC: "unit",
    events.CLUSTERS_TOPIC: "cluster",
    events.MOVEMENTS_TOPIC: "movement",
    events.REGISTRATIONS_TOPIC: "registration",
    reports_events.REPORTS_TOPIC: "report",
    awards_events.CATALOGUE_TOPIC: "version",
    council_events.COUNCILS_TOPIC: "session",
    awards_events.DECISIONS_TOPIC: "decision",
    notify_events.DELIVERIES_TOPIC: "delivery",
}  # topic → the payload's root object, whose `id` is the aggregate's

FORMATS = FormatChecker()
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    """RFC 3339 (jsonschema checks it only with an optional package installed)."""
    if isinstance(value, str):
        if not RFC3339.match(value):
            raise ValueError(f"not an RFC 3339 date-time: {value!r}")
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


# ---------------------------------------------------------------- reading the document


def lookup(pointer: str) -> Any:
    node: Any = DOC
    for part in pointer.lstrip("/").split("/"):
        node = node[int(part)] if isinstance(node, list) else node[part.replace("~1", "/").replace("~0", "~")]
    return node


def follow(pointer: str) -> tuple[str, Any]:
    """The JSON pointer and node at `pointer`, local `$ref`s followed."""
    node = lookup(pointer)
    while isinstance(node, dict) and "$ref" in node:
        assert node["$ref"].startswith("#/"), f"only local references: {node['$ref']}"
        pointer = node["$ref"][1:]
        node = lookup(pointer)
    return pointer, node


def channel_messages() -> Iterator[tuple[str, str, str, dict]]:
    """(channel id, address, pointer of the message, message) for every message on every channel."""
    for channel_id, channel in DOC["channels"].items():
        for message_id in channel.get("messages") or {}:
            pointer, message = follow(f"/channels/{channel_id}/messages/{message_id}")
            yield channel_id, channel["address"], pointer, message


def ce_type_of(message: dict) -> str | None:
    return message.get("headers", {}).get("properties", {}).get("ce_type", {}).get("const")


def messages_by_type() -> dict[str, tuple[str, str, dict]]:
    """ce_type → (the address of its channel, the pointer of its message, the message)."""
    found: dict[str, tuple[str, str, dict]] = {}
    for _, address, pointer, message in channel_messages():
        ce_type = ce_type_of(message)
        assert ce_type, f"{pointer}: no `ce_type` const in its headers"
        assert ce_type not in found, f"{ce_type} is described twice"
        found[ce_type] = (address, pointer, message)
    return found


def aggregate_id(address: str, payload: dict) -> str | None:
    """The aggregate id a payload names: its root object's `id`, or for a unit's progress in a
    movement (no root object, no `id`) `<movement_id>.<unit_id>`."""
    if address == reports_events.PROGRESS_TOPIC:
        return f"{payload.get('movement_id')}.{payload.get('unit_id')}"
    if address == council_events.COUNCILS_TOPIC and "session_id" in payload:  # a tally names its session
        return payload["session_id"]
    if address == awards_events.DECISIONS_TOPIC and "decision_id" in payload:  # a revocation names its decision
        return payload["decision_id"]
    if address == awards_events.NOMINATIONS_TOPIC:  # nominations and the disclosures of them share a topic
        return (payload.get("nomination") or payload.get("disclosure") or payload.get("proposal") or {}).get("id")
    return (payload.get(ROOT.get(address, "")) or {}).get("id")


def header_schemas(pointer: str, message: dict) -> list[str]:
    """Pointers of the header schemas a message's headers must all satisfy: its traits' and its own
    (traits merge into the message; validating against each is the same as against the merge)."""
    pointers = []
    for i, _ in enumerate(message.get("traits", [])):
        trait_pointer, trait = follow(f"{pointer}/traits/{i}")
        if "headers" in trait:
            pointers.append(f"{trait_pointer}/headers")
    if "headers" in message:
        pointers.append(f"{pointer}/headers")
    return pointers


def validator(pointer: str) -> Draft7Validator:
    return Draft7Validator({"$ref": f"{BASE}#{pointer}"}, registry=SCHEMAS, format_checker=FORMATS)


def schema_problems(pointer: str, instance: Any, what: str, validators: dict[str, Draft7Validator] | None = None) -> list[str]:
    """What is wrong with `instance` by the schema at `pointer`, one line per error."""
    found = validator(pointer) if validators is None else validators.setdefault(pointer, validator(pointer))
    return [f"{what}: {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in sorted(found.iter_errors(instance), key=lambda e: list(e.absolute_path))]


# ---------------------------------------------------------------- checking what is emitted


class RecordCheck:
    """Checks records against the messages of the contract, one record at a time, and counts the
    event types it has seen; validators are built once per schema."""

    def __init__(self) -> None:
        self.described = messages_by_type()
        self.validators: dict[str, Draft7Validator] = {}
        self.seen: Counter[str] = Counter()

    def problems(self, what: str, topic: str, key: bytes | None, value: bytes | None, headers: Iterable[tuple[str, bytes]], subject: str | None = None) -> list[str]:
        """A record in its wire form (key, JSON value, CloudEvents headers) on `topic`: the message
        its `ce_type` names is on the channel of `topic`, the value and the headers validate against
        the message's payload and header schemas, and key = `ce_subject` = the aggregate id the
        payload names (= `subject`, when the caller knows it, e.g. the outbox document's id)."""
        headers = list(headers)
        header_map = {name: raw.decode() if isinstance(raw, bytes) else raw for name, raw in headers}
        ce_type = header_map.get("ce_type")
        if ce_type not in self.described:
            return [f"{what}: no message in the contract has the ce_type {ce_type!r}"]
        address, pointer, message = self.described[ce_type]
        self.seen[ce_type] += 1
        problems = [] if topic == address else [f"{what}: published on {topic}, described on {address}"]
        try:
            Event.from_kafka(topic, key, value, headers)  # what every consumer does with it first
        except EnvelopeError as error:
            problems.append(f"{what}: the consumers refuse it: {error}")
        for headers_pointer in header_schemas(pointer, message):
            problems += schema_problems(headers_pointer, header_map, f"{what} headers", self.validators)
        try:
            payload = json.loads(value) if value is not None else None
        except ValueError as error:
            return [*problems, f"{what}: the value is not JSON: {error}"]
        problems += schema_problems(f"{pointer}/payload", payload, f"{what} payload", self.validators)
        named = aggregate_id(address, payload) if isinstance(payload, dict) else None
        key_text = key.decode() if key is not None else None
        if not (key_text == header_map.get("ce_subject") == named and (subject is None or subject == named)):
            known = f", the aggregate {subject!r}" if subject is not None else ""
            problems.append(f"{what}: key {key_text!r}, ce_subject {header_map.get('ce_subject')!r}{known} and payload id {named!r} differ")
        return problems


def outbox_problems(db: Database, collections: Iterable[str]) -> tuple[list[str], Counter[str]]:
    """Every event in the outboxes of `collections`, in the wire form the relay sends, checked
    against its message (`RecordCheck`: payload and header schemas, topic, key = `ce_subject` = the
    document's id = the aggregate id the payload names), sequences increasing per aggregate.
    Returns the problems and how many events of each type were seen."""
    check = RecordCheck()
    problems: list[str] = []
    for collection in collections:
        for doc in db[collection].find({}, {"outbox": 1}):
            sequences = []
            for entry in doc.get("outbox", []):
                what = f"{collection}/{doc['_id']} {entry['type']} #{entry.get('sequence')}"
                if entry["type"] not in check.described:
                    problems.append(f"{what}: no message in the contract has this ce_type")
                    continue
                key, value, headers = Event.from_outbox_entry(entry).to_kafka()  # the record the relay sends
                problems += check.problems(what, entry["topic"], key, value, headers, subject=str(doc["_id"]))
                sequences.append(entry["sequence"])
            if sequences != sorted(set(sequences)):
                problems.append(f"{collection}/{doc['_id']}: sequences do not increase: {sequences}")
    return problems, check.seen


def end_offsets(bootstrap: str, topics: Iterable[str]) -> dict[TopicPartition, int]:
    """Where each partition of `topics` ends now: take them before a test acts, and
    `kafka_problems` reads only what the test produced."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for topic in topics for p in sorted(consumer.partitions_for_topic(topic) or ())]
        return dict(consumer.end_offsets(partitions)) if partitions else {}
    finally:
        consumer.close()


def kafka_problems(bootstrap: str, topics: Iterable[str], since: Mapping[TopicPartition, int], timeout: float = 60.0) -> tuple[list[str], Counter[str]]:
    """Every record on `topics` from the offsets `since` (from `end_offsets`; a partition not in
    it from its beginning) up to where they end now, checked against its message like an outbox
    entry (`RecordCheck`). Sequences are not checked here: a relay publishes at least once, so a
    re-published batch legitimately repeats older ones (the consumers' guard drops them).
    Returns the problems and how many records of each type were seen."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for topic in topics for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not partitions:
            return [], Counter()
        consumer.assign(partitions)
        ends, beginnings = consumer.end_offsets(partitions), consumer.beginning_offsets(partitions)
        for tp in partitions:
            consumer.seek(tp, max(since.get(tp, 0), beginnings[tp]))
        check = RecordCheck()
        problems: list[str] = []
        deadline = time.monotonic() + timeout
        while any(consumer.position(tp) < ends[tp] for tp in partitions):
            if time.monotonic() > deadline:
                behind = {f"{tp.topic}[{tp.partition}]": ends[tp] - consumer.position(tp) for tp in partitions if consumer.position(tp) < ends[tp]}
                return [*problems, f"timed out after {timeout} s reading the records, still to read: {behind}"], check.seen
            for tp, records in consumer.poll(timeout_ms=500).items():
                for record in records:
                    if record.offset >= ends[tp]:
                        continue  # produced after the snapshot of the ends
                    headers = list(record.headers or [])
                    ce_type = dict(headers).get("ce_type", b"?").decode()
                    what = f"{tp.topic}[{tp.partition}]@{record.offset} {ce_type}"
                    problems += check.problems(what, tp.topic, record.key, record.value, headers)
        return problems, check.seen
    finally:
        consumer.close()
