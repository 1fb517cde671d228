"""What the reports service emits validates against `contracts/asyncapi.yaml`, as the registry's
events do in `test_asyncapi.py` (the same check, `outbox_problems`).

The real reports app is fed registry events shaped as the contract describes them (each checked
against its message first) through the handlers its consumer would call, driven through its HTTP
API (draft → submit → return → resubmit → accept), its deadline check (due soon, overdue) and its
own progress consumer fed its report events — and every reports event type must be among what it
writes to its outboxes.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pymongo.database import Database
from tdkt.clock import local_today
from tdkt.events.consumer import HandlerContext
from tdkt.events.envelope import Event, EventType
from tdkt_registry.adapters import events as registry_events
from tdkt_reports.bootstrap import SERVICE as REPORTS
from tdkt_reports.service_layer.deadlines import check_deadlines
from tdkt_reports.service_layer.periods import report_id
from tdkt_reports.service_layer.progress import progress_id

from .test_asyncapi import REPORTS_EVENT_TYPES, messages_by_type, outbox_problems, schema_problems

TODAY = local_today()


def deliver(db: Database, event: Event) -> int:
    """Hand `event` to the reports handlers subscribed to its type on its topic, as the service's
    consumer does; returns how many there were."""
    handlers = [s.handler for s in REPORTS.subscriptions() if (s.topic, s.event_type) == (event.topic, event.type)]
    for handler in handlers:
        handler(event, HandlerContext(db, event.data, 1))
    return len(handlers)


@dataclass
class Registry:
    """The registry's side, as the contract describes it: every payload is checked against its
    message (`problems`), then delivered to the reports service's handlers."""

    db: Database
    sequences: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    problems: list[str] = field(default_factory=list)

    def publish(self, event_type: EventType, subject: str, data: dict[str, Any]) -> None:
        _, pointer, _ = messages_by_type()[event_type.type]
        self.problems += schema_problems(f"{pointer}/payload", data, f"fed {event_type.type} {subject}")
        self.sequences[subject] += 1
        event = Event.new(event_type, source="/registry", subject=subject, data=data, sequence=self.sequences[subject])
        assert deliver(self.db, event), f"reports does not subscribe to {event_type.type}"

    def unit(self, name: str, kind: str = "commune") -> str:
        """A unit established with its first segment."""
        unit_id, act_id, start = uuid.uuid4().hex, uuid.uuid4().hex, "2004-01-01"
        segment = {"start": start, "end": None, "code": None, "name": name, "short_name": None, "kind": kind, "parent_id": None, "act_id": act_id}
        unit = {
            "id": unit_id,
            "code": None,
            "name": name,
            "short_name": None,
            "kind": kind,
            "parent_id": None,
            "valid_from": start,
            "valid_to": None,
            "status": "active",
            "end_reason": None,
            "contacts": {"email": None, "phone": None, "webhook_url": None},
            "head": {"name": None, "title": None},
            "note": None,
            "predecessor_ids": [],
            "successor_ids": [],
            "segments": [segment],
        }
        act = {"id": act_id, "kind": "establish", "effective_date": start, "legal_basis": None, "note": None, "predecessor_ids": [], "successor_ids": []}
        self.publish(registry_events.UNIT_EVENTS["established"], unit_id, {"unit": unit, "act": act})
        return unit_id

    def merge(self, predecessor: str, successor: str, names: dict[str, str]) -> None:
        """`predecessor` merged into the existing `successor` from today: one record per unit."""
        act = {
            "id": uuid.uuid4().hex,
            "kind": "merge",
            "effective_date": TODAY.isoformat(),
            "legal_basis": None,
            "note": None,
            "predecessor_ids": [predecessor],
            "successor_ids": [successor],
        }
        yesterday = (TODAY - timedelta(days=1)).isoformat()
        for unit_id, changes in (
            (predecessor, {"valid_to": yesterday, "status": "merged", "end_reason": "merged", "successor_ids": [successor]}),
            (successor, {"predecessor_ids": [predecessor]}),
        ):
            unit = {
                "id": unit_id,
                "code": None,
                "name": names[unit_id],
                "short_name": None,
                "kind": "commune",
                "parent_id": None,
                "valid_from": "2004-01-01",
                "valid_to": None,
                "status": "active",
                "end_reason": None,
                "contacts": {},
                "head": {},
                "note": None,
                "predecessor_ids": [],
                "successor_ids": [],
            } | changes
            unit["segments"] = [
                {"start": "2004-01-01", "end": unit["valid_to"], "code": None, "name": names[unit_id], "short_name": None, "kind": "commune", "parent_id": None, "act_id": None}
            ]
            self.publish(registry_events.UNIT_EVENTS["merged"], unit_id, {"unit": unit, "act": act})

    def movement(self, organiser: str, participants: list[str]) -> dict[str, Any]:
        """Launched 40 days ago: a monthly report due 5 days ago, one due in 45 days, the final
        one in 80."""
        start, end = TODAY - timedelta(days=40), TODAY + timedelta(days=80)
        first, second = TODAY - timedelta(days=5), TODAY + timedelta(days=45)
        criterion = {"area": "kinh-te", "direction": "higher_is_better", "weight": 1, "evidence_required": False}
        movement = {
            "id": uuid.uuid4().hex,
            "title": "Thi đua hoàn thành chỉ tiêu kinh tế – xã hội",
            "theme": None,
            "kind": "regular",
            "description": None,
            "organiser_id": organiser,
            "legal_basis": {"number": "45/KH-UBND", "date": (start - timedelta(days=5)).isoformat(), "issuer": "UBND tỉnh Lai Châu", "title": None},
            "period_start": start.isoformat(),
            "period_end": end.isoformat(),
            "content_areas": [{"key": "kinh-te", "title": "Kinh tế", "description": None}],
            "criteria": [
                criterion | {"key": "giai-ngan", "name": "Giải ngân đầu tư công", "unit_of_measure": "%", "target": 95, "value_type": "percent", "weight": 2},
                criterion | {"key": "ocop", "name": "Sản phẩm OCOP", "unit_of_measure": "sản phẩm", "target": 1, "value_type": "integer"},
                criterion | {"key": "chay-no", "name": "Không để xảy ra cháy nổ lớn", "unit_of_measure": "có/không", "target": 1, "value_type": "boolean"},
            ],
            "schedule": {"monthly_day": None, "final_due": end.isoformat()},
            "due_dates": [
                {"kind": "interim", "period": first.strftime("%Y-%m"), "due": first.isoformat()},
                {"kind": "interim", "period": second.strftime("%Y-%m"), "due": second.isoformat()},
                {"kind": "final", "period": "final", "due": end.isoformat()},
            ],
            "participants": {"unit_ids": participants, "selector": None, "selector_id": None, "kinds": []},
            "registration_deadline": None,
            "allow_lower_targets": False,
            "award_forms": ["Giấy khen"],
            "state": "launched",
            "participant_ids": participants,
        }
        self.publish(registry_events.MOVEMENT_EVENTS["launched"], movement["id"], {"movement": movement})
        return movement

    def registration(self, movement_id: str, unit_id: str, targets: dict[str, float]) -> None:
        registration = {
            "id": f"{movement_id}.{unit_id}",
            "movement_id": movement_id,
            "unit_id": unit_id,
            "targets": targets,
            "titles": ["Tập thể lao động tiên tiến"],
            "note": None,
            "submitted_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "amended_at": None,
            "amendments": 0,
        }
        self.publish(registry_events.REGISTRATION_EVENTS["submitted"], registration["id"], {"registration": registration})

    def cluster(self, member_ids: list[str]) -> None:
        cluster = {"id": uuid.uuid4().hex, "name": "Cụm thi đua các xã phía Nam", "kind": "cluster", "description": None, "member_ids": member_ids, "terms": []}
        self.publish(registry_events.CLUSTER_EVENTS["registered"], cluster["id"], {"cluster": cluster})


