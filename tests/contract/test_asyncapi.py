"""The event contract, `contracts/asyncapi.yaml`, is complete and true.

Complete: every event type the registry and reports declare has its message, with its `ce_type`,
on the channel of its topic; every topic a service declares is a channel; each channel's messages
are sent by its service, and what a service subscribes to is its `receive` operations. True: the
real registry app, driven through its HTTP API through every kind of change, writes events whose
wire form (the record the relay would send: key, CloudEvents headers, JSON value) validates
against the message's header and payload schemas — and the scenario emits every declared event
type. The reports service's events get the same check in `test_reports_events.py`, which reuses
`outbox_problems` from here. Reading the document and checking a record against its message live
in `tdkt_localstack.contract`, shared with the end-to-end test that checks what really went over
Kafka (`kafka_problems`); `test_asyncapi_official_schema.py` validates the document itself against
the official AsyncAPI 3.0.0 JSON Schema.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from jsonschema import Draft7Validator
from tdkt.clock import local_today
from tdkt.events.envelope import EventType
from tdkt.services import installed_services
from tdkt_awards.adapters import council_events
from tdkt_awards.adapters import events as awards_events
from tdkt_localstack.contract import (
    CONTRACT,
    DOC,
    ce_type_of,
    channel_messages,
    follow,
    header_schemas,
    lookup,
    messages_by_type,
    outbox_problems,
    schema_problems,  # noqa: F401 (test_reports_events imports it from here)
    validator,
)
from tdkt_notify.adapters import events as notify_events
from tdkt_registry.adapters import events
from tdkt_registry.bootstrap import SERVICE
from tdkt_reports.adapters import events as reports_events

EVENT_TYPES: list[EventType] = [t for group in (events.UNIT_EVENTS, events.CLUSTER_EVENTS, events.MOVEMENT_EVENTS, events.REGISTRATION_EVENTS) for t in group.values()]
REPORTS_EVENT_TYPES: list[EventType] = [*reports_events.REPORT_EVENTS.values(), reports_events.PROGRESS_UPDATED]
PUBLISHED: dict[str, list[EventType]] = {
    "registry": EVENT_TYPES,
    "reports": REPORTS_EVENT_TYPES,
    "awards": [
        awards_events.CATALOGUE_ACTIVATED,
        awards_events.DECISION_ISSUED,
        awards_events.AWARD_REVOKED,
        *awards_events.NOMINATION_EVENTS.values(),
        awards_events.DISCLOSURE_OPENED,
        awards_events.PROVINCE_PROPOSAL_SENT,
        council_events.SESSION_OPENED,
        council_events.SESSION_CLOSED,
        council_events.BALLOT_TALLIED,
    ],
    "notify": [notify_events.DELIVERY_DEAD],
}  # service → the event types it declares
# ---------------------------------------------------------------- reading the document


def fixed_header(pointer: str, message: dict, name: str) -> str | None:
    """The `const` a message's headers (its own or a trait's) fix for header `name`."""
    for headers in header_schemas(pointer, message):
        const = lookup(headers).get("properties", {}).get(name, {}).get("const")
        if const is not None:
            return const
    return None


def every_ref(node: Any, where: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield where, value
            else:
                yield from every_ref(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from every_ref(value, f"{where}/{i}")


# ---------------------------------------------------------------- the document is complete


def test_the_document_is_asyncapi_3_and_its_schemas_are_json_schemas():
    assert DOC["asyncapi"] == "3.0.0"
    assert DOC["info"]["title"] and DOC["info"]["version"]
    for where, ref in every_ref(DOC):
        assert ref.startswith("#/"), f"{where}: {ref}"
        follow(ref[1:])  # raises KeyError when it points nowhere
    for schema in DOC["components"]["schemas"].values():
        Draft7Validator.check_schema(schema)
    for _, _, pointer, message in channel_messages():
        assert message["payload"] and message.get("contentType", "application/json") == "application/json", pointer
        Draft7Validator.check_schema(message["payload"])
        for headers in header_schemas(pointer, message):
            Draft7Validator.check_schema(lookup(headers))


@pytest.mark.parametrize("service", sorted(PUBLISHED))
def test_every_event_type_of_a_service_has_its_message_on_its_topic(service):
    described = messages_by_type()
    for event_type in PUBLISHED[service]:
        assert event_type.type in described, f"{event_type.type} is not in {CONTRACT.name}"
        address, pointer, message = described[event_type.type]
        assert address == event_type.topic, f"{event_type.type} is published on {event_type.topic}, described on {address} ({pointer})"
        assert fixed_header(pointer, message, "ce_source") == f"/{service}", f"{pointer}: ce_source must be fixed to /{service} (a From… trait)"
    own_channels = {c["address"] for c in DOC["channels"].values() if c["address"].startswith(f"{service}.")}
    assert {t.type for t in PUBLISHED[service]} == {t for t, (address, _, _) in described.items() if address in own_channels}, "a message describes no event type"


def test_every_declared_topic_is_a_channel_and_every_channel_a_declared_topic():
    addresses = [c["address"] for c in DOC["channels"].values()]
    assert len(addresses) == len(set(addresses))
    assert {t.name for t in SERVICE.topics} <= set(addresses)
    declared = {t.name: t for s in installed_services() for t in s.topics}
    assert set(addresses) == set(declared)
    for channel in DOC["channels"].values():  # a compacted topic says so: its consumers keep the latest record per key
        policy = channel.get("bindings", {}).get("kafka", {}).get("topicConfiguration", {}).get("cleanup.policy")
        assert policy in (None, ["compact"], ["delete"]), channel["address"]
        assert (policy == ["compact"]) == declared[channel["address"]].compacted, channel["address"]


def test_each_service_sends_its_channels_messages_and_receives_what_it_subscribes_to():
    """A `send` operation is its channel's service publishing (every message of a channel is
    sent); a `receive` operation is a service consuming — exactly the (topic, type) pairs of its
    code's subscriptions. Each operation is tagged with the one service that performs it."""
    services = {s.name: s for s in installed_services()}
    sent: dict[str, set[str]] = defaultdict(set)
    received: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for name, operation in DOC["operations"].items():
        tags = [t["name"] for t in operation.get("tags", [])]
        assert len(tags) == 1 and tags[0] in services, f"{name}: tagged with the one service that performs it, not {tags}"
        assert operation["action"] in ("send", "receive"), name
        channel_pointer, channel = follow(operation["channel"]["$ref"][1:])
        address = channel["address"]
        for ref in operation["messages"]:
            assert ref["$ref"].startswith(f"#{channel_pointer}/messages/"), f"{name}: an operation's messages are its channel's"
            if operation["action"] == "send":
                assert address.startswith(f"{tags[0]}."), f"{name}: a service sends on its own topics only, not {address}"
                sent[address].add(ref["$ref"].rsplit("/", 1)[1])
            else:
                received[tags[0]].add((address, ce_type_of(follow(ref["$ref"][1:])[1])))
    for channel in DOC["channels"].values():
        assert sent.get(channel["address"], set()) == set(channel.get("messages") or {}), channel["address"]
    for service in services.values():
        subscribed = {(s.topic, s.event_type) for s in service.subscriptions()}
        assert received.get(service.name, set()) == subscribed, (
            f"{service.name}: receive operations {sorted(received.get(service.name, set()) - subscribed)} not subscribed, subscriptions {sorted(subscribed - received.get(service.name, set()))} not described"
        )


