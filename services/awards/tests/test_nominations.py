"""Nominations and dossiers over HTTP against the real store: the workflow enforced server-side,
typed documents, working-day deadlines, the eligibility pre-check with its reasons recomputed when
an input changes (reports' progress, holds, another nomination), and who sees what; then from an
appraised nomination to a decision: the council's agenda and tally, the disclosure with its public
list and objections, a decision that waits for them, issuing and revoking.

The registry's and the reports service's events are fed to this service's own handlers here (the
copies they keep); the same events arrive over real Kafka in tests/e2e."""

from __future__ import annotations

import io
from datetime import date, timedelta

import mongoengine
import pytest
from tdkt.auth.tokens import mint_token
from tdkt.clock import local_today
from tdkt.events.consumer import HandlerContext
from tdkt.events.envelope import Event, EventType
from tdkt.web.app import create_app
from tdkt_awards.adapters import nomination_listing
from tdkt_awards.adapters.council_documents import CouncilSession
from tdkt_awards.adapters.documents import Decision, Nomination
from tdkt_awards.bootstrap import SERVICE
from tdkt_awards.domain.calendar import add_working_days
from tdkt_awards.service_layer import nominations, own_events, projections
from tdkt_awards.service_layer.catalogue import seed_default
from tdkt_localstack.pytest_plugin import TEST_AUDIENCE, TEST_ISSUER

PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
COMMUNE, AGENCY, OTHER, MOVEMENT = "u-binh-lu", "u-binh-lu-truong-mn", "u-ban-giang", "mv-2023"


def feed(handler, type_: str, topic: str, subject: str, data: dict, sequence: int = 1) -> None:
    """Deliver one event to a handler as the consumer would (same payload, same context)."""
    event = Event.new(EventType(type_, topic), source="/test", subject=subject, data=data, sequence=sequence)
    handler(event, HandlerContext(db=Nomination._get_db(), data=data, attempt=1))


def unit(unit_id: str, name: str, parent: str | None = None, sequence: int = 1) -> None:
    feed(projections.on_unit, "vn.tdkt.registry.unit.established.v1", "registry.units.v1", unit_id, {"unit": {"name": name, "parent_id": parent, "kind": "commune"}}, sequence)


def progress(accepted: int, final: bool, sequence: int, unit_id: str = COMMUNE) -> None:
    data = {
        "id": f"{MOVEMENT}.{unit_id}",
        "movement_id": MOVEMENT,
        "unit_id": unit_id,
        "periods_total": 5,
        "submitted": 5,
        "accepted": accepted,
        "returned": 0,
        "late": 1,
        "final_accepted": final,
    }
    feed(projections.on_progress, "vn.tdkt.reports.movement_progress.updated.v1", "reports.progress.v1", data["id"], data, sequence)


@pytest.fixture
def app(service_env):
    app = create_app(SERVICE)
    with app.app_context():
        seed_default("test")
        unit(COMMUNE, "Xã Bình Lư")
        unit(AGENCY, "Trường Mầm non Bình Lư", COMMUNE)
        unit(OTHER, "Xã Bản Giang")
        feed(
            projections.on_movement,
            "vn.tdkt.registry.movement.launched.v1",
            "registry.movements.v1",
            MOVEMENT,
            {"movement": {"state": "launched", "title": "Phong trào thi đua đặc biệt", "kind": "campaign", "period_start": "2023-06-15", "period_end": "2023-10-30"}},
        )
        yield app
    mongoengine.disconnect()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def head(as_role):
    return as_role("unit_head", unit=COMMUNE)


def collective(**overrides) -> dict:
    return {
        "kind": "movement",
        "movement_id": MOVEMENT,
        "title_code": "TTLDTT",
        "subject": "collective",
        "nominee": {"unit_id": COMMUNE, "members_total": 20, "members_completed_tasks": 20, "members_with_titles": {"LDTT": 15}, "members_disciplined": 0},
        "achievement": "Hoàn thành 17/17 chỉ tiêu của phong trào",
    } | overrides


