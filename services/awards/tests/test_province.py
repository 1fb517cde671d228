"""Province exchange over HTTP against the real store: approved nominations for forms the province
confers go out as one proposal (its export in the outbox, the nominations "proposed", a zip with
the dossier's documents), and the province's answer comes back through the HMAC-signed callback —
refused unsigned, stale or tampered, applied once however often it is delivered.

The registry's units are fed to this service's own handler (the copy it keeps), as in
test_nominations.py; the nominations reach "approved" by writing the state, as after a passing
tally (the council's path is tested there)."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import time
import zipfile

import mongoengine
import pytest
from tdkt.events.consumer import HandlerContext
from tdkt.events.envelope import Event, EventType
from tdkt.settings import SettingsError
from tdkt.web.app import create_app
from tdkt_awards.adapters.documents import Nomination
from tdkt_awards.adapters.province_documents import ProvinceProposal
from tdkt_awards.bootstrap import SERVICE
from tdkt_awards.service_layer import projections, province
from tdkt_awards.service_layer.catalogue import seed_default

COMMUNE, AGENCY = "u-binh-lu", "u-binh-lu-truong-mn"
SECRET = "s3cret-shared-with-the-province-0123456789"
CALLBACK = "/api/v1/province/callbacks"
DECISION = {"number": "1234", "symbol": "QĐ-UBND", "date": "2026-12-01", "issuer": "Ủy ban nhân dân tỉnh Lai Châu", "signed_by": "Lê Văn Lương"}


def unit(unit_id: str, name: str, parent: str | None = None) -> None:
    data = {"unit": {"name": name, "parent_id": parent, "kind": "commune"}}
    event = Event.new(EventType("vn.tdkt.registry.unit.established.v1", "registry.units.v1"), source="/test", subject=unit_id, data=data, sequence=1)
    projections.on_unit(event, HandlerContext(db=Nomination._get_db(), data=data, attempt=1))


@pytest.fixture
def app(service_env, monkeypatch):
    monkeypatch.setenv(province.SECRET_VARIABLE, SECRET)
    app = create_app(SERVICE)
    with app.app_context():
        seed_default("test")
        unit(COMMUNE, "Xã Bình Lư")
        unit(AGENCY, "Trường Mầm non Bình Lư", COMMUNE)
        yield app
    mongoengine.disconnect()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def head(as_role):
    return as_role("unit_head", unit=COMMUNE)


def collective(title: str, unit_id: str) -> dict:
    return {
        "kind": "annual",
        "year": 2026,
        "title_code": title,
        "subject": "collective",
        "nominee": {"unit_id": unit_id, "members_total": 20, "members_completed_tasks": 20, "members_with_titles": {"LDTT": 16}, "members_disciplined": 0},
        "achievement": "Hoàn thành xuất sắc nhiệm vụ năm 2026",
    }


def individual(title: str) -> dict:
    nominee = {"name": "Lò Thị Mai", "unit_id": AGENCY, "position": "Giáo viên", "gender": "female", "performance": "excellent", "person_key": "cccd-012345678901"}
    return {"kind": "annual", "year": 2026, "title_code": title, "subject": "individual", "nominee": nominee, "achievement": "Giáo viên dạy giỏi cấp tỉnh"}


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def pdf(label: str) -> bytes:
    return f"%PDF-1.4\n% {label}\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n".encode()


def approved(client, head, officer, body: dict, state: str = "approved") -> dict:
    """Drafted with its three documents (each different bytes), submitted, appraised, then
    approved as after a passing tally."""
    created = client.post("/api/v1/nominations", json=body, headers=head)
    doc, etag = ok(created, 201), created.headers["ETag"]
    for doc_type in ("to_trinh", "bao_cao_thanh_tich", "bien_ban_binh_xet"):
        files = {"type": doc_type, "file": (io.BytesIO(pdf(f"{body['title_code']} {doc_type}")), f"{doc_type} năm 2026.pdf", "application/pdf")}
        uploaded = client.post(f"/api/v1/nominations/{doc['id']}/attachments", data=files, headers={**head, "If-Match": etag}, content_type="multipart/form-data")
        doc, etag = ok(uploaded, 201), uploaded.headers["ETag"]
    submitted = client.post(f"/api/v1/nominations/{doc['id']}/submit", json={}, headers={**head, "If-Match": etag})
    ok(submitted)
    etag = client.get(f"/api/v1/nominations/{doc['id']}", headers=officer).headers["ETag"]
    ok(client.post(f"/api/v1/nominations/{doc['id']}/appraise", json={"outcome": "eligible", "override_reason": "Xác minh trực tiếp"}, headers={**officer, "If-Match": etag}))
    council = {"session_id": "s1", "item_id": doc["id"], "yes": 5, "no": 0, "abstain": 0, "ballots": 5, "total_members": 5, "outcome": "passed"}
    Nomination._get_collection().update_one({"_id": doc["id"]}, {"$set": {"state": state, "council": council}})
    return ok(client.get(f"/api/v1/nominations/{doc['id']}", headers=officer))


def nomination(nomination_id: str) -> dict:
    return Nomination._get_collection().find_one({"_id": nomination_id})


def outbox_types(collection, doc_id: str) -> list[str]:
    return [e["type"] for e in collection.find_one({"_id": doc_id}).get("outbox") or ()]


def signed(body: dict | bytes, delivery: str, secret: str = SECRET, timestamp: int | None = None) -> tuple[bytes, dict]:
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    headers = {"Content-Type": "application/json", "X-TDKT-Timestamp": stamp, "X-TDKT-Delivery": delivery, "X-TDKT-Signature": province.sign(secret, stamp, delivery, raw)}
    return raw, headers


def callback(client, body: dict | bytes, delivery: str, **kwargs):
    raw, headers = signed(body, delivery, **kwargs)
    return client.post(CALLBACK, data=raw, headers=headers)


def proposed(client, head, officer) -> tuple[dict, dict, dict]:
    team = approved(client, head, officer, collective("BANG_KHEN_TINH_TT", COMMUNE))
    school = approved(client, head, officer, collective("TTLDXS", AGENCY), state="in_disclosure")
    sent = ok(client.post("/api/v1/province-proposals", json={"nomination_ids": [team["id"], school["id"]]}, headers=officer), 201)
    return sent, team, school


def test_proposal_export_and_zip(client, head, officer, as_role):
    team = approved(client, head, officer, collective("BANG_KHEN_TINH_TT", COMMUNE))
    school = approved(client, head, officer, collective("TTLDXS", AGENCY), state="in_disclosure")
    teacher = approved(client, head, officer, individual("LDTT"))

    # a form the commune confers itself is not sent; the field names the nomination; nothing was sent
    local = client.post("/api/v1/province-proposals", json={"nomination_ids": [team["id"], teacher["id"]]}, headers=officer)
    assert local.status_code == 422 and list(local.get_json()["errors"]["json"]) == ["nomination_ids.1"]
    assert "commune_chair" in local.get_json()["errors"]["json"]["nomination_ids.1"][0]
    assert client.post("/api/v1/province-proposals", json={"nomination_ids": [team["id"]]}, headers=head).status_code == 403
    assert client.post("/api/v1/province-proposals", json={"nomination_ids": [team["id"]], "note": "x"}, headers=officer).status_code == 422
    assert ProvinceProposal.objects.count() == 0 and nomination(team["id"])["state"] == "approved"

    created = client.post("/api/v1/province-proposals", json={"nomination_ids": [team["id"], school["id"]]}, headers=officer)
    sent = ok(created, 201)
    assert created.headers["Location"] == f"/api/v1/province-proposals/{sent['id']}" and sent["state"] == "sent"
    for nid in (team["id"], school["id"]):
        stored = nomination(nid)
        assert stored["state"] == "proposed" and stored["province"]["proposal_id"] == sent["id"]
        assert outbox_types(Nomination._get_collection(), nid)[-1] == "vn.tdkt.awards.nomination.proposed.v1"
        assert stored["history"][-1]["action"] == "propose"

    # the export: what the province needs, as sent, and the same as the event's payload
    export = sent["export"]
    assert export["id"] == sent["id"] and [n["id"] for n in export["nominations"]] == [team["id"], school["id"]]
    first = export["nominations"][0]
    assert first["title"] == {"code": "BANG_KHEN_TINH_TT", "name": first["title"]["name"], "kind": "form", "award_type": "merit", "conferred_by": "provincial_chair"}
    assert first["nominee"]["name"] == "Xã Bình Lư" and first["achievement"] == "Hoàn thành xuất sắc nhiệm vụ năm 2026"
    assert first["council"]["yes"] == 5 and first["appraisal"]["outcome"] == "eligible" and "checks" in first["eligibility"]
    assert [d["sha256"] for d in first["documents"]] == [a["sha256"] for a in team["attachments"]]
    assert {d["path"] for d in first["documents"]} == {f"{team['id']}/{t}-{t} năm 2026.pdf" for t in ("to_trinh", "bao_cao_thanh_tich", "bien_ban_binh_xet")}
    assert "person_key" not in json.dumps(export)
    stored = ProvinceProposal._get_collection().find_one({"_id": sent["id"]})
    assert [e["type"] for e in stored["outbox"]] == ["vn.tdkt.awards.province_proposal.sent.v1"]
    assert stored["outbox"][0]["topic"] == "awards.nominations.v1" and stored["outbox"][0]["data"] == {"proposal": export}

    # a nomination goes to the province once
    again = client.post("/api/v1/province-proposals", json={"nomination_ids": [team["id"]]}, headers=officer)
    assert again.status_code == 409 and ProvinceProposal.objects.count() == 1

    assert ok(client.get(f"/api/v1/province-proposals/{sent['id']}", headers=as_role("integration")))["export"] == export
    listed = ok(client.get("/api/v1/province-proposals?state=sent", headers=officer))
    assert listed["total"] == 1 and listed["items"][0]["id"] == sent["id"] and "export" not in listed["items"][0]
    assert client.get("/api/v1/province-proposals", headers=head).status_code == 403
    assert client.get("/api/v1/province-proposals/nope", headers=officer).status_code == 404

    # the zip: proposal.json and every document, byte for byte what the dossier recorded
    response = client.get(f"/api/v1/province-proposals/{sent['id']}/export.zip", headers=officer)
    assert response.status_code == 200 and response.mimetype == "application/zip" and response.headers["Cache-Control"] == "private, no-store"
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    assert json.loads(archive.read("proposal.json")) == export
    documents = [d for n in export["nominations"] for d in n["documents"]]
    assert sorted(archive.namelist()) == sorted(["proposal.json", *(d["path"] for d in documents)]) and len(documents) == 6
    for document in documents:
        assert hashlib.sha256(archive.read(document["path"])).hexdigest() == document["sha256"]
    assert client.get(f"/api/v1/province-proposals/{sent['id']}/export.zip", headers=officer).get_data() == response.get_data()  # the same zip every time


def test_the_province_decides_once_however_often_it_calls(client, head, officer):
    sent, team, school = proposed(client, head, officer)
    body = {
        "proposal_id": sent["id"],
        "decisions": [
            {"nomination_id": team["id"], "outcome": "approved", "decision": DECISION},
            {"nomination_id": school["id"], "outcome": "rejected", "reason": "Chưa đủ tỷ lệ thành viên đạt danh hiệu"},
        ],
    }
    first = callback(client, body, "dlv-1")
    answer = ok(first)
    assert answer == {
        "proposal_id": sent["id"],
        "delivery_id": "dlv-1",
        "state": "answered",
        "nominations": [
            {"nomination_id": team["id"], "outcome": "approved", "state": "decided"},
            {"nomination_id": school["id"], "outcome": "rejected", "state": "rejected"},
        ],
    }
    decided, rejected = nomination(team["id"]), nomination(school["id"])
    assert decided["state"] == "decided" and decided["decision"] == {
        "by_province": True,
        "proposal_id": sent["id"],
        "reference": "1234/QĐ-UBND",
        **DECISION,
    }
    assert rejected["state"] == "rejected" and rejected["history"][-1]["reasons"] == ["Chưa đủ tỷ lệ thành viên đạt danh hiệu"]
    assert decided["history"][-1]["by"] == "province" and decided["history"][-1]["delivery_id"] == "dlv-1"
    assert outbox_types(Nomination._get_collection(), team["id"])[-1] == "vn.tdkt.awards.nomination.decided.v1"
    assert outbox_types(Nomination._get_collection(), school["id"])[-1] == "vn.tdkt.awards.nomination.rejected.v1"
    proposal = ok(client.get(f"/api/v1/province-proposals/{sent['id']}", headers=officer))
    assert proposal["state"] == "answered" and [a["nomination_id"] for a in proposal["answers"]] == [team["id"], school["id"]]

    # the same delivery again (re-signed, the same body): the first answer, no second effect
    histories = {nid: len(nomination(nid)["history"]) for nid in (team["id"], school["id"])}
    outboxes = {nid: len(nomination(nid)["outbox"]) for nid in (team["id"], school["id"])}
    again = callback(client, body, "dlv-1")
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true" and again.get_json() == answer
    assert {nid: len(nomination(nid)["history"]) for nid in histories} == histories
    assert {nid: len(nomination(nid)["outbox"]) for nid in outboxes} == outboxes

    # the same delivery id with another body: refused, nothing changes
    other = {**body, "decisions": body["decisions"][:1]}
    reused = callback(client, other, "dlv-1")
    assert reused.status_code == 409 and reused.mimetype == "application/problem+json"
    # a new delivery repeating an answer already applied is accepted and changes nothing; a contrary one is a 409
    assert ok(callback(client, other, "dlv-2"))["nominations"][0]["state"] == "decided"
    contrary = {"proposal_id": sent["id"], "decisions": [{"nomination_id": team["id"], "outcome": "rejected", "reason": "Đổi ý"}]}
    assert callback(client, contrary, "dlv-3").status_code == 409
    assert {nid: len(nomination(nid)["history"]) for nid in histories} == histories


def test_unsigned_stale_or_tampered_callbacks_are_refused(client, head, officer, app):
    sent, team, _ = proposed(client, head, officer)
    body = {"proposal_id": sent["id"], "decisions": [{"nomination_id": team["id"], "outcome": "approved", "decision": DECISION}]}

    def refused(response, status: int = 401) -> dict:
        assert response.status_code == status and response.mimetype == "application/problem+json", response.get_data(as_text=True)
        problem = response.get_json()
        assert " / " in problem["detail"]  # bilingual
        return problem

    raw, headers = signed(body, "d-missing")
    for name in ("X-TDKT-Timestamp", "X-TDKT-Delivery", "X-TDKT-Signature"):
        refused(client.post(CALLBACK, data=raw, headers={k: v for k, v in headers.items() if k != name}))
    assert "WWW-Authenticate" in client.post(CALLBACK, data=raw, headers={"Content-Type": "application/json"}).headers
    refused(callback(client, body, "d-wrong-key", secret="not-the-shared-secret-0123456789abcdef"))
    raw, headers = signed(body, "d-tampered")
    refused(client.post(CALLBACK, data=raw.replace(b"1234", b"9999"), headers=headers))
    raw, headers = signed(body, "d-bad-stamp")
    refused(client.post(CALLBACK, data=raw, headers={**headers, "X-TDKT-Timestamp": "soon"}))
    stale = refused(callback(client, body, "d-stale", timestamp=int(time.time()) - province.REPLAY_WINDOW_S - 5))
    assert "300" in stale["detail"]
    refused(callback(client, body, "d-future", timestamp=int(time.time()) + province.REPLAY_WINDOW_S + 5))
    # a bearer token is no substitute for the signature
    raw, headers = signed(body, "d-bearer")
    refused(client.post(CALLBACK, data=raw, headers={"Content-Type": "application/json", **officer}))

    # signed but wrong: a nomination not in the proposal, an unknown field, an approval without its decision
    unknown = refused(callback(client, {**body, "decisions": [{**body["decisions"][0], "nomination_id": "nope"}]}, "d-unknown"), 422)
    assert list(unknown["errors"]["json"]) == ["decisions.0.nomination_id"]
    refused(callback(client, {**body, "extra": 1}, "d-extra"), 422)
    refused(callback(client, {**body, "decisions": [{"nomination_id": team["id"], "outcome": "approved"}]}, "d-no-act"), 422)
    refused(callback(client, {**body, "proposal_id": "nope"}, "d-no-proposal"), 422)

    # nothing happened; only signed deliveries were recorded; the shared Idempotency-Key kept nothing
    assert nomination(team["id"])["state"] == "proposed" and ProvinceProposal.objects(id=sent["id"]).first().state == "sent"
    db = app.extensions["tdkt"].db
    assert sorted(d["_id"] for d in db["province_deliveries"].find()) == ["d-extra", "d-no-act", "d-no-proposal", "d-unknown"]
    raw, headers = signed(body, "d-keyed")
    keyed = ok(client.post(CALLBACK, data=raw, headers={**headers, "Idempotency-Key": "k-1"}))
    assert keyed["state"] == "sent" and keyed["nominations"][0]["state"] == "decided"  # the other nomination has no answer yet
    assert db["idempotency_keys"].count_documents({}) == 0


def test_the_callback_needs_a_configured_secret_outside_development(service_env, monkeypatch):
    monkeypatch.setenv("TDKT_ENV", "production")
    monkeypatch.delenv(province.SECRET_VARIABLE, raising=False)
    app = create_app(SERVICE)
    try:
        raw, headers = signed({"proposal_id": "p", "decisions": []}, "d-1", secret=province.DEV_SECRET)
        response = app.test_client().post(CALLBACK, data=raw, headers=headers)
        assert response.status_code == 503 and province.SECRET_VARIABLE in response.get_json()["detail"]
    finally:
        mongoengine.disconnect()


def test_settings_and_the_signature_recipe():
    assert province.load_province_settings({"TDKT_ENV": "test"}) == province.ProvinceSettings(("commune_chair",), province.DEV_SECRET.encode())
    assert province.load_province_settings({}).secret is None  # TDKT_ENV unset: no default key
    assert province.load_province_settings({province.LOCAL_CONFERRERS_VARIABLE: "commune_chair, provincial_chair"}).local_conferrers == ("commune_chair", "provincial_chair")
    with pytest.raises(SettingsError) as bad:
        province.load_province_settings({province.LOCAL_CONFERRERS_VARIABLE: "mayor", province.SECRET_VARIABLE: "short"})
    assert province.LOCAL_CONFERRERS_VARIABLE in str(bad.value) and province.SECRET_VARIABLE in str(bad.value)
    # the recipe a provincial system follows (README): HMAC-SHA256 of "<timestamp>.<delivery>." + body
    body = b'{"proposal_id": "p"}'
    expected = hmac.new(SECRET.encode(), b"1767225600.d-1." + body, hashlib.sha256).hexdigest()
    assert province.sign(SECRET, 1767225600, "d-1", body) == f"sha256={expected}"
    province.verify(SECRET.encode(), "1767225600", "d-1", f"sha256={expected}", body, now=1767225600 + 299)
    with pytest.raises(province.SignatureRejected):
        province.verify(SECRET.encode(), "1767225600", "d-1", f"sha256={expected}", body, now=1767225600 + 301)