# ---------------------------------------------------------------- what the registry emits validates

LAW = {"number": "1670/NQ-UBTVQH15", "date": "2025-06-16", "issuer": "Ủy ban Thường vụ Quốc hội", "title": "Sắp xếp các đơn vị hành chính cấp xã của tỉnh Lai Châu năm 2025"}
FOUNDING = {"number": "22/2003/QH11", "date": "2003-11-26", "issuer": "Quốc hội"}
REFORM = "2025-07-01"


def ok(response, status: int = 200):
    assert response.status_code == status, response.get_data(as_text=True)
    return response


def drive_every_change(client, officer, as_role) -> None:
    """Every kind of change the registry publishes, through its HTTP API."""
    today = local_today()

    def establish(**body) -> str:
        return ok(client.post("/api/v1/units", json=body, headers=officer), 201).get_json()["units"][0]["id"]

    def act(unit_id: str, path: str, **body) -> dict:
        return ok(client.post(f"/api/v1/units/{unit_id}/{path}", json={"legal_basis": LAW, **body}, headers=officer), 201).get_json()

    def etag(url: str, headers=officer) -> dict[str, str]:
        return headers | {"If-Match": ok(client.get(url, headers=headers)).headers["ETag"]}

    # units: establish, update, rename, move, merge (into a new unit), split, dissolve
    province = establish(code="12", name="Tỉnh Lai Châu", kind="province", valid_from="2004-01-01", legal_basis=FOUNDING)
    district = establish(code="106", name="Huyện Tam Đường", kind="district", parent_id=province, valid_from="2004-01-01", legal_basis=FOUNDING)
    town, binh_lu, son_binh, ban_giang = (
        establish(code=code, name=name, kind=kind, parent_id=district, valid_from="2004-01-01")
        for code, name, kind in (
            ("03390", "Thị trấn Tam Đường", "town"),
            ("03412", "Xã Bình Lư", "commune"),
            ("03413", "Xã Sơn Bình", "commune"),
            ("03415", "Xã Bản Giang", "commune"),
        )
    )
    board = establish(
        name="Ban Thi đua – Khen thưởng tỉnh Lai Châu",
        kind="board",
        parent_id=province,
        contacts={"email": "bantdkt@laichau.gov.vn"},
        head={"name": "Nguyễn Văn B", "title": "Trưởng ban"},
        note="Không có mã chính thức, không rõ ngày thành lập",
    )
    patch = {"contacts": {"email": "binhlu@laichau.gov.vn", "phone": "0213 3875 123", "webhook_url": None}, "head": {"name": "Lò Văn A", "title": "Chủ tịch UBND xã"}}
    ok(client.patch(f"/api/v1/units/{binh_lu}", json=patch, headers=etag(f"/api/v1/units/{binh_lu}")))
    act(board, "renames", effective_date="2025-03-01", name="Sở Nội vụ tỉnh Lai Châu", kind="agency", short_name="SNV")
    act(son_binh, "moves", effective_date=REFORM, parent_id=province)
    merged = ok(
        client.post(
            "/api/v1/unit-merges",
            json={
                "effective_date": REFORM,
                "legal_basis": LAW,
                "predecessor_ids": [town, binh_lu],
                "new_unit": {"code": "03390", "name": "Xã Bình Lư", "kind": "commune", "parent_id": province},
            },
            headers=officer,
        ),
        201,
    ).get_json()
    commune = merged["act"]["successor_ids"][0]
    split = act(
        son_binh,
        "splits",
        effective_date="2025-09-01",
        note="Tách để thử hợp đồng sự kiện",
        new_units=[
            {"code": "03413", "name": "Xã Sơn Bình", "kind": "commune", "parent_id": province},
            {"code": "03416", "name": "Phường Tân Phong", "kind": "ward", "parent_id": province, "short_name": "P. Tân Phong"},
        ],
    )
    first, second = split["act"]["successor_ids"]
    act(ban_giang, "dissolutions", effective_date=REFORM)
    act(district, "dissolutions", effective_date=REFORM, note="Kết thúc hoạt động cấp huyện")

    # movements: launch, amend, close; launch and cancel another
    day = lambda n: (today + timedelta(days=n)).isoformat()  # noqa: E731
    movement = {
        "title": "Thi đua hoàn thành chỉ tiêu kinh tế – xã hội",
        "theme": "Đoàn kết, sáng tạo",
        "kind": "regular",
        "description": "Phong trào thường xuyên của tỉnh",
        "organiser_id": province,
        "legal_basis": {"number": "45/KH-UBND", "date": day(-15), "issuer": "UBND tỉnh Lai Châu"},
        "period_start": day(-10),
        "period_end": day(120),
        "registration_deadline": day(20),
        "content_areas": [{"key": "kinh-te", "title": "Kinh tế", "description": "Phát triển kinh tế"}, {"key": "an-ninh", "title": "Quốc phòng – an ninh"}],
        "criteria": [
            {
                "key": "giai-ngan",
                "area": "kinh-te",
                "name": "Giải ngân đầu tư công",
                "unit_of_measure": "%",
                "target": 95,
                "value_type": "percent",
                "weight": 2,
                "evidence_required": True,
            },
            {
                "key": "tai-nan",
                "area": "an-ninh",
                "name": "Tai nạn giao thông nghiêm trọng",
                "unit_of_measure": "vụ",
                "target": 2,
                "direction": "lower_is_better",
                "value_type": "integer",
            },
        ],
        "schedule": {"monthly_day": 25, "final_due": day(110)},
        "participants": {"selector": "communes_of", "selector_id": province},
        "award_forms": ["Giấy khen"],
    }
    movement_id = ok(client.post("/api/v1/movements", json=movement, headers=officer), 201).get_json()["id"]
    url = f"/api/v1/movements/{movement_id}"
    launched = ok(client.post(f"{url}/launch", json={}, headers=etag(url))).get_json()
    assert set(launched["participant_ids"]) == {commune, first, second}
    ok(client.put(url, json=movement | {"period_end": day(200), "award_forms": ["Giấy khen", "Bằng khen"]}, headers=etag(url)))

    # registrations: submit, amend (the deadline is in the future)
    head = as_role("unit_head", unit=commune)
    registrations = f"{url}/registrations"
    ok(client.post(registrations, json={"targets": {"giai-ngan": 97, "tai-nan": 1}, "titles": ["Tập thể lao động tiên tiến"], "note": "Quyết tâm"}, headers=head), 201)
    mine = f"{registrations}/{commune}"
    ok(client.put(mine, json={"targets": {"giai-ngan": 99.5, "tai-nan": 0}, "titles": []}, headers=etag(mine, head)))
    ok(client.post(f"{url}/close", json={}, headers=etag(url)))

    other = {"title": "Thi đua chuyên đề xây dựng nông thôn mới", "organiser_id": province, "period_start": day(-5), "period_end": day(60)}
    other |= {"criteria": [{"key": "tieu-chi", "area": "ntm", "name": "Số tiêu chí đạt", "unit_of_measure": "tiêu chí", "target": 19}]}
    other |= {"content_areas": [{"key": "ntm", "title": "Nông thôn mới"}], "participants": {"unit_ids": [commune, first]}}
    other_url = f"/api/v1/movements/{ok(client.post('/api/v1/movements', json=other, headers=officer), 201).get_json()['id']}"
    ok(client.post(f"{other_url}/launch", json={}, headers=etag(other_url)))
    ok(client.post(f"{other_url}/cancel", json={"reason": "Trùng với phong trào của huyện"}, headers=etag(other_url)))

    # clusters: register a cluster, rename it, set this year's term; register a block with a bare term
    cluster = {"name": "Cụm thi đua các xã phía Nam", "kind": "cluster", "description": "Theo địa bàn", "member_ids": [commune, first, second]}
    cluster_url = f"/api/v1/clusters/{ok(client.post('/api/v1/clusters', json=cluster, headers=officer), 201).get_json()['id']}"
    ok(client.put(cluster_url, json={"name": "Cụm thi đua số 1", "description": None, "member_ids": [commune, first, second]}, headers=etag(cluster_url)))
    term = {"leader_id": commune, "deputy_id": first, "covenant": {"number": "01/GƯTĐ", "date": day(-1), "issuer": "Cụm thi đua số 1", "title": "Giao ước thi đua"}}
    ok(client.put(f"{cluster_url}/terms/{today.year}", json=term, headers=etag(cluster_url)))
    block = {"name": "Khối các cơ quan tỉnh", "kind": "block", "member_ids": [province, board], "terms": [{"year": today.year, "leader_id": board}]}
    ok(client.post("/api/v1/clusters", json=block, headers=officer), 201)