def individual(title: str = "LDTT", **overrides) -> dict:
    return {
        "kind": "annual",
        "year": 2026,
        "title_code": title,
        "subject": "individual",
        "nominee": {
            "name": "Lò Thị Mai",
            "unit_id": AGENCY,
            "position": "Giáo viên",
            "gender": "female",
            "direct_worker": True,
            "performance": "excellent",
            "person_key": "cccd-012345678901",
            "prior_titles": [],
        },
        "achievement": "Giáo viên dạy giỏi cấp tỉnh",
    } | overrides


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def attach(client, nomination: dict, etag: str, doc_type: str, headers) -> tuple[dict, str]:
    response = client.post(
        f"/api/v1/nominations/{nomination['id']}/attachments",
        data={"type": doc_type, "file": (io.BytesIO(PDF), f"{doc_type}.pdf", "application/pdf")},
        headers={**headers, "If-Match": etag},
        content_type="multipart/form-data",
    )
    return ok(response, 201), response.headers["ETag"]


def draft_with_dossier(client, headers, body: dict, types=("to_trinh", "bao_cao_thanh_tich", "bien_ban_binh_xet")) -> tuple[dict, str]:
    created = client.post("/api/v1/nominations", json=body, headers=headers)
    doc, etag = ok(created, 201), created.headers["ETag"]
    for doc_type in types:
        doc, etag = attach(client, doc, etag, doc_type, headers)
    return doc, etag


def command(client, nomination_id: str, verb: str, etag: str, headers, body: dict | None = None, status: int = 200) -> tuple[dict, str | None]:
    response = client.post(f"/api/v1/nominations/{nomination_id}/{verb}", json=body or {}, headers={**headers, "If-Match": etag})
    return ok(response, status), response.headers.get("ETag")


def checks(doc: dict) -> dict[str, bool | None]:
    return {c["rule"]: c["ok"] for c in doc["eligibility"]["checks"]}


def test_collective_workflow_with_deadlines_and_progress(client, head, officer, as_role):
    progress(accepted=3, final=False, sequence=1)
    doc, etag = draft_with_dossier(client, head, collective(), types=("to_trinh",))
    assert doc["state"] == "draft" and doc["nominee"]["name"] == "Xã Bình Lư" and doc["year"] == 2023
    assert checks(doc)["unit_reports_accepted"] is False and doc["eligible"] is False
    assert "3 of 5 reports accepted" in next(c["message"] for c in doc["eligibility"]["checks"] if c["rule"] == "unit_reports_accepted")

    # nobody else reads a draft: not the standing body, not another unit
    assert client.get(f"/api/v1/nominations/{doc['id']}", headers=officer).status_code == 404
    assert client.get(f"/api/v1/nominations/{doc['id']}", headers=as_role("unit_head", unit=OTHER)).status_code == 404
    assert ok(client.get("/api/v1/nominations", headers=officer))["total"] == 0

    # an incomplete dossier cannot be submitted; the missing types are named
    missing = client.post(f"/api/v1/nominations/{doc['id']}/submit", json={}, headers={**head, "If-Match": etag})
    assert missing.status_code == 422 and "bao_cao_thanh_tich" in missing.get_data(as_text=True) and "attachments" in missing.get_json()["errors"]["json"]
    for doc_type in ("bao_cao_thanh_tich", "bien_ban_binh_xet"):
        doc, etag = attach(client, doc, etag, doc_type, head)
    assert doc["missing_documents"] == []
    doc, etag = command(client, doc["id"], "submit", etag, head)
    today = local_today()
    assert doc["state"] == "submitted" and doc["deadlines"]["appraisal_due"] == add_working_days(today, 20).isoformat()
    assert doc["deadlines"]["return_by"] == add_working_days(today, 5).isoformat()

    # the standing body returns it; documents cannot change while submitted, can once returned
    assert client.put(f"/api/v1/nominations/{doc['id']}", json=collective(), headers={**head, "If-Match": etag}).status_code == 409
    doc, etag = command(client, doc["id"], "return", etag, officer, {"reasons": ["Thiếu chữ ký trên biên bản"]})
    assert doc["state"] == "returned" and doc["deadlines"]["resubmit_by"] == add_working_days(today, 5).isoformat()
    assert command(client, doc["id"], "appraise", etag, officer, {"outcome": "eligible"}, status=409)[0]["state"] == "returned"
    doc, etag = attach(client, doc, etag, "khac", head)
    doc, etag = command(client, doc["id"], "submit", etag, head)

    # the unit's reports are all accepted now: the verdict changes by itself
    progress(accepted=5, final=True, sequence=2)
    doc = ok(client.get(f"/api/v1/nominations/{doc['id']}", headers=officer))
    assert checks(doc)["unit_reports_accepted"] is True and doc["eligible"] is True
    etag = client.get(f"/api/v1/nominations/{doc['id']}", headers=officer).headers["ETag"]
    doc, etag = command(client, doc["id"], "appraise", etag, officer, {"outcome": "eligible", "note": "Đủ điều kiện"})
    assert doc["state"] == "appraised" and doc["appraisal"]["outcome"] == "eligible" and doc["appraisal"]["late_by_working_days"] == 0
    assert [h["action"] for h in doc["history"]] == [
        "created",
        "attachment_added",
        "attachment_added",
        "attachment_added",
        "submit",
        "return",
        "attachment_added",
        "submit",
        "appraise",
    ]

    # each step published its event, in order, with the outbox of the same write
    stored = Nomination._get_collection().find_one({"_id": doc["id"]})
    types = [e["type"].split(".")[-2] for e in stored.get("outbox", [])]
    assert types == ["submitted", "returned", "submitted", "appraised"]  # no relay runs here: all still in the outbox


