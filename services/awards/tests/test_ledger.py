"""The bonus ledger against the real broker and store: decisions issued and revoked over HTTP,
their events sent to Kafka in the relay's wire form, the ledger kept by the real consumer runner
with the service's own subscriptions, then read over HTTP and as a workbook.

The events go to a topic of this test's own (`make_topic`), not to `awards.decisions.v1`, which a
running `make up` stack on the same broker may be using: the records are the ones the relay would
send (`Event.to_kafka()` of each outbox entry), only their topic differs.
"""

from __future__ import annotations

import dataclasses
import io
import time
import uuid

import mongoengine
import pytest
from kafka import TopicPartition
from tdkt.events.consumer import ConsumerRunner
from tdkt.events.envelope import Event
from tdkt.events.kafka import make_consumer, make_producer
from tdkt.settings import ConsumerSettings
from tdkt.web.app import create_app
from tdkt_awards.adapters.documents import Decision
from tdkt_awards.bootstrap import SERVICE
from tdkt_awards.service_layer import ledger
from tdkt_awards.service_layer.catalogue import seed_default

ISSUER = "Ủy ban nhân dân tỉnh Lai Châu"
BINH_LU, NAM_TAM = "unit-binh-lu", "unit-nam-tam"
MOVEMENT = "mv-thi-dua-dac-biet-2026"
HYPERLINK = '=HYPERLINK("http://evil.example","bấm vào đây")'
CONSUMER = ConsumerSettings(group_id="unused", max_poll_records=200, max_poll_interval_ms=60000, max_attempts=3, retry_backoff_ms=10)


@pytest.fixture
def app(service_env):
    app = create_app(SERVICE)
    with app.app_context():
        seed_default("test")
    yield app
    mongoengine.disconnect()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db(app):
    return app.extensions["tdkt"].db


@pytest.fixture
def producer(kafka_settings):
    made = make_producer(kafka_settings)
    yield made
    made.close(timeout=5)


@pytest.fixture
def runners(db, kafka_settings):
    """`runners(topic)`: a consumer runner of a new group on `topic` with the ledger's handlers."""
    made = []

    def factory(topic):
        group = f"ledger-{uuid.uuid4().hex[:8]}"
        subscriptions = [dataclasses.replace(s, topic=topic.name) for s in ledger.subscriptions()]
        consumer = make_consumer(kafka_settings, group, session_timeout_ms=10000, heartbeat_interval_ms=1000)
        dead_letters = make_producer(kafka_settings)
        runner = ConsumerRunner(db, consumer, dead_letters, group, subscriptions, CONSUMER)
        runner.start()
        made.append(runner)
        return runner

    yield factory
    for runner in made:
        runner.consumer.close(autocommit=False)
        runner.producer.close(timeout=5)


def publish(producer, topic, decision_ids) -> int:
    """Every event of these decisions' outboxes onto `topic`, as the relay sends them."""
    sent = 0
    for doc in Decision.objects(id__in=decision_ids):
        for entry in doc.outbox:
            key, value, headers = Event.from_outbox_entry(entry).to_kafka()
            producer.send(topic.name, key=key, value=value, headers=headers)
            sent += 1
    producer.flush(timeout=30)
    return sent


def consume_all(runner, topic, timeout_s: float = 60) -> None:
    """Poll until the runner's group has handled (and committed) every record on the topic."""
    partitions = [TopicPartition(topic.name, p) for p in range(topic.partitions)]
    ends = runner.consumer.end_offsets(partitions)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        runner.poll_once(timeout_ms=200)
        assigned = runner.consumer.assignment()
        if len(assigned) == len(partitions) and all(runner.consumer.position(tp) >= ends[tp] for tp in partitions):
            return
    raise AssertionError(f"the consumer did not reach the end of {topic.name} in {timeout_s} s")


def awardee(subject: str, name: str, title: str, unit_id: str | None, unit_name: str | None) -> dict:
    return {"subject": subject, "name": name, "position": "Công chức" if subject == "individual" else None, "unit_id": unit_id, "unit_name": unit_name, "title_code": title}


