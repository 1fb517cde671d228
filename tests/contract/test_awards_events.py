"""What the awards service emits validates against the contract: the default catalogue loaded
and a second version activated, a council session opened, voted in secret and closed, and a
decision issued and revoked — each event checked in its wire form."""

from __future__ import annotations

from datetime import date

import mongoengine
from tdkt.auth.tokens import mint_token
from tdkt.web.app import create_app
from tdkt_awards.bootstrap import SERVICE
from tdkt_awards.service_layer import catalogue
from tdkt_localstack.pytest_plugin import TEST_AUDIENCE, TEST_ISSUER

from .test_asyncapi import outbox_problems


def test_every_event_the_awards_service_writes_validates(service_env, dev_keys):
    app = create_app(SERVICE)
    client = app.test_client()

    def as_(subject: str, *roles: str) -> dict:
        return {"Authorization": f"Bearer {mint_token(dev_keys[0].read_bytes(), issuer=TEST_ISSUER, audience=TEST_AUDIENCE, roles=list(roles), unit_id=None, subject=subject)}"}

    officer = as_("officer", "tdkt_officer")
    try:
        with app.app_context():
            catalogue.seed_default("test")
            draft = catalogue.create_version(
                {
                    "issuer": "Ủy ban nhân dân xã Bình Lư",
                    "effective_from": "2026-01-01",
                    "legal_basis": {"number": "01/QĐ-UBND", "issuer": "UBND xã Bình Lư", "date": None},
                    "copy_from": "default-2025-07-01",
                },
                "test",
            )
            catalogue.activate(draft.id, "test", lambda d: None)

        members = [{"member_id": f"m{i}", "name": f"Thành viên {i}", "role": "chair" if i == 0 else "member"} for i in range(5)]
        council = client.post("/api/v1/councils", json={"name": "Hội đồng TĐKT xã", "issuer_id": "commune", "members": members}, headers=officer).get_json()
        agenda = [
            {"item_id": "a", "candidate": "Xã Bình Lư", "title_code": "CO_THI_DUA_TINH", "threshold": 0.8},
            {"item_id": "b", "candidate": "Nguyễn Văn A", "title_code": "CSTDCS"},
        ]
        session = client.post(
            "/api/v1/council-sessions", json={"council_id": council["id"], "date": date.today().isoformat(), "agenda": agenda, "quota_groups": []}, headers=officer
        ).get_json()
        url = f"/api/v1/council-sessions/{session['id']}"

        def command(path: str, body: dict) -> None:
            etag = client.get(url, headers=officer).headers["ETag"]
            response = client.post(f"{url}/{path}", json=body, headers=officer | {"If-Match": etag})
            assert response.status_code == 200, response.get_json()

        command("attendance", {"present": [m["member_id"] for m in members]})
        command("open", {})
        for i, member in enumerate(members):
            role = "council_chair" if i == 0 else "council_member"
            for item, choice in (("a", "yes"), ("b", "yes" if i < 3 else "no")):
                assert client.post(f"{url}/ballots", json={"item_id": item, "choice": choice}, headers=as_(member["member_id"], role)).status_code == 201
        command("close", {})

        decision = {
            "issuer": "Ủy ban nhân dân tỉnh Lai Châu",
            "issuer_name": "tỉnh Lai Châu",
            "place": "Lai Châu",
            "decision_date": "2026-11-29",
            "subject": "khen thưởng",
            "legal_bases": ["Căn cứ Luật Thi đua, khen thưởng"],
            "proposed_by": "Giám đốc Sở Nội vụ",
            "funding_source": "Quỹ thi đua, khen thưởng",
            "recipients": ["Lưu: VT"],
            "signer": {"name": "Lê Văn Lương"},
            "awardees": [
                {"subject": "individual", "name": "Lò Thị Mai", "title_code": "LDTT", "direct_worker": True},
                {"subject": "collective", "name": "UBND xã Bình Lư", "title_code": "GIAY_KHEN_TT"},
            ],
        }
        drafted = client.post("/api/v1/decisions", json=decision, headers=officer).get_json()
        url = f"/api/v1/decisions/{drafted['id']}"
        chairman = as_("chu-tich", "chairman")
        issued = client.post(f"{url}/issue", json={}, headers=chairman | {"If-Match": client.get(url, headers=officer).headers["ETag"]})
        assert issued.status_code == 200, issued.get_json()
        revoked = client.post(
            f"{url}/revocations", json={"reason": "Sai sót", "legal_basis": {"number": "2/QĐ-UBND", "issuer": "UBND tỉnh"}}, headers=chairman | {"If-Match": issued.headers["ETag"]}
        )
        assert revoked.status_code == 201, revoked.get_json()
        problems, seen = outbox_problems(app.extensions["tdkt"].db, SERVICE.outbox_collections)
    finally:
        mongoengine.disconnect()
    assert not problems, "\n".join(problems)
    assert seen == {
        "vn.tdkt.awards.catalogue.activated.v1": 2,
        "vn.tdkt.awards.council_session.opened.v1": 1,
        "vn.tdkt.awards.council_session.closed.v1": 1,
        "vn.tdkt.awards.ballot.tallied.v1": 2,
        "vn.tdkt.awards.decision.issued.v1": 1,
        "vn.tdkt.awards.award.revoked.v1": 1,
    }