def test_precheck_reasons_holds_and_one_form(client, head, officer):
    prior = [{"title_code": "LDTT", "year": 2026, "counts_toward_merit": True}]
    first, etag = draft_with_dossier(client, head, individual("CSTDCS", nominee={**individual()["nominee"], "prior_titles": prior}))
    assert checks(first) == {"holds_title": True, "performance_at_least": True, "one_achievement_one_form": True}
    first, _ = command(client, first["id"], "submit", etag, head)

    # a second form for the same year's work: both dossiers now say so
    second, etag2 = draft_with_dossier(client, head, individual("GIAY_KHEN_CN"))
    second, etag2 = command(client, second["id"], "submit", etag2, head)
    assert checks(second)["one_achievement_one_form"] is False and "CSTDCS" in next(
        c["message"] for c in second["eligibility"]["checks"] if c["rule"] == "one_achievement_one_form"
    )
    first = ok(client.get(f"/api/v1/nominations/{first['id']}", headers=officer))
    assert checks(first)["one_achievement_one_form"] is False

    # thematic titles do not count toward merit
    thematic = [{"title_code": "LDTT", "year": 2026, "counts_toward_merit": False}]
    third = ok(
        client.post("/api/v1/nominations", json=individual("CSTDCS", year=2025, nominee={**individual()["nominee"], "person_key": "p2", "prior_titles": thematic}), headers=head),
        201,
    )
    assert third["year"] == 2025 and checks(third)["holds_title"] is False

    # a hold (inspection) fails the pre-check until lifted; appraising it eligible needs a reason
    hold = ok(client.post("/api/v1/nomination-holds", json={"nominee_key": "cccd-012345678901", "kind": "inspection", "reference": "12/QĐ-TTr"}, headers=officer), 201)
    assert hold["rechecked"] == 2
    second = ok(client.get(f"/api/v1/nominations/{second['id']}", headers=officer))
    assert second["eligibility"]["on_hold"] is True and checks(second)["hold"] is False
    refused = client.post(
        f"/api/v1/nominations/{second['id']}/appraise",
        json={"outcome": "eligible"},
        headers={**officer, "If-Match": client.get(f"/api/v1/nominations/{second['id']}", headers=officer).headers["ETag"]},
    )
    assert refused.status_code == 409 and set(refused.get_json()["failing"]) == {"hold", "one_achievement_one_form"}
    lifted = ok(client.post(f"/api/v1/nomination-holds/{hold['id']}/lift", json={}, headers=officer))
    assert lifted["active"] is False and lifted["rechecked"] == 2
    assert "hold" not in checks(ok(client.get(f"/api/v1/nominations/{second['id']}", headers=officer)))

    # ineligible needs its reasons
    etag = client.get(f"/api/v1/nominations/{second['id']}", headers=officer).headers["ETag"]
    assert command(client, second["id"], "appraise", etag, officer, {"outcome": "ineligible"}, status=422)[0]["errors"]["json"]["reasons"]
    second, _ = command(client, second["id"], "appraise", etag, officer, {"outcome": "ineligible", "reasons": ["Một thành tích chỉ được một hình thức"]})
    assert second["appraisal"]["reasons"] == ["Một thành tích chỉ được một hình thức"]