def test_every_event_the_registry_writes_validates_against_its_message(registry_app, registry_client, officer, as_role):
    drive_every_change(registry_client, officer, as_role)

    problems, seen = outbox_problems(registry_app.extensions["tdkt"].db, SERVICE.outbox_collections)
    assert not problems, "\n".join(problems)
    missing = sorted({t.type for t in EVENT_TYPES} - set(seen))
    assert not missing, f"the scenario does not emit {missing}: extend it so the contract check covers every message"


@pytest.mark.parametrize(
    ("pointer", "instance"),
    [
        ("/components/schemas/LegalBasis", {"number": "1", "date": "2025-13-01", "issuer": "x", "title": None}),
        ("/components/schemas/Segment", {"start": None, "end": None, "code": None, "name": "A", "short_name": None, "kind": "castle", "parent_id": None, "act_id": None}),
        ("/components/messages/MovementCancelled/payload", {"movement": {}, "reason": None}),
        ("/components/messages/RegistrationSubmitted/payload", {"registration": {"amendments": 1}}),
        ("/components/messages/ReportAccepted/payload", {"report": {"state": "accepted"}}),
        ("/components/messages/ReportOverdue/payload", {"report": {"state": "submitted"}, "reminder": {"kind": "overdue", "days": 0, "due": "2025-10-25"}}),
        ("/components/schemas/ReportValues", {"giai-ngan": {"value": -1, "unit": "%", "note": None}}),
        ("/components/messages/MovementProgressUpdated/payload", {"periods": {"2025-13-x": {}}}),
    ],
    ids=["bad-date", "unknown-kind", "cancel-without-reason", "submitted-amended", "accepted-without-review", "submitted-reminded", "negative-value", "bad-period"],
)
def test_the_schemas_refuse_what_they_should(pointer, instance):
    assert list(validator(pointer).iter_errors(instance)), f"{pointer} accepted {instance}"