def decision(day: str, awardees: list[dict], movement_id: str | None = None) -> dict:
    return {
        "issuer": ISSUER,
        "issuer_name": "tỉnh Lai Châu",
        "place": "Lai Châu",
        "decision_date": day,
        "subject": "khen thưởng các tập thể, cá nhân có thành tích xuất sắc",
        "legal_bases": ["Căn cứ Luật Thi đua, khen thưởng ngày 15 tháng 6 năm 2022"],
        "proposed_by": "Giám đốc Sở Nội vụ",
        "movement_id": movement_id,
        "funding_source": "Quỹ thi đua, khen thưởng của tỉnh",
        "recipients": ["Như Điều 3", "Lưu: VT, NV"],
        "signer": {"name": "Lê Văn Lương", "title": "CHỦ TỊCH"},
        "awardees": awardees,
    }


def ok(response, status: int = 200):
    assert response.status_code == status, response.get_data(as_text=True)
    return response


def issue(client, as_role, body: dict) -> dict:
    officer, chairman = as_role("tdkt_officer"), as_role("chairman")
    url = f"/api/v1/decisions/{ok(client.post('/api/v1/decisions', json=body, headers=officer), 201).get_json()['id']}"
    return ok(client.post(f"{url}/issue", json={}, headers=chairman | {"If-Match": client.get(url, headers=officer).headers["ETag"]})).get_json()


@pytest.fixture
def books(client, as_role):
    """Two issued decisions (one closing a movement, one of the year before) and one revocation:
    the household of the first decision gives back its 1,140,000 đ."""
    first = issue(
        client,
        as_role,
        decision(
            "2026-11-29",
            [
                awardee("individual", "Lò Thị Mai", "LDTT", BINH_LU, "UBND xã Bình Lư"),  # 0.3 × 2,530,000 → 760,000
                awardee("collective", "UBND xã Bình Lư", "CO_THI_DUA_TINH", BINH_LU, None),  # 8 × 2,530,000 → 20,240,000
                awardee("household", "Hộ ông Vàng A Sử", "LDTT", NAM_TAM, "UBND xã Nậm Tăm"),  # 1.5 × 760,000 → 1,140,000
                awardee("individual", HYPERLINK, "CSTDCS", NAM_TAM, "UBND xã Nậm Tăm"),  # 1.0 × 2,530,000 → 2,530,000
            ],
            MOVEMENT,
        ),
    )
    second = issue(
        client,
        as_role,
        decision(
            "2025-12-01",
            [
                awardee("individual", "Nguyễn Văn An", "LDTT", BINH_LU, "UBND xã Bình Lư"),  # 0.3 × 2,340,000 → 710,000
                awardee("individual", "Sùng A Páo", "CSTDCS", NAM_TAM, "UBND xã Nậm Tăm"),  # 1.0 × 2,340,000 → 2,340,000
            ],
        ),
    )
    assert [a["amount"] for a in first["awardees"]] == [760_000, 20_240_000, 1_140_000, 2_530_000]
    assert [a["amount"] for a in second["awardees"]] == [710_000, 2_340_000]
    household = first["awardees"][2]["awardee_id"]
    url = f"/api/v1/decisions/{first['id']}"
    revoked = client.post(
        f"{url}/revocations",
        json={"reason": "Kê khai không trung thực", "legal_basis": {"number": "99/QĐ-UBND", "issuer": ISSUER, "date": "2027-01-20"}, "awardee_ids": [household]},
        headers=as_role("chairman") | {"If-Match": client.get(url, headers=as_role("tdkt_officer")).headers["ETag"]},
    )
    revocation = ok(revoked, 201).get_json()["revocations"][0]
    return {"first": first, "second": second, "household": household, "revocation": revocation}


@pytest.fixture
def kept(books, make_topic, producer, runners, db):
    """The ledger kept by the consumer from the published events."""
    topic = make_topic(partitions=3)
    assert publish(producer, topic, [books["first"]["id"], books["second"]["id"]]) == 3  # two issued, one revoked
    runner = runners(topic)
    consume_all(runner, topic)
    assert runner.processed_total == 3 and runner.dead_lettered_total == 0
    assert db[ledger.LEDGER].count_documents({}) == 7  # six awards, one revocation
    return books | {"topic": topic, "runner": runner}


def totals(client, as_role, group_by: str, **filters) -> dict:
    response = ok(client.get("/api/v1/ledger/totals", query_string={"group_by": group_by, **filters}, headers=as_role("finance_officer")))
    return {r["key"]: (r["awarded"], r["recovered"], r["net"], r["awardees"]) for r in response.get_json()["rows"]}


