"""Award decisions over HTTP against the real store: bonus computed from the catalogue in force
on the decision date, gapless unique numbers under concurrent issuance, immutability, and
revocation recording the money to recover."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import mongoengine
import pytest
from tdkt.auth.tokens import mint_token
from tdkt.web.app import create_app
from tdkt_awards.adapters.documents import Decision
from tdkt_awards.bootstrap import SERVICE
from tdkt_awards.service_layer.catalogue import seed_default
from tdkt_localstack.pytest_plugin import TEST_AUDIENCE, TEST_ISSUER

ISSUER = "Ủy ban nhân dân tỉnh Lai Châu"


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
def as_(dev_keys):
    return lambda subject, *roles: {
        "Authorization": f"Bearer {mint_token(dev_keys[0].read_bytes(), issuer=TEST_ISSUER, audience=TEST_AUDIENCE, roles=list(roles), unit_id=None, subject=subject)}"
    }


def body(day: str = "2026-11-29", **overrides) -> dict:
    return {
        "issuer": ISSUER,
        "issuer_name": "tỉnh Lai Châu",
        "place": "Lai Châu",
        "decision_date": day,
        "subject": "khen thưởng các tập thể, cá nhân có thành tích xuất sắc",
        "legal_bases": ["Căn cứ Luật Thi đua, khen thưởng ngày 15 tháng 6 năm 2022", "Căn cứ Nghị định số 152/2025/NĐ-CP của Chính phủ"],
        "proposed_by": "Giám đốc Sở Nội vụ",
        "funding_source": "Quỹ thi đua, khen thưởng của tỉnh",
        "recipients": ["Như Điều 3", "Lưu: VT, NV"],
        "signer": {"name": "Lê Văn Lương", "title": "CHỦ TỊCH"},
        "awardees": [
            {
                "subject": "individual",
                "name": "Lò Thị Mai",
                "position": "Công chức",
                "unit_name": "UBND xã Bình Lư",
                "title_code": "LDTT",
                "period": "2026",
                "direct_worker": True,
                "gender": "female",
            },
            {"subject": "individual", "name": "Lò Thị Mai", "position": "Công chức", "unit_name": "UBND xã Bình Lư", "title_code": "CSTDCS", "period": "2026"},
            {"subject": "collective", "name": "UBND xã Bình Lư", "title_code": "CO_THI_DUA_TINH"},
            {"subject": "household", "name": "Hộ ông Vàng A Sử", "title_code": "LDTT"},
        ],
    } | overrides


def problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def test_bonus_highest_only_and_totals(client, as_):
    officer = as_("officer", "tdkt_officer")
    draft = client.post("/api/v1/decisions", json=body(), headers=officer)
    assert draft.status_code == 201, draft.get_json()
    amounts = [(a["title_code"], a["amount"]) for a in draft.get_json()["awardees"]]
    assert amounts == [("LDTT", 0), ("CSTDCS", 2_530_000), ("CO_THI_DUA_TINH", 20_240_000), ("LDTT", 1_140_000)]  # LĐTT 760,000 not paid twice; household 1.5 × 760,000
    totals = draft.get_json()["totals"]
    assert totals["total_amount"] == 2_530_000 + 20_240_000 + 1_140_000 and totals["direct_worker_share"] == 0.5
    at_2025 = client.post("/api/v1/decisions", json=body("2025-12-01", awardees=[body()["awardees"][0]]), headers=officer).get_json()
    assert at_2025["awardees"][0]["amount"] == 710_000  # the base salary in force then: 2,340,000
    assert "title" in problem(client.post("/api/v1/decisions", json=body(awardees=[{**body()["awardees"][0], "title_code": "NOPE"}]), headers=officer), 422)["errors"]["json"]
    assert (
        "awardees.0.subject"
        in problem(client.post("/api/v1/decisions", json=body(awardees=[{**body()["awardees"][0], "title_code": "CO_THI_DUA_TINH"}]), headers=officer), 422)["errors"]["json"]
    )


def test_twenty_decisions_issued_at_once_get_gapless_unique_numbers(client, as_, app):
    officer, chairman = as_("officer", "tdkt_officer"), as_("chu-tich", "chairman")
    ids = [client.post("/api/v1/decisions", json=body(awardees=[body()["awardees"][2]]), headers=officer).get_json()["id"] for _ in range(20)]
    etags = {i: client.get(f"/api/v1/decisions/{i}", headers=officer).headers["ETag"] for i in ids}

    def issue(decision_id: str) -> int:
        local = app.test_client()
        response = local.post(f"/api/v1/decisions/{decision_id}/issue", json={}, headers=chairman | {"If-Match": etags[decision_id]})
        assert response.status_code == 200, response.get_json()
        return response.get_json()["number"]

    with ThreadPoolExecutor(max_workers=20) as pool:
        numbers = list(pool.map(issue, ids))
    assert sorted(numbers) == list(range(1, 21))
    assert [e["type"] for d in Decision.objects(id__in=ids) for e in d.outbox] == ["vn.tdkt.awards.decision.issued.v1"] * 20


def test_issued_decisions_are_immutable_and_revocation_is_a_new_act(client, as_):
    officer, chairman = as_("officer", "tdkt_officer"), as_("chu-tich", "chairman")
    draft = client.post("/api/v1/decisions", json=body(), headers=officer)
    url = f"/api/v1/decisions/{draft.get_json()['id']}"
    etag = client.get(url, headers=officer).headers["ETag"]
    problem(client.post(f"{url}/issue", json={}, headers=officer | {"If-Match": etag}), 403)  # officers draft, the chairman signs
    problem(client.post(f"{url}/issue", json={}, headers=chairman), 428)
    issued = client.post(f"{url}/issue", json={}, headers=chairman | {"If-Match": etag})
    assert issued.status_code == 200 and issued.get_json()["reference"] == f"{issued.get_json()['number']}/QĐ-UBND"
    problem(client.put(url, json=body(), headers=officer | {"If-Match": issued.headers["ETag"]}), 409)
    problem(client.post(f"{url}/issue", json={}, headers=chairman | {"If-Match": issued.headers["ETag"]}), 409)

    household = next(a for a in issued.get_json()["awardees"] if a["subject"] == "household")
    revoked = client.post(
        f"{url}/revocations",
        json={"reason": "Kê khai không trung thực", "legal_basis": {"number": "99/QĐ-UBND", "issuer": ISSUER, "date": "2026-12-20"}, "awardee_ids": [household["awardee_id"]]},
        headers=chairman | {"If-Match": issued.headers["ETag"]},
    )
    assert revoked.status_code == 201, revoked.get_json()
    assert revoked.get_json()["revocations"][0]["money_to_recover"] == 1_140_000
    assert revoked.get_json()["awardees"] == issued.get_json()["awardees"], "the issued decision itself is unchanged"
    problem(
        client.post(
            f"{url}/revocations",
            json={"reason": "x", "legal_basis": {"number": "1", "issuer": ISSUER}, "awardee_ids": [household["awardee_id"]]},
            headers=chairman | {"If-Match": revoked.headers["ETag"]},
        ),
        409,
    )
    doc = Decision.objects.get(id=draft.get_json()["id"])
    assert [e["type"] for e in doc.outbox] == ["vn.tdkt.awards.decision.issued.v1", "vn.tdkt.awards.award.revoked.v1"]
    problem(client.get(url, headers=as_("u", "unit_head")), 403)


def test_the_issued_decision_document_opens_and_lists_the_awardees(client, as_):
    import io

    import docx

    officer, chairman = as_("officer", "tdkt_officer"), as_("chu-tich", "chairman")
    draft = client.post("/api/v1/decisions", json=body(), headers=officer).get_json()
    url = f"/api/v1/decisions/{draft['id']}"
    issued = client.post(f"{url}/issue", json={}, headers=chairman | {"If-Match": client.get(url, headers=officer).headers["ETag"]}).get_json()
    response = client.get(f"{url}/document.docx", headers=officer)
    assert response.status_code == 200 and response.mimetype.endswith("wordprocessingml.document")
    document = docx.Document(io.BytesIO(response.data))
    text = "\n".join([p.text for p in document.paragraphs] + [c.text for t in document.tables for r in t.rows for c in r.cells])
    assert f"Số: {issued['number']:02d}/QĐ-UBND" in text
    for name in ("Lò Thị Mai", "UBND xã Bình Lư", "Hộ ông Vàng A Sử", "Lê Văn Lương"):
        assert name in text, name
    assert "20.240.000" in text and "Căn cứ Nghị định số 152/2025/NĐ-CP của Chính phủ" in text


def test_a_number_reserved_by_a_dead_issuer_is_never_lost_nor_given_twice(client, as_, app):
    from datetime import UTC, datetime, timedelta

    officer, chairman = as_("officer", "tdkt_officer"), as_("chu-tich", "chairman")
    db = app.extensions["tdkt"].db

    def draft_and_issue() -> int:
        decision = client.post("/api/v1/decisions", json=body(awardees=[body()["awardees"][2]]), headers=officer).get_json()
        url = f"/api/v1/decisions/{decision['id']}"
        issued = client.post(f"{url}/issue", json={}, headers=chairman | {"If-Match": client.get(url, headers=officer).headers["ETag"]})
        assert issued.status_code == 200, issued.get_json()
        return issued.get_json()["number"]

    assert draft_and_issue() == 1
    key = f"{ISSUER}:2026"
    long_ago = datetime.now(UTC) - timedelta(minutes=5)
    # an issuer died after reserving number 2, before its decision took it: the number stays free
    db.decision_numbers.update_one({"_id": key}, {"$set": {"pending": {"decision_id": "dead", "number": 2, "at": long_ago}}})
    assert draft_and_issue() == 2
    # an issuer died after its decision took number 3, before confirming: 3 is not given again
    third = draft_and_issue()
    assert third == 3
    db.decision_numbers.update_one({"_id": key}, {"$set": {"next": 3, "pending": {"decision_id": Decision.objects.get(number=3).id, "number": 3, "at": long_ago}}})
    assert draft_and_issue() == 4