def ok(response, status: int = 200):
    assert response.status_code == status, response.get_data(as_text=True)
    return response


VALUES = {"giai-ngan": {"value": 96.5, "unit": "%"}, "ocop": {"value": 1, "note": "Chè Shan tuyết"}, "chay-no": {"value": True}}


def drive_every_report_event(client, db: Database, registry: Registry, as_role, officer) -> dict[str, str]:
    """Every kind of event the reports service publishes; returns the ids the checks look at."""
    province = registry.unit("Tỉnh Lai Châu", kind="province")
    names = {"binh_lu": "Xã Bình Lư", "ta_leng": "Xã Tả Lèng", "town": "Thị trấn Tam Đường", "khun_ha": "Xã Khun Há"}
    units = {key: registry.unit(name) for key, name in names.items()}
    binh_lu, ta_leng, town, khun_ha = (units[k] for k in ("binh_lu", "ta_leng", "town", "khun_ha"))
    registry.cluster([binh_lu, ta_leng, khun_ha])
    movement = registry.movement(province, [binh_lu, ta_leng, town])
    registry.registration(movement["id"], binh_lu, {"giai-ngan": 97, "ocop": 2, "chay-no": 1})
    first, second = movement["due_dates"][0]["period"], movement["due_dates"][1]
    rid = {key: report_id(movement["id"], units[key], first) for key in ("binh_lu", "ta_leng", "town")}

    def submit(key: str, unit_id: str, values: dict) -> str:
        reporter, head = as_role("unit_reporter", unit=unit_id), as_role("unit_head", unit=unit_id)
        url = f"/api/v1/reports/{rid[key]}"
        etag = ok(client.get(url, headers=reporter)).headers["ETag"]
        saved = ok(client.put(f"{url}/draft", json={"narrative": "Kết quả tháng", "values": values, "self_assessment": "good"}, headers=reporter | {"If-Match": etag}))
        return ok(client.post(f"{url}/submit", json={}, headers=head | {"If-Match": saved.headers["ETag"]})).headers["ETag"]

    def review(key: str, decision: str, etag: str, **body) -> str:
        return ok(client.post(f"/api/v1/reports/{rid[key]}/{decision}", json=body, headers=officer | {"If-Match": etag})).headers["ETag"]

    # Bình Lư: submitted (late: due 5 days ago), returned with comments, resubmitted, accepted
    etag = submit("binh_lu", binh_lu, VALUES)
    review("binh_lu", "return", etag, comment="Bổ sung minh chứng", item_comments={"ocop": "Thiếu quyết định công nhận"})
    etag = submit("binh_lu", binh_lu, VALUES | {"ocop": {"value": 2, "note": None}})
    review("binh_lu", "accept", etag, comment="Đạt")
    # Tả Lèng: submitted and returned, not resubmitted — reminded as overdue below, with its version 1
    review("ta_leng", "return", submit("ta_leng", ta_leng, VALUES), item_comments={"giai-ngan": "Số liệu chưa khớp báo cáo quý"})
    # the town merged into Khun Há: its open periods pass to Khun Há, their ids unchanged
    registry.merge(town, khun_ha, {town: names["town"], khun_ha: names["khun_ha"]})

    overdue = check_deadlines(db, TODAY)  # Tả Lèng's returned report and the inherited one, due 5 days ago
    assert overdue.counts.get("overdue") == 2, overdue.counts
    submit("town", khun_ha, VALUES)  # Khun Há reports for the town's period, late
    soon = check_deadlines(db, date.fromisoformat(second["due"]) - timedelta(days=3))  # the second period of all three
    assert soon.counts.get("due_soon") == 3, soon.counts

    # the progress consumer, fed every report event (each report's in order) as the reports topic delivers them
    for doc in db.reports.find({"movement_id": movement["id"]}, {"outbox": 1}).sort("_id"):
        for entry in doc.get("outbox", []):
            deliver(db, Event.from_outbox_entry(entry))
    return {"inherited": rid["town"], "town": town, "khun_ha": khun_ha, "movement": movement["id"], "binh_lu": binh_lu}