def test_overdue_appraisals_are_listed(client, head, officer, app):
    doc, etag = draft_with_dossier(client, head, individual())
    doc, _ = command(client, doc["id"], "submit", etag, head)
    with app.app_context():
        principal = type("P", (), {"unit_id": None, "sees_all_units": True, "has_any": lambda self, *r: True})()
        due = date.fromisoformat(doc["deadlines"]["appraisal_due"])
        assert [d.id for d in nominations.search(principal, {"overdue": True}, today=due)] == []
        assert [d.id for d in nominations.search(principal, {"overdue": True}, today=add_working_days(due, 1))] == [doc["id"]]
    assert ok(client.get("/api/v1/nominations?overdue=true", headers=officer))["total"] == 0  # not overdue today
    listed = ok(client.get("/api/v1/nominations?state=submitted", headers=officer))
    assert listed["total"] == 1 and listed["items"][0]["appraisal_working_days_left"] == 20


def test_the_list_follows_every_write_and_waits_for_a_journal_gap(client, head, officer, app):
    """The list is filtered from rows each process keeps in memory, caught up through the change
    journal (`adapters/nomination_listing.py`): a change made by any path (the API, a consumer's
    `_advance`) is listed at once, by this process and by another reading the same store; an
    entry whose writer has counted it but not written it yet is waited for, never skipped."""

    def listed(query: str, headers) -> list[tuple[str, str]]:
        return [(d["id"], d["state"]) for d in ok(client.get(f"/api/v1/nominations{query}", headers=headers))["items"]]

    doc, etag = draft_with_dossier(client, head, individual())
    assert listed("", head) == [(doc["id"], "draft")] and listed("", officer) == []  # a draft: its own unit only
    doc, _ = command(client, doc["id"], "submit", etag, head)
    assert listed("?state=submitted", officer) == [(doc["id"], "submitted")] and listed("?state=draft", head) == []
    etag = client.get(f"/api/v1/nominations/{doc['id']}", headers=officer).headers["ETag"]
    command(client, doc["id"], "appraise", etag, officer, {"outcome": "eligible", "override_reason": "Xác minh trực tiếp"})
    with app.app_context():
        db = Nomination._get_db()
        other_worker = nomination_listing._Listing()
        assert [(r.id, r.state) for r in other_worker.current(db)] == [(doc["id"], "appraised")]
        nominations.put_on_agenda("s1", [{"nomination_id": doc["id"], "item_id": "i1"}])  # as the consumer does
        assert [(r.id, r.state) for r in other_worker.current(db)] == [(doc["id"], "on_agenda")]
        assert listed("?state=on_agenda", officer) == [(doc["id"], "on_agenda")]

        seq = db[nomination_listing.CHANGES].find_one_and_update({"_id": "head"}, {"$inc": {"seq": 1}}, return_document=True)["seq"]
        Nomination._get_collection().update_one({"_id": doc["id"]}, {"$set": {"state": "approved"}})  # a writer between its two journal writes
        assert [(r.id, r.state) for r in other_worker.current(db)] == [(doc["id"], "on_agenda")]
        assert listed("?state=approved", officer) == []  # filtered by the row, which waits for the entry
        db[nomination_listing.CHANGES].insert_one({"_id": f"c:{seq}", "id": doc["id"]})
        assert [(r.id, r.state) for r in other_worker.current(db)] == [(doc["id"], "approved")]
    assert listed("?state=approved", officer) == [(doc["id"], "approved")]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title_code": "NOPE"}, "title_code"),
        ({"subject": "individual"}, "subject"),
        ({"movement_id": "unknown"}, "movement_id"),
        ({"kind": "sudden"}, "kind"),
        ({"nominee": {"unit_id": OTHER, "members_total": 3}}, "nominee.unit_id"),
        ({"nominee": {"unit_id": COMMUNE, "members_total": 3, "members_disciplined": 4}}, "nominee"),
        ({"nominee": {"unit_id": COMMUNE}, "owner": "x"}, "owner"),
        ({"nominee": {"unit_id": {"$ne": None}}}, "nominee"),
    ],
)
def test_bad_input_names_the_field(client, head, change, field):
    response = client.post("/api/v1/nominations", json=collective(**change), headers=head)
    assert response.status_code == 422, response.get_data(as_text=True)
    errors = response.get_json()["errors"]["json"]
    assert field.split(".")[0] in errors or field in errors


