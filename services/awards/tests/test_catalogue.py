"""The rule catalogue over HTTP: the shipped defaults, versions per issuer and date, audited
edits, the bonus worked examples of domain.md, and the working-day calendar."""

from __future__ import annotations

from datetime import date

import mongoengine
import pytest
from tdkt.web.app import create_app
from tdkt_awards.adapters.documents import CatalogueVersion
from tdkt_awards.bootstrap import SERVICE
from tdkt_awards.domain import bonus
from tdkt_awards.domain.calendar import add_working_days, working_days_between
from tdkt_awards.service_layer.catalogue import seed_default, verify_audit

ISSUER = "Ủy ban nhân dân tỉnh Lai Châu"


@pytest.fixture
def catalogue_client(service_env):
    app = create_app(SERVICE)
    with app.app_context():
        seed_default("test")
    yield app.test_client()
    mongoengine.disconnect()


@pytest.fixture
def headers(make_token):
    return lambda *roles: {"Authorization": f"Bearer {make_token(*roles)}"}


def problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def test_bonus_worked_examples():
    assert bonus.amount("0.3", 2_530_000) == 760_000  # LĐTT: 759,000 rounded up
    assert bonus.amount("1.0", 2_530_000) == 2_530_000  # CSTĐCS
    assert bonus.amount("8", 2_530_000) == 20_240_000  # Cờ thi đua tỉnh
    assert bonus.amount("0.3", 2_340_000) == 710_000  # LĐTT at the 2024 base salary: 702,000 rounded up
    assert bonus.amount("0.3", 2_340_000, household=True) == 1_070_000  # 1.5 × 710,000 = 1,065,000 rounded up
    assert isinstance(bonus.amount("0.3", 2_530_000), int)
    assert bonus.highest_only({"LDTT": 760_000, "CSTDCS": 2_530_000}) == ("CSTDCS", 2_530_000)


def test_working_days_skip_weekends_and_tet():
    assert add_working_days(date(2026, 11, 27), 1) == date(2026, 11, 30)  # Friday → Monday
    # Tết 2026: 16–20 February are public holidays; 5 working days from Friday 13 February
    assert add_working_days(date(2026, 2, 13), 5) == date(2026, 2, 27)
    assert working_days_between(date(2026, 2, 13), date(2026, 2, 27)) == 5


def test_defaults_in_force_and_quotes(catalogue_client, headers):
    reader = headers("unit_head")
    in_force = catalogue_client.get("/api/v1/catalogue/in-force", query_string={"issuer": ISSUER, "date": "2026-11-29"}, headers=reader).get_json()
    assert in_force["status"] == "active" and any(t["code"] == "CSTDCS" for t in in_force["content"]["titles"])
    for title, day, expected in (
        ("LDTT", "2026-11-29", 760_000),
        ("CSTDCS", "2026-11-29", 2_530_000),
        ("LDTT", "2025-12-01", 710_000),
        ("CO_THI_DUA_TINH", "2026-11-29", 20_240_000),
    ):
        quote = catalogue_client.get("/api/v1/bonus/quote", query_string={"issuer": ISSUER, "title": title, "date": day}, headers=reader).get_json()
        assert quote["amount"] == expected, quote
    assert quote["working"] == "8 × 2.530.000 đ, làm tròn lên 10.000 đ = 20.240.000 đ"
    assert catalogue_client.get("/api/v1/bonus/quote", query_string={"issuer": ISSUER, "title": "GIA_DINH_VAN_HOA", "date": "2026-11-29"}, headers=reader).get_json()["amount"] == 0
    assert (
        "title"
        in problem(catalogue_client.get("/api/v1/bonus/quote", query_string={"issuer": ISSUER, "title": "NOPE", "date": "2026-11-29"}, headers=reader), 422)["errors"]["json"]
    )
    problem(catalogue_client.get("/api/v1/catalogue/in-force", query_string={"issuer": ISSUER, "date": "2020-01-01"}, headers=reader), 404)
    with catalogue_client.application.app_context():  # the seed is idempotent
        assert "nothing changed" in seed_default("test")


def test_a_new_version_is_drafted_edited_with_audit_and_activated(catalogue_client, headers):
    officer = headers("tdkt_officer")
    created = catalogue_client.post(
        "/api/v1/catalogue/versions",
        json={
            "issuer": ISSUER,
            "effective_from": "2027-01-01",
            "legal_basis": {"number": "05/2026/QĐ-UBND", "issuer": ISSUER, "date": "2026-12-15"},
            "copy_from": "default-2025-07-01",
        },
        headers=officer,
    )
    assert created.status_code == 201, created.get_json()
    version = created.get_json()
    url = f"/api/v1/catalogue/versions/{version['id']}"
    content = version["content"]
    content["base_salaries"].append({"since": "2027-01-01", "amount": 2_800_000})
    content["quotas"]["enabled"] = True
    etag = catalogue_client.get(url, headers=officer).headers["ETag"]
    edited = catalogue_client.put(f"{url}/content", json={"content": content}, headers=officer | {"If-Match": etag})
    assert edited.status_code == 200, edited.get_json()
    audit = edited.get_json()["audit"]
    assert [a["action"] for a in audit] == ["created", "edited"]
    assert {c["path"] for c in audit[-1]["changes"]} == {"base_salaries", "quotas.enabled"}  # a list that grew is recorded whole

    bad = dict(content, titles=[dict(content["titles"][0], coefficient="-1")])
    assert (
        "titles.0.coefficient"
        in problem(catalogue_client.put(f"{url}/content", json={"content": bad}, headers=officer | {"If-Match": edited.headers["ETag"]}), 422)["errors"]["json"]
    )
    problem(catalogue_client.put(f"{url}/content", json={"content": content}, headers=officer | {"If-Match": etag}), 412)
    problem(catalogue_client.post(f"{url}/activate", json={}, headers=officer), 428)
    activated = catalogue_client.post(f"{url}/activate", json={}, headers=officer | {"If-Match": edited.headers["ETag"]})
    assert activated.get_json()["status"] == "active"
    problem(catalogue_client.put(f"{url}/content", json={"content": content}, headers=officer | {"If-Match": activated.headers["ETag"]}), 409)  # active versions are frozen

    quote = catalogue_client.get("/api/v1/bonus/quote", query_string={"issuer": ISSUER, "title": "LDTT", "date": "2027-03-01"}, headers=officer).get_json()
    assert quote["catalogue_version"] == version["id"] and quote["amount"] == 840_000  # 0.3 × 2,800,000
    doc = CatalogueVersion.objects.get(id=version["id"])
    assert verify_audit(doc) and [e["type"] for e in doc.outbox] == ["vn.tdkt.awards.catalogue.activated.v1"]
    doc.audit[1]["by"] = "someone else"
    assert not verify_audit(doc)

    problem(
        catalogue_client.post(
            "/api/v1/catalogue/versions", json={"issuer": ISSUER, "effective_from": "2027-01-01", "legal_basis": {"number": "x", "issuer": ISSUER}}, headers=headers("unit_head")
        ),
        403,
    )
    assert (
        "effective_from"
        in problem(
            catalogue_client.post(
                "/api/v1/catalogue/versions", json={"issuer": ISSUER, "effective_from": "31/12/2026", "legal_basis": {"number": "x", "issuer": ISSUER}}, headers=officer
            ),
            422,
        )["errors"]["json"]
    )
