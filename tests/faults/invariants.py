"""What must hold after the faults (design/quality.md, "Reliability"): each check returns
(name, ok, detail) so the summary lists every one, and the test asserts them all at the end."""

from __future__ import annotations

import json
from collections import Counter

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from tdkt.events.topics import DLQ_SUFFIX
from tdkt.services import service_named

from .harness import Call, Fault, Scenario

Check = tuple[str, bool, str]
POISON_TOPIC = "registry.units.v1"
REPORT_RANK = {"draft": 0, "submitted": 1, "accepted": 2}


# ---------------------------------------------------------------- caught up


def lag(system, bootstrap: str) -> int:
    """Records on the services' subscribed topics that their consumer group has not committed yet
    (read with the group's id, without joining it, as `tdkt dlq list` does)."""
    behind = 0
    for name, service in system.services.items():
        reader = KafkaConsumer(bootstrap_servers=bootstrap, group_id=service.env["KAFKA_GROUP_ID"], enable_auto_commit=False)
        try:
            topics = {s.topic for s in service_named(name).subscriptions()}
            partitions = [TopicPartition(t, p) for t in topics for p in sorted(reader.partitions_for_topic(t) or ())]
            ends = reader.end_offsets(partitions)
            behind += sum(max(0, end - (reader.committed(tp) or 0)) for tp, end in ends.items())
        finally:
            reader.close(autocommit=False)
    return behind


def pending_work(system) -> int:
    """Events still in outboxes, and emails still queued in notify."""
    waiting = 0
    for name in system.services:
        db = system.db(name)
        waiting += sum(db[c].count_documents({"outbox.0": {"$exists": True}}) for c in service_named(name).outbox_collections)
    if "notify" in system.services:
        waiting += system.db("notify").delivery_queue.count_documents({})
    return waiting


# ---------------------------------------------------------------- the poison


def publish_poison(bootstrap: str, marker: str) -> bytes:
    """One record that is no event (no CloudEvents headers, not an envelope): every consumer of
    its topic must dead-letter it, and nothing else may be dead-lettered."""
    value = json.dumps({"poison": marker}).encode()
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    producer.send(POISON_TOPIC, key=b"poison", value=value).get(timeout=30)
    producer.close()
    return value


def dead_letters(bootstrap: str) -> list:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    topics = [t for t in admin.list_topics() if t.endswith(DLQ_SUFFIX)]
    admin.close()
    if not topics:
        return []
    consumer = KafkaConsumer(*topics, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None, consumer_timeout_ms=4000)
    try:
        return list(consumer)
    finally:
        consumer.close()


def check_dead_letters(system, bootstrap: str, poison: bytes) -> Check:
    readers = {system.services[n].env["KAFKA_GROUP_ID"] for n in system.services if any(s.topic == POISON_TOPIC for s in service_named(n).subscriptions())}
    records = dead_letters(bootstrap)
    others = [f"{r.topic}@{r.offset}: {dict(r.headers).get('dlq_error', b'')[:120]!r}" for r in records if r.value != poison]
    groups = Counter(dict(r.headers).get("dlq_group", b"").decode() for r in records if r.value == poison)
    ok = not others and groups == Counter(dict.fromkeys(readers, 1))
    return "DLQ holds only the poison", ok, f"{sum(groups.values())} poison record(s) from {len(groups)}/{len(readers)} groups; {len(others)} other(s) {others[:3]}"


# ---------------------------------------------------------------- acknowledged writes


def check_acknowledged(system, scenario: Scenario) -> tuple[list[Check], int]:
    acked = scenario.acked
    registry, reports = system.db("registry"), system.db("reports")
    units = {d["_id"] for d in registry.units.find({"_id": {"$in": sorted(acked.units)}}, {"_id": 1})}
    movements = {d["_id"]: d.get("state") for d in registry.movements.find({"_id": {"$in": sorted(acked.movements)}}, {"state": 1})}
    found = {d["_id"]: d for d in reports.reports.find({"_id": {"$in": sorted(acked.reports)}}, {"state": 1, "draft": 1})}

    def kept(report_id: str, state: str) -> bool:
        doc = found.get(report_id)
        if doc is None:
            return False
        if state == "draft":
            return bool(doc.get("draft")) or doc["state"] in ("submitted", "accepted")
        return REPORT_RANK.get(doc["state"], -1) >= REPORT_RANK[state]

    lost_units = sorted(acked.units - units)
    lost_movements = sorted(m for m in acked.movements if movements.get(m) in (None, "draft"))
    lost_reports = sorted(r for r, s in acked.reports.items() if not kept(r, s))
    lost = len(lost_units) + len(lost_movements) + len(lost_reports)
    detail = f"{len(acked.units)} units, {len(acked.movements)} launches, {len(acked.reports)} report steps; missing {lost_units[:3]} {lost_movements[:3]} {lost_reports[:3]}"
    return [("acknowledged writes present", lost == 0, detail)], lost


# ---------------------------------------------------------------- exactly once