def test_roles_and_dossier_documents(client, head, as_role):
    reporter = as_role("unit_reporter", unit=COMMUNE)
    assert client.post("/api/v1/nominations", json=collective(), headers=reporter).status_code == 403
    assert client.post("/api/v1/nominations", json=collective()).status_code == 401
    doc, etag = draft_with_dossier(client, head, collective(), types=("to_trinh",))
    attachment = doc["attachments"][0]
    assert attachment["type"] == "to_trinh" and attachment["type_name"] == "Tờ trình đề nghị khen thưởng"
    got = client.get(f"/api/v1/nominations/{doc['id']}/attachments/{attachment['id']}", headers=head)
    assert got.status_code == 200 and got.data == PDF and got.headers["X-Content-Type-Options"] == "nosniff"
    html = client.post(
        f"/api/v1/nominations/{doc['id']}/attachments",
        data={"type": "to_trinh", "file": (io.BytesIO(b"<html><script>x</script>"), "to-trinh.pdf", "application/pdf")},
        headers={**head, "If-Match": etag},
        content_type="multipart/form-data",
    )
    assert html.status_code == 422 and "file" in html.get_json()["errors"]["files"]
    wrong_type = client.post(
        f"/api/v1/nominations/{doc['id']}/attachments",
        data={"type": "hack", "file": (io.BytesIO(PDF), "a.pdf", "application/pdf")},
        headers={**head, "If-Match": etag},
        content_type="multipart/form-data",
    )
    assert wrong_type.status_code == 422 and "type" in wrong_type.get_json()["errors"]["form"]
    other = as_role("unit_head", unit=OTHER)
    assert client.get(f"/api/v1/nominations/{doc['id']}/attachments/{attachment['id']}", headers=other).status_code == 404
    removed = client.delete(f"/api/v1/nominations/{doc['id']}/attachments/{attachment['id']}", headers={**head, "If-Match": etag})
    assert ok(removed)["attachments"] == []


# --- from appraisal to decision ----------------------------------------------------------

HANDLERS = {s.event_type: s.handler for s in own_events.subscriptions()}


def deliver(document, aggregate_id: str) -> int:
    """Hand the aggregate's unpublished events to this service's own consumer handlers, twice
    (a redelivery must change nothing)."""
    stored = document._get_collection().find_one({"_id": aggregate_id})
    delivered = 0
    for _ in range(2):
        for entry in stored.get("outbox") or ():
            handler = HANDLERS.get(entry["type"])
            if handler:
                event = Event.new(EventType(entry["type"], entry["topic"]), source=entry["source"], subject=entry["subject"], data=entry["data"], sequence=entry["sequence"])
                handler(event, HandlerContext(db=Nomination._get_db(), data=entry["data"], attempt=1))
                delivered += 1
    return delivered


def appraised(client, head, officer, body: dict) -> dict:
    doc, etag = draft_with_dossier(client, head, body)
    doc, _ = command(client, doc["id"], "submit", etag, head)
    etag = client.get(f"/api/v1/nominations/{doc['id']}", headers=officer).headers["ETag"]
    doc, _ = command(client, doc["id"], "appraise", etag, officer, {"outcome": "eligible", "override_reason": "Xác minh trực tiếp"})
    return doc


def decision_body(day: date, nomination_ids: list[str]) -> dict:
    return {
        "issuer": "Ủy ban nhân dân tỉnh Lai Châu",
        "issuer_name": "tỉnh Lai Châu",
        "place": "Lai Châu",
        "decision_date": day.isoformat(),
        "subject": "khen thưởng các tập thể, cá nhân có thành tích xuất sắc trong phong trào thi đua đặc biệt",
        "legal_bases": ["Căn cứ Luật Thi đua, khen thưởng ngày 15 tháng 6 năm 2022"],
        "proposed_by": "Trưởng phòng Nội vụ",
        "funding_source": "Quỹ thi đua, khen thưởng",
        "recipients": ["Như Điều 3", "Lưu: VT"],
        "signer": {"name": "Lê Văn Lương"},
        "movement_id": "mv-2023",
        "nomination_ids": nomination_ids,
    }


