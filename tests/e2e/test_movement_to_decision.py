"""Across the four services, through Kafka, with every process real: the registry launches a
movement (notify mails the plan to the participants) → the commune's final report is submitted and
accepted in reports → awards learns the unit's progress and the nomination's pre-check turns green
→ appraisal → council secret ballot → the tally moves the nomination on (awards consumes its own
topic) → disclosure → the chairman issues the decision → DecisionIssued on Kafka → the nomination
is decided, and notify announces the decision publicly and mails it, with its .docx, to the unit.
At the end, every record the run put on the services' topics validates against its message in
`contracts/asyncapi.yaml` (`tdkt_localstack.contract.kafka_problems`)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
import requests
from kafka import KafkaConsumer
from tdkt.auth.tokens import mint_token
from tdkt.clock import local_today
from tdkt.services import service_named
from tdkt_localstack.contract import end_offsets, kafka_problems
from tdkt_localstack.pytest_plugin import TEST_AUDIENCE, TEST_ISSUER
from tdkt_localstack.testing import wait_until

LEGAL = {"number": "15/KH-UBND", "date": "2026-01-05", "issuer": "Ủy ban nhân dân tỉnh Lai Châu"}
PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"


def records(topic: str, bootstrap: str, key: str) -> list[tuple[str, dict]]:
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None, consumer_timeout_ms=1500)
    try:
        return [(dict(r.headers)["ce_type"].decode(), json.loads(r.value)) for r in consumer if r.key and r.key.decode() == key]
    finally:
        consumer.close()


class Client:
    def __init__(self, base: str):
        self.base = base

    def get(self, path: str, headers: dict, **params) -> requests.Response:
        return requests.get(f"{self.base}{path}", headers=headers, params=params, timeout=30)

    def post(self, path: str, body: dict, headers: dict, etag_of: str | None = None, status: tuple[int, ...] = (200, 201)) -> dict:
        extra = {"If-Match": self.get(etag_of, headers).headers["ETag"]} if etag_of else {}
        response = requests.post(f"{self.base}{path}", json=body, headers=headers | extra, timeout=30)
        assert response.status_code in status, response.text
        return response.json()


@pytest.mark.services("registry", "reports", "awards", "notify")
def test_a_movement_ends_in_an_issued_decision(system, dev_keys, servers, smtp_server):
    def auth(*roles: str, unit: str | None = None, subject: str = "e2e-user") -> dict:
        token = mint_token(dev_keys[0].read_bytes(), issuer=TEST_ISSUER, audience=TEST_AUDIENCE, roles=list(roles), unit_id=unit, subject=subject)
        return {"Authorization": f"Bearer {token}"}

    topics = [t.name for name in system.services for t in service_named(name).topics]
    start = end_offsets(servers.kafka_bootstrap, topics)  # the Kafka is shared: check only what this test produces

    officer, chairman = auth("tdkt_officer"), auth("chairman")
    registry, reports, awards = Client(system.url("registry")), Client(system.url("reports")), Client(system.url("awards"))
    system.tdkt("awards", "seed-catalogue")
    system.tdkt("notify", "seed-routes")
    today = local_today()

    # registry: a commune and a movement with one final report, due in 5 days
    province = registry.post("/units", {"code": "12", "name": "Tỉnh Lai Châu", "kind": "province"}, officer)["units"][0]["id"]
    commune = registry.post(
        "/units",
        {"code": "03390", "name": "Xã Bình Lư", "kind": "commune", "parent_id": province, "valid_from": "2025-07-01", "contacts": {"email": "ubnd.binhlu@laichau.gov.vn"}},
        officer,
    )["units"][0]["id"]
    movement = registry.post(
        "/movements",
        {
            "title": "Thi đua đặc biệt chào mừng kỷ niệm thành lập tỉnh",
            "organiser_id": province,
            "period_start": (today - timedelta(days=20)).isoformat(),
            "period_end": (today + timedelta(days=5)).isoformat(),
            "content_areas": [{"key": "kinh-te", "title": "Kinh tế"}],
            "criteria": [{"key": "giai-ngan", "area": "kinh-te", "name": "Giải ngân đầu tư công", "unit_of_measure": "%", "target": 95, "value_type": "percent"}],
            "schedule": {"final_due": (today + timedelta(days=5)).isoformat()},
            "participants": {"selector": "communes_of", "selector_id": province},
            "legal_basis": LEGAL,
        },
        officer,
    )["id"]
    # notify must know the commune's address before the launch it mails (its consumer may still be replaying the shared units topic)
    wait_until(lambda: (system.db("notify").unit_views.find_one({"_id": commune}) or {}).get("contacts"), timeout=240, message="notify's copy of the commune")
    registry.post(f"/movements/{movement}/launch", {}, officer, etag_of=f"/movements/{movement}")

    # reports: the commune's final report, submitted by its head and accepted
    reporter, head = auth("unit_reporter", unit=commune), auth("unit_head", unit=commune)
    found = wait_until(lambda: reports.get("/reports", reporter, movement_id=movement).json().get("items"), timeout=240, message="the final report's period")
    report = f"/reports/{found[0]['id']}"
    etag = reports.get(report, reporter).headers["ETag"]
    saved = requests.put(
        f"{reports.base}{report}/draft", json={"narrative": "Giải ngân 97%", "values": {"giai-ngan": {"value": 97, "unit": "%"}}}, headers=reporter | {"If-Match": etag}, timeout=30
    )
    assert saved.status_code == 200, saved.text
    reports.post(f"{report}/submit", {}, head, etag_of=report)
    reports.post(f"{report}/accept", {"comment": "Đạt"}, officer, etag_of=report)

    # awards: once it has the registry's copies, the commune's head nominates the commune
    nomination = {
        "kind": "movement",
        "movement_id": movement,
        "title_code": "TTLDTT",
        "subject": "collective",
        "nominee": {"unit_id": commune, "members_total": 24, "members_completed_tasks": 24, "members_with_titles": {"LDTT": 20}, "members_disciplined": 0, "direct_worker": False},
        "achievement": "Hoàn thành vượt mức chỉ tiêu giải ngân (97%)",
    }

    def drafted():
        response = requests.post(f"{awards.base}/nominations", json=nomination, headers=head, timeout=30)
        return response.json() if response.status_code == 201 else None

    nid = wait_until(drafted, timeout=240, message="awards has copied the unit and the movement")["id"]
    url = f"/nominations/{nid}"
    for doc_type in ("to_trinh", "bao_cao_thanh_tich", "bien_ban_binh_xet"):
        etag = awards.get(url, head).headers["ETag"]
        uploaded = requests.post(
            f"{awards.base}{url}/attachments", data={"type": doc_type}, files={"file": (f"{doc_type}.pdf", PDF, "application/pdf")}, headers=head | {"If-Match": etag}, timeout=30
        )
        assert uploaded.status_code == 201, uploaded.text
    awards.post(f"{url}/submit", {}, head, etag_of=url)

    def green():
        checks = {c["rule"]: c["ok"] for c in awards.get(url, officer).json()["eligibility"]["checks"]}
        return checks if checks.get("unit_reports_accepted") else None

    checks = wait_until(green, timeout=240, message="the accepted report reaches the nomination's pre-check")
    assert all(checks.values()), checks
    awards.post(f"{url}/appraise", {"outcome": "eligible"}, officer, etag_of=url)

    # the council: five members, a secret ballot, the tally moves the nomination on through Kafka
    members = [{"member_id": f"m{i}", "name": f"Thành viên {i}", "role": "chair" if i == 0 else "member"} for i in range(5)]
    council = awards.post("/councils", {"name": "Hội đồng TĐKT", "issuer_id": "province", "members": members}, officer)["id"]
    session = awards.post(
        "/council-sessions", {"council_id": council, "date": today.isoformat(), "agenda": [{"item_id": "a", "candidate": "Xã Bình Lư", "nomination_id": nid}]}, officer
    )["id"]
    awards.post(f"/council-sessions/{session}/attendance", {"present": [m["member_id"] for m in members]}, officer, etag_of=f"/council-sessions/{session}")
    awards.post(f"/council-sessions/{session}/open", {}, officer, etag_of=f"/council-sessions/{session}")
    for member in members:
        awards.post(f"/council-sessions/{session}/ballots", {"item_id": "a", "choice": "yes"}, auth("council_member", subject=member["member_id"]))
    awards.post(f"/council-sessions/{session}/close", {}, officer, etag_of=f"/council-sessions/{session}")
    wait_until(lambda: awards.get(url, officer).json()["state"] == "approved", timeout=60, message="the tally approves the nomination")

    # disclosure, then the decision after its window, issued by the chairman
    disclosure = awards.post("/disclosures", {"title": "Công khai danh sách đề nghị khen thưởng", "nomination_ids": [nid], "working_days": 1}, officer)
    assert awards.get(f"/public/disclosures/{disclosure['id']}", {}).json()["entries"][0]["name"] == "Xã Bình Lư"
    day = date.fromisoformat(disclosure["closes"]) + timedelta(days=1)
    decision = awards.post(
        "/decisions",
        {
            "issuer": "Ủy ban nhân dân tỉnh Lai Châu",
            "issuer_name": "tỉnh Lai Châu",
            "place": "Lai Châu",
            "decision_date": day.isoformat(),
            "subject": "khen thưởng tập thể có thành tích xuất sắc trong phong trào thi đua đặc biệt",
            "legal_bases": ["Căn cứ Luật Thi đua, khen thưởng ngày 15 tháng 6 năm 2022"],
            "proposed_by": "Giám đốc Sở Nội vụ",
            "funding_source": "Quỹ thi đua, khen thưởng của tỉnh",
            "recipients": ["Như Điều 3", "Lưu: VT, NV"],
            "signer": {"name": "Lê Văn Lương"},
            "movement_id": movement,
            "nomination_ids": [nid],
        },
        officer,
    )
    issued = awards.post(f"/decisions/{decision['id']}/issue", {}, chairman, etag_of=f"/decisions/{decision['id']}")
    assert issued["state"] == "issued" and issued["awardees"][0]["nomination_id"] == nid and issued["awardees"][0]["amount"] > 0

    bootstrap = servers.kafka_bootstrap
    published = wait_until(lambda: records("awards.decisions.v1", bootstrap, decision["id"]) or None, timeout=30, message="DecisionIssued on Kafka")
    assert [t for t, _ in published] == ["vn.tdkt.awards.decision.issued.v1"] and published[0][1]["decision"]["reference"] == issued["reference"]
    decided = wait_until(lambda: (n := awards.get(url, officer).json())["state"] == "decided" and n, timeout=60, message="the decision reaches the nomination")
    assert decided["decision"]["reference"] == issued["reference"] and decided["decision"]["amount"] == issued["awardees"][0]["amount"]
    steps = wait_until(lambda: [t.split(".")[-2] for t, _ in records("awards.nominations.v1", bootstrap, nid)] or None, timeout=30, message="the nomination's events")
    assert steps == ["submitted", "appraised", "approved", "decided"]

    # notify: the plan reached the commune when the movement was launched; the decision is public and mailed with its document
    def mail(prefix: str):
        return next((m for m in smtp_server.messages() if m["Subject"].startswith(prefix)), None)

    plan = wait_until(lambda: mail("Phát động phong trào"), timeout=240, message="the movement's plan mailed to the commune")
    assert plan["To"] == "ubnd.binhlu@laichau.gov.vn" and "Giải ngân đầu tư công: 95" in plan.get_body(("plain",)).get_content()
    decision_mail = wait_until(lambda: mail(f"Quyết định số {issued['reference']}"), timeout=60, message="the decision mailed to the awarded unit")
    [document] = [part for part in decision_mail.iter_attachments()]
    assert document.get_filename().endswith(".docx") and document.get_content().startswith(b"PK")
    notify = Client(system.url("notify"))
    public = wait_until(lambda: notify.get("/announcements", {}).json()["items"] or None, timeout=30, message="the public announcement")
    assert public[0]["title"].startswith(f"Quyết định số {issued['reference']}")

    # every event that went over Kafka in this run validates against its message in the contract
    problems, seen = kafka_problems(bootstrap, topics, start)
    assert not problems, "\n".join(problems)
    main = ["registry.unit.established", "registry.movement.launched", "reports.report.submitted", "reports.report.accepted", "reports.movement_progress.updated"]
    main += ["awards.nomination.submitted", "awards.nomination.appraised", "awards.council_session.opened", "awards.council_session.closed", "awards.ballot.tallied"]
    main += ["awards.nomination.approved", "awards.disclosure.opened", "awards.decision.issued", "awards.nomination.decided"]
    missing = [name for name in main if f"vn.tdkt.{name}.v1" not in seen]
    assert not missing, f"not seen on Kafka: {missing} (seen: {dict(seen)})"