def test_totals_per_decision_movement_unit_and_year_in_whole_dong(client, as_role, kept):
    first, second = kept["first"]["id"], kept["second"]["id"]
    assert totals(client, as_role, "decision") == {second: (3_050_000, 0, 3_050_000, 2), first: (24_670_000, 1_140_000, 23_530_000, 4)}
    assert totals(client, as_role, "movement") == {MOVEMENT: (24_670_000, 1_140_000, 23_530_000, 4), None: (3_050_000, 0, 3_050_000, 2)}
    assert totals(client, as_role, "unit") == {BINH_LU: (21_710_000, 0, 21_710_000, 3), NAM_TAM: (6_010_000, 1_140_000, 4_870_000, 3)}
    assert totals(client, as_role, "year") == {"2025": (3_050_000, 0, 3_050_000, 2), "2026": (24_670_000, 1_140_000, 23_530_000, 4)}
    assert totals(client, as_role, "unit", year=2026) == {BINH_LU: (21_000_000, 0, 21_000_000, 2), NAM_TAM: (3_670_000, 1_140_000, 2_530_000, 2)}
    assert totals(client, as_role, "decision", movement_id=MOVEMENT, unit_id=NAM_TAM) == {first: (3_670_000, 1_140_000, 2_530_000, 2)}
    body = ok(client.get("/api/v1/ledger/totals", query_string={"group_by": "decision"}, headers=as_role("tdkt_officer"))).get_json()
    assert body["overall"] == {"awarded": 27_720_000, "recovered": 1_140_000, "net": 26_580_000, "awardees": 6}
    assert [r["label"] for r in body["rows"]][1].startswith(f"{kept['first']['reference']} ngày 29/11/2026")

    page = ok(client.get("/api/v1/ledger/entries", query_string={"decision_id": first, "per_page": 3}, headers=as_role("chairman"))).get_json()
    assert (page["total"], page["pages"], len(page["items"])) == (5, 2, 3)
    entries = ok(client.get("/api/v1/ledger/entries", query_string={"decision_id": first, "per_page": 10}, headers=as_role("admin"))).get_json()["items"]
    revoke = entries[-1]
    assert revoke["id"] == f"revoke:{kept['revocation']['id']}:{kept['household']}" and revoke["kind"] == "revoke"
    assert (revoke["amount"], revoke["name"], revoke["unit_name"], revoke["movement_id"], revoke["year"]) == (-1_140_000, "Hộ ông Vàng A Sử", "UBND xã Nậm Tăm", MOVEMENT, 2026)
    assert revoke["reference"] == kept["first"]["reference"] and revoke["title_name"] == "Lao động tiên tiến" and revoke["subject"] == "household"
    assert all(type(e["amount"]) is int for e in entries)
    assert {e["id"] for e in entries[:-1]} == {f"issue:{first}:{a['awardee_id']}" for a in kept["first"]["awardees"]}


def test_the_same_events_delivered_again_or_replayed_change_nothing(client, as_role, kept, producer, runners, db):
    before = sorted(db[ledger.LEDGER].find({}), key=lambda e: e["_id"])
    figures = {g: totals(client, as_role, g) for g in ledger.GROUPINGS}
    topic, runner = kept["topic"], kept["runner"]
    assert publish(producer, topic, [kept["first"]["id"], kept["second"]["id"]]) == 3  # the relay sent them twice
    consume_all(runner, topic)
    assert runner.processed_total == 3, "the group's claims drop records it handled already"
    replay = runners(topic)  # a new group reads the topic from the start: the handlers run again
    consume_all(replay, topic)
    assert replay.processed_total == 3 and replay.dead_lettered_total == 0
    assert sorted(db[ledger.LEDGER].find({}), key=lambda e: e["_id"]) == before
    assert {g: totals(client, as_role, g) for g in ledger.GROUPINGS} == figures