def test_from_appraisal_to_decision_and_revocation(client, head, officer, as_role, dev_keys):
    progress(accepted=5, final=True, sequence=1)
    team = appraised(client, head, officer, collective())
    person = appraised(client, head, officer, individual("LDTT"))
    draft = ok(client.post("/api/v1/nominations", json=individual("GIAY_KHEN_CN", nominee={**individual()["nominee"], "person_key": "p9"}), headers=head), 201)

    # the agenda takes appraised-eligible dossiers only, and votes on the appraised title
    council = ok(
        client.post(
            "/api/v1/councils",
            json={
                "name": "Hội đồng TĐKT",
                "issuer_id": "province",
                "members": [{"member_id": f"m{i}", "name": f"Thành viên {i}", "role": "chair" if i == 0 else "member"} for i in range(5)],
            },
            headers=officer,
        ),
        201,
    )
    agenda = [{"item_id": "a", "candidate": "Xã Bình Lư", "nomination_id": team["id"]}, {"item_id": "b", "candidate": "Lò Thị Mai", "nomination_id": person["id"]}]
    refused = client.post(
        "/api/v1/council-sessions",
        json={"council_id": council["id"], "date": local_today().isoformat(), "agenda": [*agenda, {"item_id": "c", "candidate": "x", "nomination_id": draft["id"]}]},
        headers=officer,
    )
    assert refused.status_code == 422 and "agenda.2.nomination_id" in refused.get_json()["errors"]["json"]
    session = ok(client.post("/api/v1/council-sessions", json={"council_id": council["id"], "date": local_today().isoformat(), "agenda": agenda}, headers=officer), 201)
    assert {i["item_id"]: i["title_code"] for i in session["agenda"]} == {"a": "TTLDTT", "b": "LDTT"}
    assert ok(client.get(f"/api/v1/nominations/{team['id']}", headers=officer))["state"] == "on_agenda"

    sid = session["id"]

    def session_command(verb: str, body: dict):
        etag = client.get(f"/api/v1/council-sessions/{sid}", headers=officer).headers["ETag"]
        return ok(client.post(f"/api/v1/council-sessions/{sid}/{verb}", json=body, headers={**officer, "If-Match": etag}))

    session_command("attendance", {"present": [f"m{i}" for i in range(5)]})
    session_command("open", {})
    for i in range(5):
        token = mint_token(dev_keys[0].read_bytes(), issuer=TEST_ISSUER, audience=TEST_AUDIENCE, roles=["council_member"], unit_id=None, subject=f"m{i}")
        for item, choice in (("a", "yes"), ("b", "yes" if i < 3 else "no")):  # b: 3/5 = 60 % < 80 %
            assert client.post(f"/api/v1/council-sessions/{sid}/ballots", json={"item_id": item, "choice": choice}, headers={"Authorization": f"Bearer {token}"}).status_code == 201
    session_command("close", {})
    assert deliver(CouncilSession, sid) == 4
    team = ok(client.get(f"/api/v1/nominations/{team['id']}", headers=officer))
    person = ok(client.get(f"/api/v1/nominations/{person['id']}", headers=officer))
    assert team["state"] == "approved" and team["council"]["yes"] == 5 and team["council"]["total_members"] == 5
    assert person["state"] == "rejected" and person["council"]["outcome"] == "not_passed"

    # only approved nominations are disclosed; the public list needs no token and shows no contacts
    bad = client.post("/api/v1/disclosures", json={"title": "Công khai", "nomination_ids": [person["id"]]}, headers=officer)
    assert bad.status_code == 422 and "nomination_ids.0" in bad.get_json()["errors"]["json"]
    opened = client.post("/api/v1/disclosures", json={"title": "Công khai danh sách đề nghị khen thưởng", "nomination_ids": [team["id"]]}, headers=officer)
    disclosure = ok(opened, 201)
    assert disclosure["closes"] == add_working_days(local_today(), 5).isoformat()
    public = ok(client.get(f"/api/v1/public/disclosures/{disclosure['id']}"))
    assert public["entries"] == [
        {
            "nomination_id": team["id"],
            "name": "Xã Bình Lư",
            "position": None,
            "unit_name": "Xã Bình Lư",
            "subject": "collective",
            "title_code": "TTLDTT",
            "title_name": public["entries"][0]["title_name"],
            "achievement": "Hoàn thành 17/17 chỉ tiêu của phong trào",
        }
    ]
    assert "objections" not in public and ok(client.get("/api/v1/public/disclosures?current=true"))["total"] == 1
    assert ok(client.get(f"/api/v1/nominations/{team['id']}", headers=officer))["state"] == "in_disclosure"

    # a decision waits for the window, then for pending objections
    during = client.post("/api/v1/decisions", json=decision_body(local_today(), [team["id"]]), headers=officer)
    assert during.status_code == 409 and "in disclosure until" in during.get_json()["detail"]
    etag = opened.headers["ETag"]
    objected = client.post(
        f"/api/v1/disclosures/{disclosure['id']}/objections",
        json={"nomination_id": team["id"], "content": "Số liệu chưa đúng", "source": "Công dân"},
        headers={**officer, "If-Match": etag},
    )
    objection = ok(objected)["objections"][0]
    after = date.fromisoformat(disclosure["closes"]) + timedelta(days=1)
    pending = client.post("/api/v1/decisions", json=decision_body(after, [team["id"]]), headers=officer)
    assert pending.status_code == 409 and "objections not resolved" in pending.get_json()["detail"]
    resolved = client.post(
        f"/api/v1/disclosures/{disclosure['id']}/objections/{objection['id']}/resolution",
        json={"status": "dismissed", "resolution": "Đã xác minh, số liệu đúng"},
        headers={**officer, "If-Match": objected.headers["ETag"]},
    )
    assert ok(resolved)["objections"][0]["status"] == "dismissed"
    decision = ok(client.post("/api/v1/decisions", json=decision_body(after, [team["id"]]), headers=officer), 201)
    assert [(a["name"], a["title_code"], a["nomination_id"]) for a in decision["awardees"]] == [("Xã Bình Lư", "TTLDTT", team["id"])]
    assert decision["movement_id"] == "mv-2023" and decision["awardees"][0]["amount"] > 0

    chairman = as_role("chairman")
    etag = client.get(f"/api/v1/decisions/{decision['id']}", headers=officer).headers["ETag"]
    issued = ok(client.post(f"/api/v1/decisions/{decision['id']}/issue", json={}, headers={**chairman, "If-Match": etag}))
    assert deliver(Decision, decision["id"]) == 2
    team = ok(client.get(f"/api/v1/nominations/{team['id']}", headers=officer))
    assert team["state"] == "decided" and team["decision"]["reference"] == issued["reference"] and team["decision"]["amount"] == issued["awardees"][0]["amount"]

    etag = client.get(f"/api/v1/decisions/{decision['id']}", headers=officer).headers["ETag"]
    revocation = {"reason": "Khai man thành tích", "legal_basis": {"number": "99/QĐ-UBND", "date": after.isoformat(), "issuer": "UBND tỉnh"}}
    ok(client.post(f"/api/v1/decisions/{decision['id']}/revocations", json=revocation, headers={**chairman, "If-Match": etag}), 201)
    deliver(Decision, decision["id"])
    assert ok(client.get(f"/api/v1/nominations/{team['id']}", headers=officer))["state"] == "revoked"
    assert [h["action"] for h in Nomination.objects(id=team["id"]).first().history][-5:] == ["put_on_agenda", "approve", "disclose", "decide", "revoke"]


