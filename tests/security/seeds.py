"""Just enough data per service that every id in the matrix resolves: one resource of each kind,
owned by the own unit, made through the service's own API (and its event handlers for the copies
it keeps of other services' data), so the matrix's 404s can only come from unit scope."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import Flask
from tdkt.clock import local_today
from tdkt.events.consumer import HandlerContext
from tdkt.events.envelope import Event, EventType

TODAY = local_today()
PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
ISSUER = "Ủy ban nhân dân tỉnh Lai Châu"
Mint = Callable[[str, str | None], dict[str, str]]  # (role, unit) → request headers


@dataclass
class Seeded:
    name: str
    app: Flask
    own: str  # the unit that owns every seeded resource
    other: str  # another unit, with nothing of the own unit's
    ids: dict[str, Any] = field(default_factory=dict)  # path parameter or seed key → id (or a maker of fresh ones)
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def client(self):
        return self.app.test_client()


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, (response.request.path, response.status_code, response.get_data(as_text=True)[:500])
    return response.get_json()


def pdf_upload(**form: str) -> dict:
    return {**form, "file": (io.BytesIO(PDF), "minh-chung.pdf", "application/pdf")}


def feed(handler, db, type_: str, topic: str, subject: str, data: dict, sequence: int = 1) -> None:
    """Deliver one event to a handler as the consumer would."""
    event = Event.new(EventType(type_, topic), source="/test", subject=subject, data=data, sequence=sequence)
    handler(event, HandlerContext(db, data, 1))


def seed(name: str, app: Flask, mint: Mint) -> Seeded:
    return {"registry": _registry, "reports": _reports, "awards": _awards, "notify": _notify}[name](app, mint)


# --- registry -------------------------------------------------------------------------------------


def _registry(app: Flask, mint: Mint) -> Seeded:
    from tdkt_registry.adapters.unit_store import UnitStore
    from tdkt_registry.service_layer import units as unit_cases

    store = UnitStore(app.extensions["tdkt"].db)

    def unit(**data) -> str:
        return unit_cases.establish_unit(store, {"valid_from": "2004-01-01", **data}, "test")[1][0].id

    province = unit(code="12", name="Tỉnh Lai Châu", kind="province")
    district = unit(code="106", name="Huyện Tam Đường", kind="district", parent_id=province)
    own = unit(code="03412", name="Xã Bình Lư", kind="commune", parent_id=district)
    other = unit(code="03413", name="Xã Sơn Bình", kind="commune", parent_id=district)
    seeded = Seeded("registry", app, own, other)
    client, officer = seeded.client, mint("tdkt_officer", None)
    cluster = ok(client.post("/api/v1/clusters", json={"name": "Cụm thi đua Bình Lư", "kind": "cluster", "member_ids": [own, other], "terms": []}, headers=officer), 201)
    movement = ok(
        client.post(
            "/api/v1/movements",
            json={
                "title": "Thi đua hoàn thành chỉ tiêu kinh tế – xã hội",
                "kind": "campaign",
                "organiser_id": district,
                "period_start": (TODAY - timedelta(days=10)).isoformat(),
                "period_end": (TODAY + timedelta(days=120)).isoformat(),
                "registration_deadline": (TODAY + timedelta(days=20)).isoformat(),
                "content_areas": [{"key": "kinh-te", "title": "Kinh tế"}],
                "criteria": [{"key": "giai-ngan", "area": "kinh-te", "name": "Giải ngân đầu tư công", "unit_of_measure": "%", "target": 95, "value_type": "percent"}],
                "schedule": {"monthly_day": 25, "final_due": (TODAY + timedelta(days=110)).isoformat()},
                "participants": {"selector": "communes_of", "selector_id": district},
                "award_forms": ["Giấy khen"],
            },
            headers=officer,
        ),
        201,
    )
    etag = client.get(f"/api/v1/movements/{movement['id']}", headers=officer).headers["ETag"]
    ok(client.post(f"/api/v1/movements/{movement['id']}/launch", json={}, headers={**officer, "If-Match": etag}))
    registration = ok(client.post(f"/api/v1/movements/{movement['id']}/registrations", json={"targets": {"giai-ngan": 97}}, headers=mint("unit_head", own)), 201)
    act_id = store.acts(own, None)[0]["_id"]  # the API's list shows no id (reported): read it from the store
    seeded.ids |= {"unit_id": own, "cluster_id": cluster["id"], "year": "2024", "movement_id": movement["id"], "act_id": act_id, "registration": registration["id"]}
    return seeded


# --- reports --------------------------------------------------------------------------------------


def _reports(app: Flask, mint: Mint) -> Seeded:
    from tdkt_reports.service_layer import projections
    from tdkt_reports.service_layer.periods import report_id

    db = app.extensions["tdkt"].db
    own, other, movement_id = "u-binh-lu", "u-son-binh", "mv-authz"
    for unit_id, unit_name in ((own, "Xã Bình Lư"), (other, "Xã Sơn Bình")):
        unit = {"id": unit_id, "name": unit_name, "kind": "commune", "code": None, "parent_id": None, "valid_from": None, "valid_to": None, "end_reason": None}
        feed(
            projections.on_unit, db, "vn.tdkt.registry.unit.established.v1", "registry.units.v1", unit_id, {"unit": {**unit, "successor_ids": [], "predecessor_ids": []}, "act": {}}
        )
    start, end = TODAY - timedelta(days=40), TODAY + timedelta(days=80)
    first_period = (TODAY - timedelta(days=30)).strftime("%Y-%m")
    movement = {
        "id": movement_id,
        "title": "Thi đua hoàn thành chỉ tiêu năm",
        "state": "launched",
        "organiser_id": "org",
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "content_areas": [{"key": "kinh-te", "title": "Kinh tế"}],
        "criteria": [
            {
                "key": "giai-ngan",
                "area": "kinh-te",
                "name": "Giải ngân",
                "unit_of_measure": "%",
                "target": 95,
                "direction": "higher_is_better",
                "value_type": "percent",
                "weight": 1,
            }
        ],
        "due_dates": [
            {"kind": "interim", "period": first_period, "due": (TODAY - timedelta(days=5)).isoformat()},
            {"kind": "final", "period": "final", "due": end.isoformat()},
        ],
        "participant_ids": [own, other],
    }
    feed(projections.on_movement, db, "vn.tdkt.registry.movement.launched.v1", "registry.movements.v1", movement_id, {"movement": movement})
    seeded = Seeded("reports", app, own, other)
    client, reporter, head = seeded.client, mint("unit_reporter", own), mint("unit_head", own)
    rid = report_id(movement_id, own, first_period)
    url = f"/api/v1/reports/{rid}"
    etag = client.get(url, headers=reporter).headers["ETag"]
    saved = client.put(f"{url}/draft", json={"values": {"giai-ngan": {"value": 96}}, "self_assessment": "good"}, headers={**reporter, "If-Match": etag})
    ok(saved)
    attached = client.post(
        f"{url}/attachments", data=pdf_upload(criterion="giai-ngan"), headers={**reporter, "If-Match": saved.headers["ETag"]}, content_type="multipart/form-data"
    )
    attachment = ok(attached, 201)["attachments"][0]
    ok(client.post(f"{url}/submit", json={}, headers={**head, "If-Match": attached.headers["ETag"]}))
    seeded.ids |= {"report_id": rid, "attachment_id": attachment["id"], "movement_id": movement_id, "unit_id": own}
    return seeded


# --- awards ---------------------------------------------------------------------------------------


def _awards(app: Flask, mint: Mint) -> Seeded:
    from tdkt_awards.adapters.documents import Nomination
    from tdkt_awards.service_layer import projections
    from tdkt_awards.service_layer.catalogue import seed_default

    db = Nomination._get_db()
    own, other, movement_id = "u-binh-lu", "u-son-binh", "mv-authz"
    seed_default("test")
    for unit_id, unit_name in ((own, "Xã Bình Lư"), (other, "Xã Sơn Bình")):
        feed(projections.on_unit, db, "vn.tdkt.registry.unit.established.v1", "registry.units.v1", unit_id, {"unit": {"name": unit_name, "parent_id": None, "kind": "commune"}})
    movement = {"state": "launched", "title": "Phong trào thi đua đặc biệt", "kind": "campaign", "period_start": "2026-01-01", "period_end": "2026-10-30"}
    feed(projections.on_movement, db, "vn.tdkt.registry.movement.launched.v1", "registry.movements.v1", movement_id, {"movement": movement})
    seeded = Seeded("awards", app, own, other)
    client, head, officer, chairman = seeded.client, mint("unit_head", own), mint("tdkt_officer", own), mint("chairman", None)

    def nomination(person: str | None, attach: tuple[str, ...] = ()) -> tuple[dict, str]:
        """An individual's LDTT, or (no person) the unit's Bằng khen of the province, which goes up to it."""
        body = {
            "kind": "annual",
            "year": 2026,
            "title_code": "LDTT",
            "subject": "individual",
            "nominee": {"name": person, "unit_id": own, "position": "Công chức", "gender": "female", "performance": "excellent", "person_key": f"cccd-{uuid.uuid4().hex[:12]}"},
            "achievement": "Hoàn thành xuất sắc nhiệm vụ năm 2026",
        }
        if person is None:
            nominee = {"unit_id": own, "members_total": 20, "members_completed_tasks": 20, "members_with_titles": {"LDTT": 16}, "members_disciplined": 0}
            body |= {"title_code": "BANG_KHEN_TINH_TT", "subject": "collective", "nominee": nominee}
        created = client.post("/api/v1/nominations", json=body, headers=head)
        doc, etag = ok(created, 201), created.headers["ETag"]
        for doc_type in attach:
            uploaded = client.post(
                f"/api/v1/nominations/{doc['id']}/attachments", data=pdf_upload(type=doc_type), headers={**head, "If-Match": etag}, content_type="multipart/form-data"
            )
            doc, etag = ok(uploaded, 201), uploaded.headers["ETag"]
        return doc, etag

    dossier = ("to_trinh", "bao_cao_thanh_tich", "bien_ban_binh_xet")
    draft, _ = nomination("Lò Thị Mai", ("to_trinh",))
    submitted, etag = nomination("Lò Văn Pao", dossier)
    ok(client.post(f"/api/v1/nominations/{submitted['id']}/submit", json={}, headers={**head, "If-Match": etag}))
    approved, etag = nomination(None, dossier)
    ok(client.post(f"/api/v1/nominations/{approved['id']}/submit", json={}, headers={**head, "If-Match": etag}))
    etag = client.get(f"/api/v1/nominations/{approved['id']}", headers=officer).headers["ETag"]
    ok(client.post(f"/api/v1/nominations/{approved['id']}/appraise", json={"outcome": "eligible", "override_reason": "Xác minh trực tiếp"}, headers={**officer, "If-Match": etag}))
    tally = {"session_id": "s1", "item_id": approved["id"], "yes": 5, "no": 0, "abstain": 0, "ballots": 5, "total_members": 5, "outcome": "passed"}
    Nomination._get_collection().update_one({"_id": approved["id"]}, {"$set": {"state": "approved", "council": tally}})  # as after a passing tally
    opened = client.post("/api/v1/disclosures", json={"title": "Công khai danh sách đề nghị khen thưởng", "nomination_ids": [approved["id"]]}, headers=officer)
    disclosure = ok(opened, 201)
    objected = client.post(
        f"/api/v1/disclosures/{disclosure['id']}/objections",
        json={"nomination_id": approved["id"], "content": "Số liệu chưa đúng", "source": "Công dân"},
        headers={**officer, "If-Match": opened.headers["ETag"]},
    )
    objection = ok(objected)["objections"][0]
    proposal = ok(client.post("/api/v1/province-proposals", json={"nomination_ids": [approved["id"]]}, headers=officer), 201)

    members = [{"member_id": f"m{i}", "name": f"Thành viên {i}", "role": "chair" if i == 0 else "member"} for i in range(5)]
    council = ok(client.post("/api/v1/councils", json={"name": "Hội đồng TĐKT", "issuer_id": "province", "members": members}, headers=officer), 201)
    session = ok(
        client.post(
            "/api/v1/council-sessions", json={"council_id": council["id"], "date": TODAY.isoformat(), "agenda": [{"item_id": "a", "candidate": "Xã Bình Lư"}]}, headers=officer
        ),
        201,
    )
    hold = ok(client.post("/api/v1/nomination-holds", json={"nominee_key": f"unit:{other}", "kind": "inspection"}, headers=officer), 201)
    version = ok(
        client.post(
            "/api/v1/catalogue/versions",
            json={"issuer": ISSUER, "effective_from": "2027-01-01", "legal_basis": {"number": "05/2026/QĐ-UBND", "issuer": ISSUER}, "copy_from": "default-2025-07-01"},
            headers=officer,
        ),
        201,
    )
    decision_body = {
        "issuer": ISSUER,
        "issuer_name": "tỉnh Lai Châu",
        "place": "Lai Châu",
        "decision_date": TODAY.isoformat(),
        "subject": "khen thưởng các cá nhân có thành tích xuất sắc",
        "legal_bases": ["Căn cứ Luật Thi đua, khen thưởng ngày 15 tháng 6 năm 2022"],
        "proposed_by": "Giám đốc Sở Nội vụ",
        "funding_source": "Quỹ thi đua, khen thưởng của tỉnh",
        "recipients": ["Như Điều 3", "Lưu: VT, NV"],
        "signer": {"name": "Lê Văn Lương", "title": "CHỦ TỊCH"},
        "awardees": [{"subject": "individual", "name": "Lò Thị Mai", "position": "Công chức", "unit_name": "UBND xã Bình Lư", "title_code": "LDTT", "period": "2026"}],
    }
    draft_decision = ok(client.post("/api/v1/decisions", json=decision_body, headers=officer), 201)
    issued = ok(client.post("/api/v1/decisions", json=decision_body, headers=officer), 201)
    etag = client.get(f"/api/v1/decisions/{issued['id']}", headers=officer).headers["ETag"]
    ok(client.post(f"/api/v1/decisions/{issued['id']}/issue", json={}, headers={**chairman, "If-Match": etag}))
    seeded.ids |= {
        "nomination_id": submitted["id"],
        "attachment_id": submitted["attachments"][0]["id"] if submitted.get("attachments") else None,
        "draft_nomination": draft["id"],
        "draft_attachment": draft["attachments"][0]["id"],
        "disclosure_id": disclosure["id"],
        "objection_id": objection["id"],
        "proposal_id": proposal["id"],
        "council_id": council["id"],
        "session_id": session["id"],
        "hold_id": hold["id"],
        "version_id": version["id"],
        "decision_id": draft_decision["id"],
        "issued_decision": issued["id"],
    }
    if seeded.ids["attachment_id"] is None:
        seeded.ids["attachment_id"] = ok(client.get(f"/api/v1/nominations/{submitted['id']}", headers=head))["attachments"][0]["id"]
    return seeded


# --- notify ---------------------------------------------------------------------------------------


def _notify(app: Flask, mint: Mint) -> Seeded:
    from datetime import UTC, datetime

    from tdkt_notify.adapters.events import ROUTABLE
    from tdkt_notify.domain.templates import shipped_names
    from tdkt_notify.service_layer.intake import DELIVERIES, MAILBOXES, MESSAGES

    db = app.extensions["tdkt"].db
    own, other = "u-binh-lu", "u-son-binh"
    seeded = Seeded("notify", app, own, other)
    client = seeded.client
    now = TODAY.isoformat() + "T08:00:00+07:00"
    message_id = f"msg-{uuid.uuid4().hex[:8]}"
    report_due = "vn.tdkt.reports.report.due_soon.v1"
    db[MESSAGES].insert_one(
        {"_id": message_id, "owner": f"unit:{own}", "title": "Nhắc hạn báo cáo", "text": "Báo cáo tháng sắp đến hạn", "created_at": now, "event_type": report_due}
    )
    db[MAILBOXES].update_one({"_id": f"unit:{own}"}, {"$push": {"entries": f"{now}|{message_id}"}}, upsert=True)
    delivery_id = f"dlv-{uuid.uuid4().hex[:8]}"
    db[DELIVERIES].insert_one(
        {
            "_id": delivery_id,
            "channel": "email",
            "state": "failed",
            "recipient": "vanphong@binhlu.example",
            "event_id": "e1",
            "event_type": report_due,
            "created_at": datetime.now(UTC),
            "content": {"subject": "x"},
        }
    )

    def subscription() -> str:
        """A fresh one per request: removing it is the allowed outcome, and it cannot be removed twice."""
        body = {"owner": "unit", "channel": "email", "event_types": ["*"], "mode": "immediate"}
        return ok(client.post("/api/v1/subscriptions", json=body, headers=mint("unit_head", own)), 201)["id"]

    seeded.ids |= {
        "message_id": message_id,
        "delivery_id": delivery_id,
        "subscription_id": subscription,
        "subscription": subscription(),
        "event_type": report_due,
        "name": sorted(shipped_names())[0],
    }
    assert report_due in ROUTABLE
    return seeded