def test_the_workbook_holds_the_figures_and_neutralises_formulas(client, as_role, kept):
    from openpyxl import load_workbook

    response = ok(client.get("/api/v1/ledger.xlsx", headers=as_role("finance_officer")))
    assert response.mimetype.endswith("spreadsheetml.sheet") and "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["Theo quyết định", "Theo phong trào", "Theo đơn vị", "Theo năm", "Chi tiết"]
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"], "no cell is a formula"

    def rows(sheet: str) -> list[tuple]:
        return [tuple(c.value for c in row) for row in book[sheet].iter_rows()]

    years = {r[1]: r[3:] for r in rows("Theo năm") if r[0] in (1, 2)}
    assert years == {"2025": (2, 3_050_000, 0, 3_050_000), "2026": (4, 24_670_000, 1_140_000, 23_530_000)}
    assert rows("Theo đơn vị")[-1][1:] == ("Tổng cộng", None, 6, 27_720_000, 1_140_000, 26_580_000)
    money = [c for c in book["Chi tiết"]["M"] if isinstance(c.value, int)]
    assert sorted(c.value for c in money[:-1]) == sorted([760_000, 20_240_000, 1_140_000, 2_530_000, 710_000, 2_340_000, -1_140_000])
    assert money[-1].value == 26_580_000 and {c.number_format for c in money} == {"#,##0"}
    names = [c for c in book["Chi tiết"]["I"] if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert [(c.value, c.data_type) for c in names] == [("'" + HYPERLINK, "s")]

    only_2025 = load_workbook(io.BytesIO(ok(client.get("/api/v1/ledger.xlsx?year=2025", headers=as_role("tdkt_officer"))).data))
    assert [r[1:] for r in only_2025["Theo năm"].iter_rows(values_only=True) if r[0] == 1] == [("2025", "2025", 2, 3_050_000, 0, 3_050_000)]


def test_only_finance_and_the_standing_body_read_the_ledger(client, as_role, books):
    unit_head = as_role("unit_head", unit=BINH_LU)
    for url in ("/api/v1/ledger/entries", "/api/v1/ledger/totals", "/api/v1/ledger.xlsx"):
        assert client.get(url, headers=unit_head).status_code == 403, url
        assert client.get(url).status_code == 401, url
    assert "colour" in ok(client.get("/api/v1/ledger/totals?colour=red", headers=as_role("finance_officer")), 422).get_json()["errors"]["query"]
    assert ok(client.get("/api/v1/ledger/totals?group_by=person", headers=as_role("finance_officer")), 422)


def test_the_service_consumer_takes_every_subscription_with_one_handler_per_event_type(db):
    """The ledger shares DecisionIssued and AwardRevoked with the nominations: combined, the
    consumer group still has one handler per type (the runner refuses to start otherwise)."""
    subscriptions = SERVICE.subscriptions()
    ConsumerRunner(db, None, None, "awards", subscriptions, CONSUMER)
    assert {(s.topic, s.event_type) for s in ledger.subscriptions()} <= {(s.topic, s.event_type) for s in subscriptions}


def test_a_process_that_read_the_ledger_sees_the_next_decision_at_once(client, as_role, db):
    """Each process holds the ledger's entries until `ledger_meta` says the consumer wrote more
    (the store scans for any filter but `_id`): a read before and after an issue differ at once."""
    assert totals(client, as_role, "unit") == {}
    issued = {"id": uuid.uuid4().hex, "number": 7, "symbol": "QĐ-UBND", "issuer": ISSUER, "decision_date": "2026-03-02", "issued_at": "2026-03-02T08:00:00+00:00"}
    award = {
        "awardee_id": "a1",
        "unit_id": BINH_LU,
        "unit_name": "Xã Bình Lư",
        "name": "Lò Thị Mai",
        "subject": "individual",
        "title_code": "LDTT",
        "title_name": "Lao động tiên tiến",
        "amount": 351_000,
    }
    assert ledger._insert(db, [ledger.issue_entry(issued, award)]) == 1
    assert totals(client, as_role, "unit") == {BINH_LU: (351_000, 0, 351_000, 1)}
    assert ledger._insert(db, [ledger.issue_entry(issued, award)]) == 0  # delivered again: the same figures
    assert totals(client, as_role, "unit", year=2026) == {BINH_LU: (351_000, 0, 351_000, 1)}


def test_a_control_character_in_a_filter_is_dropped_from_the_workbook_not_a_500(client, as_role):
    """Found by tests/fuzz: `?unit_id=%06` reached the sheet heading ("Phạm vi: … Đơn vị: \\x06")
    and openpyxl refuses such characters in a cell, so the whole export answered 500."""
    from openpyxl import load_workbook

    response = ok(client.get("/api/v1/ledger.xlsx?unit_id=u%06x&movement_id=%0B%1F", headers=as_role("finance_officer")))
    heading = load_workbook(io.BytesIO(response.data))["Chi tiết"]["A2"].value
    assert "Đơn vị: ux;" in heading and "\x06" not in heading