def test_an_upheld_objection_rejects_the_nomination(client, head, officer):
    progress(accepted=5, final=True, sequence=1)
    team = appraised(client, head, officer, collective())
    Nomination._get_collection().update_one({"_id": team["id"]}, {"$set": {"state": "approved"}})  # as after a passing tally (tested above)
    opened = client.post("/api/v1/disclosures", json={"title": "Công khai", "nomination_ids": [team["id"]]}, headers=officer)
    disclosure = ok(opened, 201)
    objected = client.post(
        f"/api/v1/disclosures/{disclosure['id']}/objections",
        json={"nomination_id": team["id"], "content": "Đơn vị có cán bộ vi phạm"},
        headers={**officer, "If-Match": opened.headers["ETag"]},
    )
    objection = ok(objected)["objections"][0]
    upheld = client.post(
        f"/api/v1/disclosures/{disclosure['id']}/objections/{objection['id']}/resolution",
        json={"status": "upheld", "resolution": "Xác minh đúng"},
        headers={**officer, "If-Match": objected.headers["ETag"]},
    )
    ok(upheld)
    rejected = ok(client.get(f"/api/v1/nominations/{team['id']}", headers=officer))
    assert rejected["state"] == "rejected" and rejected["history"][-1]["reasons"] == ["Ý kiến phản ánh được xác minh đúng: Xác minh đúng"]
    again = client.post(
        f"/api/v1/disclosures/{disclosure['id']}/objections/{objection['id']}/resolution",
        json={"status": "dismissed", "resolution": "x"},
        headers={**officer, "If-Match": upheld.headers["ETag"]},
    )
    assert again.status_code == 409