def test_every_event_the_reports_service_writes_validates_against_its_message(reports_client, reports_db, as_role, officer):
    registry = Registry(reports_db)
    ids = drive_every_report_event(reports_client, reports_db, registry, as_role, officer)
    assert not registry.problems, "the registry events fed to reports do not match the contract:\n" + "\n".join(registry.problems)

    problems, seen = outbox_problems(reports_db, REPORTS.outbox_collections)
    assert not problems, "\n".join(problems)
    missing = sorted({t.type for t in REPORTS_EVENT_TYPES} - set(seen))
    assert not missing, f"the scenario does not emit {missing}: extend it so the contract check covers every message"

    # as the contract says: an inherited report keeps its key, its events name the successor
    inherited = reports_db.reports.find_one({"_id": ids["inherited"]}, {"outbox": 1})
    assert {e["data"]["report"]["unit_id"] for e in inherited["outbox"]} == {ids["khun_ha"]}
    assert {e["data"]["report"]["original_unit_id"] for e in inherited["outbox"]} == {ids["town"]}
    progress = reports_db.progress.find_one({"_id": progress_id(ids["movement"], ids["binh_lu"])}, {"outbox": 1})
    latest = progress["outbox"][-1]["data"]
    assert (latest["submitted"], latest["accepted"], latest["returned"], latest["late"]) == (1, 1, 0, 1)
    assert latest["last_accepted"]["values"]["ocop"] == {"value": 2, "unit": "sản phẩm", "note": None}