def check_periods(system, scenario: Scenario) -> Check:
    """Each launched movement opened exactly one (final) report per participating commune."""
    reports = system.db("reports").reports
    wrong = {}
    for movement in scenario.acked.movements:
        units = Counter(d["unit_id"] for d in reports.find({"movement_id": movement}, {"unit_id": 1}))
        if sorted(units) != sorted(scenario.communes) or set(units.values()) != {1}:
            wrong[movement] = dict(units)
    return "one period per unit", not wrong, f"{len(scenario.acked.movements)} movements; wrong: {list(wrong.items())[:2]}"


def check_progress(system) -> Check:
    """The progress projection equals a recomputation from the reports themselves: one entry per
    reported period, with the report's state (a doubled or lost report event shows here)."""
    db = system.db("reports")
    expected: dict[str, dict[str, str]] = {}
    for r in db.reports.find({"state": {"$in": ["submitted", "accepted", "returned"]}}, {"movement_id": 1, "unit_id": 1, "period": 1, "state": 1}):
        expected.setdefault(f"{r['movement_id']}.{r['unit_id']}", {})[r["period"]] = r["state"]
    actual = {d["_id"]: {p: e["state"] for p, e in d["periods"].items()} for d in db.progress.find({}, {"periods": 1})}
    differ = sorted(k for k in expected.keys() | actual.keys() if expected.get(k) != actual.get(k))
    return "progress == recomputed", not differ, f"{len(expected)} units' progress; differing: {[(k, expected.get(k), actual.get(k)) for k in differ[:3]]}"


def check_emails(system, scenario: Scenario, messages: list, addresses: dict[str, str]) -> tuple[list[Check], int]:
    """Every email once: no Message-ID twice, and each launched movement's plan mailed once to each
    commune — except a delivery judged `uncertain` (killed mid-SMTP: by design not resent, an
    operator's call), which may be missing, and is counted and shown."""
    ids = Counter(m["Message-ID"] for m in messages)
    doubled = [i for i, n in ids.items() if n > 1]
    plans = Counter((m["Subject"], m["To"]) for m in messages if m["Subject"].startswith("Phát động phong trào: "))
    expected = [(f"Phát động phong trào: {title}", addresses[u]) for title in scenario.acked.movements.values() for u in scenario.communes]
    missing = [e for e in expected if plans[e] == 0]
    twice = [e for e in expected if plans[e] > 1]
    uncertain = system.db("notify").deliveries.count_documents({"state": "uncertain"})
    return [
        ("no email sent twice", not doubled and not twice, f"{len(messages)} emails, {len(ids)} Message-IDs; doubled: {doubled[:3]} {twice[:3]}"),
        ("every plan email sent", len(missing) <= uncertain, f"{len(expected)} expected, {len(missing)} missing, {uncertain} uncertain deliveries {missing[:3]}"),
    ], max(0, len(missing) - uncertain)


# ---------------------------------------------------------------- projections == rebuild


def check_rebuild(system) -> Check:
    """reports' copies of the registry, rebuilt from scratch by replaying the registry's topics
    (`tdkt reports rebuild-projections`), are the ones the consumer kept through the faults."""
    db = system.db("reports")
    names = ("unit_views", "movement_views")
    before = {n: list(db[n].find({}, sort=[("_id", 1)])) for n in names}
    system.tdkt("reports", "rebuild-projections")
    after = {n: list(db[n].find({}, sort=[("_id", 1)])) for n in names}
    differ = [n for n in names if before[n] != after[n]]
    return "copies == rebuild from replay", not differ, f"{sum(len(v) for v in before.values())} documents; differing: {differ}"


# ---------------------------------------------------------------- the store outage


def check_outage(calls: list[Call], outage: Fault, readiness: dict[str, int | None]) -> list[Check]:
    """While the store was away the APIs answered 503 with Retry-After (never a 500, never no
    answer at all), and /readyz said so; not a single 500 in the whole run either."""
    during = [c for c in calls if c.started >= outage.started and c.ended <= outage.ended]
    unavailable = [c for c in during if c.status == 503 and c.retry_after]
    wrong = [c for c in during if c.status is None or (c.status >= 500 and c not in unavailable)]
    errors = [c for c in calls if c.status == 500]
    not_red = {s: r for s, r in readiness.items() if r != 503}
    return [
        (
            "outage: 503 + Retry-After",
            bool(unavailable) and not wrong,
            f"{len(during)} requests during the outage, {len(unavailable)} × 503; wrong: {[(c.path, c.status) for c in wrong[:3]]}",
        ),
        ("outage: /readyz red", not not_red and bool(readiness), f"{readiness}"),
        ("never a 500", not errors, f"{len(errors)} × 500 {[(c.service, c.method, c.path) for c in errors[:3]]}"),
    ]


def check_no_invalid(calls: list[Call]) -> Check:
    """The load only sends valid requests: a 400 or 422 is the harness speaking a wrong dialect
    (once it asked for `limit=`, which no list accepts, and silently retried forever) or a
    service refusing what its contract allows."""
    invalid = [c for c in calls if c.status in (400, 422)]
    return "no valid request refused", not invalid, f"{len(invalid)} × 400/422 {[(c.service, c.method, c.path[:60]) for c in invalid[:3]]}"