def test_every_nomination_event_validates(service_env, as_role):
    """A nomination submitted, returned, resubmitted, appraised, approved by a tally, disclosed,
    decided and revoked, and another rejected: every event in its wire form against the contract."""
    from io import BytesIO

    from tdkt.events.consumer import HandlerContext
    from tdkt.events.envelope import Event, EventType
    from tdkt_awards.service_layer import own_events, projections

    app = create_app(SERVICE)
    client = app.test_client()
    officer, head = as_role("tdkt_officer"), as_role("unit_head", unit="u-commune")
    pdf = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"

    def feed(handler, type_: str, topic: str, subject: str, data: dict) -> None:
        handler(Event.new(EventType(type_, topic), source="/test", subject=subject, data=data, sequence=1), HandlerContext(db=app.extensions["tdkt"].db, data=data, attempt=1))

    def command(nid: str, verb: str, body: dict, headers: dict) -> dict:
        url = f"/api/v1/nominations/{nid}"
        response = client.post(f"{url}/{verb}", json=body, headers=headers | {"If-Match": client.get(url, headers=officer if verb != "submit" else headers).headers["ETag"]})
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def nominated(person_key: str, title: str = "LDTT") -> str:
        body = {
            "kind": "annual",
            "year": 2026,
            "title_code": title,
            "subject": "individual",
            "nominee": {"name": "Lò Thị Mai", "unit_id": "u-commune", "performance": "good", "person_key": person_key, "direct_worker": True},
            "achievement": "Hoàn thành tốt nhiệm vụ",
        }
        created = client.post("/api/v1/nominations", json=body, headers=head)
        assert created.status_code == 201, created.get_json()
        nid, etag = created.get_json()["id"], created.headers["ETag"]
        for doc_type in ("to_trinh", "bao_cao_thanh_tich", "bien_ban_binh_xet"):
            uploaded = client.post(
                f"/api/v1/nominations/{nid}/attachments",
                data={"type": doc_type, "file": (BytesIO(pdf), "a.pdf", "application/pdf")},
                headers=head | {"If-Match": etag},
                content_type="multipart/form-data",
            )
            assert uploaded.status_code == 201, uploaded.get_json()
            etag = uploaded.headers["ETag"]
        command(nid, "submit", {}, head)
        return nid

    try:
        with app.app_context():
            catalogue.seed_default("test")
            feed(projections.on_unit, "vn.tdkt.registry.unit.established.v1", "registry.units.v1", "u-commune", {"unit": {"name": "Xã Bình Lư", "kind": "commune"}})
            kept, dropped, upward = nominated("p1"), nominated("p2"), nominated("p3", "BANG_KHEN_TINH_CN")
            command(kept, "return", {"reasons": ["Thiếu chữ ký"]}, officer)
            command(kept, "submit", {}, head)
            for nid in (kept, dropped, upward):
                command(nid, "appraise", {"outcome": "eligible"}, officer)
            tally = {"item_id": "a", "yes": 5, "no": 0, "abstain": 0, "ballots": 5, "total_members": 5, "threshold": 0.8, "rank": None}
            own_events.nominations.apply_tally("s1", tally | {"nomination_id": kept, "outcome": "passed"})
            own_events.nominations.apply_tally("s1", tally | {"nomination_id": dropped, "outcome": "not_passed", "item_id": "b"})
            own_events.nominations.apply_tally("s1", tally | {"nomination_id": upward, "outcome": "passed", "item_id": "c"})
            proposed = client.post("/api/v1/province-proposals", json={"nomination_ids": [upward]}, headers=officer)  # the province confers it
            assert proposed.status_code == 201, proposed.get_json()
            disclosed = client.post("/api/v1/disclosures", json={"title": "Công khai", "nomination_ids": [kept]}, headers=officer)
            assert disclosed.status_code == 201, disclosed.get_json()
            awardee = {"awardee_id": "x1", "nomination_id": kept, "amount": 760000}
            own_events.nominations.apply_decision({"id": "d1", "reference": "1/QĐ-UBND", "decision_date": "2026-12-10", "awardees": [awardee]})
            own_events.nominations.apply_revocation({"revocation": {"id": "r1", "reason": "Sai sót"}, "awardees": [awardee]})
        problems, seen = outbox_problems(app.extensions["tdkt"].db, ["nominations", "disclosures", "province_proposals"])
    finally:
        mongoengine.disconnect()
    assert not problems, "\n".join(problems)
    prefix = "vn.tdkt.awards."
    assert {k.removeprefix(prefix): v for k, v in seen.items()} == {
        "nomination.submitted.v1": 4,
        "nomination.returned.v1": 1,
        "nomination.appraised.v1": 3,
        "nomination.approved.v1": 2,
        "nomination.proposed.v1": 1,
        "province_proposal.sent.v1": 1,
        "nomination.rejected.v1": 1,
        "nomination.decided.v1": 1,
        "nomination.revoked.v1": 1,
        "disclosure.opened.v1": 1,
    }
