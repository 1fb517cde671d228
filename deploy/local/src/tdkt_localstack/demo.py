"""`make demo`: the 2023 Tam Đường plan replayed through the four services over Kafka, as people
would through the APIs, with a short story of what happened and where to look.

The seeded 2023 movement (loaded by `make up`) keeps its 2023 calendar, so nothing in it is still
open; the replay launches the same plan — its eight content areas, seventeen criteria and award
forms — on today's calendar (the monthly reports of past months are late, this month's and the
final one on time), with the units that succeeded the 2023 participants in the 2025 reform (the
registry's lineage). Then, in order: registrations → reports (evidence attached; some late; one
final report returned, corrected and accepted; one unit whose final report is never accepted) →
the deadline check's reminders → nominations of collectives and individuals, some direct workers
→ appraisal (one returned for completion, one ineligible with its reasons) → a council session
with a secret ballot → disclosure → the decision issued at the base salary in force on its date →
its .docx and certificates → emails and a signed webhook delivered → the aggregated report in
Excel. `tests/e2e/test_demo.py` runs the same scenario (`run`) against the test system.

    python -m tdkt_localstack demo        # against `make up`; files under var/demo/
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests
from tdkt.clock import local_today

from tdkt_localstack.testing import wait_until

PROVINCE_CODE, ISSUER = "12", "Ủy ban nhân dân tỉnh Lai Châu"
SEED_MOVEMENT = "tam-duong-2023-thi-dua-dac-biet"
PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
LEGAL = {"number": "96/KH-UBND", "date": "2023-06-09", "issuer": "Ủy ban nhân dân huyện Tam Đường"}


@dataclass
class Context:
    """What the scenario needs from the system it runs against."""

    urls: dict[str, str]  # service → base URL of its /api/v1
    token: Callable[..., str]  # token(*roles, unit=None, subject=None)
    run: Callable[..., str]  # run(service, *args): an operator command, its output
    mails: Callable[[], list]  # the messages the mail catcher holds
    out: Path  # where the generated files go
    say: Callable[[str], None] = print
    today: date = field(default_factory=local_today)  # Vietnam's date, as the services count


class Api:
    def __init__(self, base: str, ctx: Context):
        self.base, self.ctx = base, ctx

    def headers(self, roles: tuple[str, ...], unit: str | None, subject: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.ctx.token(*roles, unit=unit, subject=subject)}"}

    def get(self, path: str, *roles: str, unit: str | None = None, subject: str | None = None, **params) -> requests.Response:
        response = requests.get(f"{self.base}{path}", headers=self.headers(roles or ("tdkt_officer",), unit, subject), params=params, timeout=60)
        if response.status_code >= 400:
            raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:500]}")
        return response

    def send(self, method: str, path: str, body: Any, *roles: str, unit: str | None = None, subject: str | None = None, etag_of: str | None = None, **kwargs) -> dict:
        headers = self.headers(roles or ("tdkt_officer",), unit, subject)
        if etag_of:
            headers["If-Match"] = self.get(etag_of, *roles, unit=unit, subject=subject).headers["ETag"]
        response = requests.request(method, f"{self.base}{path}", json=body, headers=headers, timeout=60, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json() if response.content else {}

    def post(self, path: str, body: Any, *roles: str, **kwargs) -> dict:
        return self.send("POST", path, body, *roles, **kwargs)


# --- a webhook subscriber of the demo's own ------------------------------------------------------


class Receiver:
    """A provincial system's endpoint: verifies each delivery's signature and keeps it."""

    def __init__(self) -> None:
        self.secret, self.received, self.bad = "", [], 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                stamp, delivery = self.headers.get("X-TDKT-Timestamp", ""), self.headers.get("X-TDKT-Delivery", "")
                expected = "sha256=" + hmac.new(receiver.secret.encode(), f"{stamp}.{delivery}.".encode() + body, hashlib.sha256).hexdigest()
                ok = hmac.compare_digest(expected, self.headers.get("X-TDKT-Signature", ""))
                if ok:
                    receiver.received.append((self.headers.get("X-TDKT-Event"), delivery, json.loads(body)))
                else:
                    receiver.bad += 1
                self.send_response(200 if ok else 401)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/tdkt-events"

    def stop(self) -> None:
        self.server.shutdown()


# --- the scenario ------------------------------------------------------------------------------------


def run(ctx: Context) -> dict[str, Any]:
    """The whole story; returns what happened (for the test) and prints it (for people)."""
    registry, reports, awards, notify = (Api(ctx.urls[s], ctx) for s in ("registry", "reports", "awards", "notify"))
    ctx.out.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {}
    step = _stepper(ctx.say)

    step("Kế hoạch 2023 / the 2023 plan, as the registry holds it")
    seed = registry.get(f"/movements/{SEED_MOVEMENT}").json()
    ctx.say(
        f"  “{seed['title'][:90]}…”: {len(seed['content_areas'])} nội dung, {len(seed['criteria'])} tiêu chí, {len(seed['participant_ids'])} đơn vị tham gia (as of {seed['period_start']})"
    )
    successors = _successors(registry, seed["participant_ids"])
    ctx.say(f"  → {len(seed['participant_ids'])} đơn vị năm 2023 nay là {len(successors)} đơn vị sau sắp xếp 2025 (the registry's lineage)")
    summary["units_2023"], summary["successors"] = len(seed["participant_ids"]), len(successors)
    for unit_id, unit in successors.items():
        if not (unit.get("contacts") or {}).get("email"):
            email = f"ubnd.{unit['code']}@laichau.gov.vn"
            registry.send("PATCH", f"/units/{unit_id}", {"contacts": {"email": email}}, etag_of=f"/units/{unit_id}")

    step("Phát động lại theo lịch hôm nay / the plan launched again on today's calendar")
    movement = _replay_movement(registry, seed, list(successors), ctx.today)
    summary["movement_id"] = movement["id"]
    ctx.say(f"  {movement['id']}: {movement['period_start']} → {movement['period_end']}, {len(movement['due_dates'])} kỳ báo cáo, {len(movement['participant_ids'])} đơn vị")

    featured = sorted(successors, key=lambda u: successors[u]["name"])[:3]
    a, b, c = featured
    names = {u: successors[u]["name"] for u in successors}
    step(f"Đăng ký thi đua / registrations: {', '.join(names[u] for u in featured)}")
    targets = {k["key"]: k["target"] for k in movement["criteria"]}
    for unit in featured:
        registry.post(f"/movements/{movement['id']}/registrations", {"targets": targets, "titles": ["Giấy khen của Chủ tịch UBND huyện"]}, "unit_head", unit=unit)

    step("Báo cáo tiến độ / progress reports (evidence attached; past months late)")
    periods = wait_until(lambda: _periods(reports, movement["id"], featured), timeout=300, message="the reporting periods opened by the reports service")
    late = on_time = 0
    for unit in featured:
        for report in periods[unit]:
            if report["period"] == "final" and unit == c:
                _report(reports, report, unit, movement["criteria"], submit=True)  # submitted, never accepted
                continue
            result = _report(reports, report, unit, movement["criteria"], submit=True)
            late, on_time = late + result["late"], on_time + (not result["late"])
            if report["period"] == "final" and unit == a:
                reports.post(f"/reports/{report['id']}/return", {"comment": "Bổ sung số liệu giải ngân quý III"}, etag_of=f"/reports/{report['id']}")
                ctx.say(f"  {names[a]}: báo cáo tổng kết bị trả lại để bổ sung, đã sửa và nộp lại / final report returned, corrected, resubmitted")
                _report(reports, report, unit, movement["criteria"], submit=True, narrative="Đã bổ sung số liệu giải ngân quý III")
            reports.post(f"/reports/{report['id']}/accept", {"comment": "Đạt"}, etag_of=f"/reports/{report['id']}")
    ctx.say(f"  {late} báo cáo nộp muộn, {on_time} đúng hạn / late and on time; {names[c]}: báo cáo tổng kết chưa được chấp nhận")
    summary["reports_late"], summary["reports_on_time"] = late, on_time

    step("Nhắc hạn / reminders (the deadline check the reports relay runs periodically)")
    output = ctx.run("reports", "check-deadlines")
    ctx.say("  " + output.strip().splitlines()[-1] if output.strip() else "  (no output)")

    step("Đề nghị khen thưởng / nominations (collectives and individuals, direct workers)")
    nominations = _nominate(awards, movement["id"], a, b, c, names)
    summary["nominations"] = len(nominations)

    step("Thẩm định / appraisal")
    appraised = _appraise(awards, nominations, ctx.say)
    summary.update(appraised)

    step("Hội đồng TĐKT, bỏ phiếu kín / the council, secret ballot")
    eligible = [n for n in nominations.values() if n["id"] in appraised["eligible_ids"]]
    tally = _council(awards, eligible, ctx.today)
    ctx.say(f"  {len(eligible)} nội dung, {tally['members']} thành viên; đạt / passed: {tally['passed']}")

    step("Công khai / disclosure, then the decision")
    receiver = Receiver()
    try:
        hook = awards_hook = notify.post(
            "/subscriptions",
            {
                "owner": "unit",
                "unit_id": a,
                "channel": "webhook",
                "url": receiver.url,
                "scope": "all",
                "event_types": ["vn.tdkt.awards.decision.issued.v1", "vn.tdkt.awards.disclosure.opened.v1"],
            },
            "tdkt_officer",
        )
        receiver.secret = hook["secret"]
        approved = wait_until(lambda: _states(awards, eligible, "approved"), timeout=60, message="the tally reaching the nominations")
        disclosure = awards.post(
            "/disclosures", {"title": "Công khai danh sách đề nghị khen thưởng phong trào thi đua đặc biệt", "nomination_ids": approved, "working_days": 1}, "tdkt_officer"
        )
        ctx.say(f"  công khai đến hết {disclosure['closes']}: {len(disclosure['entries'])} tập thể, cá nhân — {ctx.urls['awards']}/public/disclosures/{disclosure['id']}")
        decision = _decide(awards, movement["id"], approved, date.fromisoformat(disclosure["closes"]) + timedelta(days=1))
        summary["decision"] = decision
        ctx.say(
            f"  Quyết định số {decision['reference']} ngày {decision['decision_date']}: {decision['totals']['awardees']} khen thưởng, tổng {decision['totals']['total_amount']:,} đ"
            f" (người lao động trực tiếp: {decision['totals']['direct_workers']}/{decision['totals']['individuals']} cá nhân)".replace(",", ".")
        )
        files = _documents(awards, decision, ctx.out)
        summary["files"] = files

        step("Thông báo / notifications: emails, the webhook, the public list")
        wait_until(lambda: any(e == "vn.tdkt.awards.decision.issued.v1" for e, _, _ in receiver.received), timeout=90, message="the signed webhook with the decision")
        mails = wait_until(lambda: _decision_mails(ctx.mails(), decision["reference"]) or None, timeout=90, message="the decision emailed to the awarded units")
        summary["webhooks"], summary["bad_signatures"] = [e for e, _, _ in receiver.received], receiver.bad
        summary["mails"] = len(ctx.mails())
        ctx.say(
            f"  webhook: {len(receiver.received)} sự kiện có chữ ký hợp lệ / signed deliveries verified ({', '.join(sorted({e.split('.')[-2] for e, _, _ in receiver.received}))})"
        )
        ctx.say(f"  email: {summary['mails']} thư trong hộp thư thử / in the mail catcher, {len(mails)} mang quyết định kèm tệp .docx / carry the decision")
        announcements = notify.get("/announcements").json()["items"]
        summary["announcements"] = len(announcements)
        ctx.say(f"  công khai / public: {ctx.urls['notify']}/announcements ({len(announcements)})")
        notify.send("DELETE", f"/subscriptions/{awards_hook['id']}", None, "tdkt_officer")
    finally:
        receiver.stop()

    step("Tổng hợp / the aggregated report in Excel")
    export = reports.get(f"/movements/{movement['id']}/export.xlsx")
    path = ctx.out / f"tong-hop-{movement['id']}.xlsx"
    path.write_bytes(export.content)
    summary["files"]["aggregation"] = str(path)
    ctx.say(f"  {path}")
    return summary


def _stepper(say: Callable[[str], None]) -> Callable[[str], None]:
    counter = iter(range(1, 100))

    def step(title: str) -> None:
        say(f"\n{next(counter)}. {title}")

    return step


def _successors(registry: Api, participants: list[str]) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for unit_id in participants:
        lineage = registry.get(f"/units/{unit_id}/lineage").json()
        current = [e["unit"] for e in lineage["successors"] if not e["unit"].get("valid_to")] or ([lineage["unit"]] if not lineage["unit"].get("valid_to") else [])
        for unit in current:
            found[unit["id"]] = unit
    return found


def _plan() -> dict:
    """The 2023 plan as the registry's seed carries it (`../shared/seed/`, content areas and criteria)."""
    from importlib import resources

    return json.loads((resources.files("tdkt_registry") / "seed" / "tam-duong-2023-movement.json").read_text(encoding="utf-8"))


def _replay_movement(registry: Api, seed: dict, participants: list[str], today: date) -> dict:
    plan = _plan()
    province = registry.get("/units", q=PROVINCE_CODE).json()["items"]
    organiser = next(u["id"] for u in province if u["code"] == PROVINCE_CODE)
    monthly_day = 28 if today.day <= 28 else 31  # this month's report is still due, past months' are late
    start, end = today - timedelta(days=75), today + timedelta(days=5)
    body = {
        "title": f"{seed['title']} (diễn tập kế hoạch 2023)",
        "theme": seed.get("theme"),
        "kind": seed.get("kind", "campaign"),
        "description": f"Kế hoạch năm 2023 của huyện Tam Đường chạy lại theo lịch ngày {today:%d/%m/%Y}, với các đơn vị kế thừa sau sắp xếp năm 2025.",
        "organiser_id": organiser,
        "legal_basis": LEGAL,
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "registration_deadline": (today + timedelta(days=3)).isoformat(),
        "schedule": {"monthly_day": monthly_day, "final_due": end.isoformat()},
        "participants": {"unit_ids": participants},
        "award_forms": plan["award_forms"],
        "content_areas": plan["content_areas"],
        "criteria": plan["criteria"],
    }
    created = registry.post("/movements", body)
    return registry.post(f"/movements/{created['id']}/launch", {}, etag_of=f"/movements/{created['id']}")


def _periods(reports: Api, movement_id: str, units: list[str]) -> dict[str, list[dict]] | None:
    found = {}
    for unit in units:
        items = reports.get("/reports", "unit_reporter", unit=unit, movement_id=movement_id, per_page=50).json()["items"]
        if not items:
            return None
        found[unit] = sorted(items, key=lambda r: r["due"])
    return found


def _value(criterion: dict) -> Any:
    if criterion.get("value_type") == "boolean":
        return True
    if criterion.get("direction") == "lower_is_better":
        return 0
    better = criterion["target"] + (1 if criterion.get("value_type") == "integer" else 2)
    return min(better, 100) if criterion.get("value_type") == "percent" else better


def _report(reports: Api, report: dict, unit: str, criteria: list[dict], *, submit: bool, narrative: str | None = None) -> dict:
    url = f"/reports/{report['id']}"
    values = {c["key"]: {"value": _value(c)} for c in criteria}
    reports.send("PUT", f"{url}/draft", {"narrative": narrative or f"Báo cáo kỳ {report['period']}", "values": values}, "unit_reporter", unit=unit, etag_of=url)
    current = reports.get(url, "unit_reporter", unit=unit).json()
    proven = {a.get("criterion") for a in current.get("attachments") or ()}
    for criterion in criteria:
        if criterion.get("evidence_required") and criterion["key"] not in proven:
            etag = reports.get(url, "unit_reporter", unit=unit).headers["ETag"]
            response = requests.post(
                f"{reports.base}{url}/attachments",
                data={"criterion": criterion["key"]},
                files={"file": (f"minh-chung-{criterion['key']}.pdf", PDF, "application/pdf")},
                headers={**reports.headers(("unit_reporter",), unit, None), "If-Match": etag},
                timeout=60,
            )
            if response.status_code >= 400:
                raise RuntimeError(f"evidence for {criterion['key']}: {response.status_code} {response.text[:300]}")
    return reports.post(f"{url}/submit", {}, "unit_head", unit=unit, etag_of=url) if submit else current


def _nominate(awards: Api, movement_id: str, a: str, b: str, c: str, names: dict[str, str]) -> dict[str, dict]:
    def create(key: str, unit: str, body: dict) -> dict:
        def attempt():
            try:
                return awards.post("/nominations", {"kind": "movement", "movement_id": movement_id, **body}, "unit_head", unit=unit)
            except RuntimeError as exc:  # 422 until awards has copied the movement and the units
                if "movement_id" in str(exc) or "unit_id" in str(exc):
                    return None
                raise

        return wait_until(attempt, timeout=300, message=f"awards ready for the nomination of {key}")

    collective = {"subject": "collective", "title_code": "GIAY_KHEN_PT_TT"}
    members = {"members_total": 25, "members_completed_tasks": 25, "members_with_titles": {"LDTT": 20}, "members_disciplined": 0}
    nominations = {
        "a": create("a", a, {**collective, "nominee": {"unit_id": a, **members}, "achievement": "Hoàn thành vượt mức 17/17 chỉ tiêu của phong trào"}),
        "b": create("b", b, {**collective, "nominee": {"unit_id": b, **members}, "achievement": "Dẫn đầu giải ngân vốn đầu tư công"}),
        "c": create("c", c, {**collective, "nominee": {"unit_id": c, **members}, "achievement": "Hoàn thành các chỉ tiêu chủ yếu"}),
        "worker": create(
            "worker",
            a,
            {
                "subject": "individual",
                "title_code": "GIAY_KHEN_PT_CN",
                "nominee": {
                    "name": "Lò Văn Pọm",
                    "unit_id": a,
                    "position": "Công nhân vệ sinh môi trường",
                    "gender": "male",
                    "direct_worker": True,
                    "person_key": "demo-lo-van-pom",
                },
                "achievement": "Tham gia tích cực giữ gìn cảnh quan chào mừng các ngày kỷ niệm",
            },
        ),
        "farmer": create(
            "farmer",
            b,
            {
                "subject": "individual",
                "title_code": "GIAY_KHEN_PT_CN",
                "nominee": {"name": "Tẩn Thị Mẩy", "unit_id": b, "position": "Nông dân sản xuất giỏi", "gender": "female", "direct_worker": True, "person_key": "demo-tan-thi-may"},
                "achievement": "Phát triển sản phẩm OCOP chè Tam Đường",
            },
        ),
    }
    for key, nomination in nominations.items():
        unit = nomination["nominating_unit_id"]
        for doc_type in ("to_trinh", "bao_cao_thanh_tich", "bien_ban_binh_xet"):
            etag = awards.get(f"/nominations/{nomination['id']}", "unit_head", unit=unit).headers["ETag"]
            response = requests.post(
                f"{awards.base}/nominations/{nomination['id']}/attachments",
                data={"type": doc_type},
                files={"file": (f"{doc_type}.pdf", PDF, "application/pdf")},
                headers={**awards.headers(("unit_head",), unit, None), "If-Match": etag},
                timeout=60,
            )
            if response.status_code >= 400:
                raise RuntimeError(f"{doc_type}: {response.status_code} {response.text[:300]}")
        nominations[key] = awards.post(f"/nominations/{nomination['id']}/submit", {}, "unit_head", unit=unit, etag_of=f"/nominations/{nomination['id']}")
    return nominations


def _appraise(awards: Api, nominations: dict[str, dict], say: Callable[[str], None]) -> dict[str, Any]:
    def verdict(key: str) -> dict:
        return awards.get(f"/nominations/{nominations[key]['id']}").json()

    # b: returned for completion (the minutes lack signatures), corrected and resubmitted
    b = nominations["b"]
    awards.post(f"/nominations/{b['id']}/return", {"reasons": ["Biên bản bình xét thiếu chữ ký của thư ký cuộc họp"]}, etag_of=f"/nominations/{b['id']}")
    say(f"  {b['nominee']['name']}: trả lại để bổ sung (biên bản thiếu chữ ký) — hạn bổ sung {verdict('b')['deadlines']['resubmit_by']}")
    unit = b["nominating_unit_id"]
    etag = awards.get(f"/nominations/{b['id']}", "unit_head", unit=unit).headers["ETag"]
    requests.post(
        f"{awards.base}/nominations/{b['id']}/attachments",
        data={"type": "khac"},
        files={"file": ("bien-ban-da-ky.pdf", PDF, "application/pdf")},
        headers={**awards.headers(("unit_head",), unit, None), "If-Match": etag},
        timeout=60,
    ).raise_for_status()
    awards.post(f"/nominations/{b['id']}/submit", {}, "unit_head", unit=unit, etag_of=f"/nominations/{b['id']}")

    # the pre-check waits for the reports service's progress of each unit
    def settled() -> bool:
        return all(any(ch["rule"] == "unit_reports_accepted" and ch["ok"] is not None for ch in verdict(k)["eligibility"]["checks"]) for k in ("a", "b", "c"))

    wait_until(settled, timeout=90, message="the units' progress reaching the pre-check")
    eligible, ineligible = [], {}
    for key, nomination in nominations.items():
        current = verdict(key)
        failing = [ch["message"] for ch in current["eligibility"]["checks"] if ch["ok"] is False]
        if failing:
            awards.post(f"/nominations/{nomination['id']}/appraise", {"outcome": "ineligible", "reasons": failing}, etag_of=f"/nominations/{nomination['id']}")
            ineligible[current["nominee"]["name"]] = failing
            say(f"  {current['nominee']['name']}: không đủ điều kiện / ineligible — {failing[0]}")
        else:
            awards.post(f"/nominations/{nomination['id']}/appraise", {"outcome": "eligible"}, etag_of=f"/nominations/{nomination['id']}")
            eligible.append(nomination["id"])
    say(f"  {len(eligible)} hồ sơ đủ điều kiện / eligible, {len(ineligible)} không / ineligible")
    return {"eligible_ids": eligible, "ineligible": ineligible}


def _council(awards: Api, eligible: list[dict], today: date) -> dict[str, Any]:
    members = [{"member_id": f"demo-member-{i}", "name": name, "role": role} for i, (name, role) in enumerate(COUNCIL)]
    council = awards.post("/councils", {"name": "Hội đồng Thi đua – Khen thưởng (diễn tập)", "issuer_id": "province-12", "members": members})
    agenda = [{"item_id": f"i{n}", "candidate": e["nominee"]["name"], "nomination_id": e["id"]} for n, e in enumerate(eligible)]
    session = awards.post("/council-sessions", {"council_id": council["id"], "date": today.isoformat(), "agenda": agenda})
    url = f"/council-sessions/{session['id']}"
    awards.post(f"{url}/attendance", {"present": [m["member_id"] for m in members]}, etag_of=url)
    awards.post(f"{url}/open", {}, etag_of=url)
    for member in members:
        role = "council_chair" if member["role"] == "chair" else "council_member"
        for item in agenda:
            awards.post(f"{url}/ballots", {"item_id": item["item_id"], "choice": "yes"}, role, subject=member["member_id"])
    closed = awards.post(f"{url}/close", {}, etag_of=url)
    return {"members": len(members), "passed": sum(1 for i in closed["result"]["items"] if i["outcome"] == "passed")}


COUNCIL = [
    ("Chủ tịch UBND (Chủ tịch Hội đồng)", "chair"),
    ("Phó Chủ tịch UBND", "vice_chair"),
    ("Trưởng phòng Nội vụ", "standing_member"),
    ("Trưởng phòng Tài chính – Kế hoạch", "member"),
    ("Trưởng phòng Văn hóa và Thông tin", "member"),
    ("Chủ tịch Ủy ban MTTQ", "member"),
    ("Chuyên viên Phòng Nội vụ (Thư ký)", "secretary"),
]


def _states(awards: Api, nominations: list[dict], state: str) -> list[str] | None:
    ids = [n["id"] for n in nominations]
    return ids if all(awards.get(f"/nominations/{i}").json()["state"] == state for i in ids) else None


def _decide(awards: Api, movement_id: str, nomination_ids: list[str], day: date) -> dict:
    body = {
        "issuer": ISSUER,
        "issuer_name": "tỉnh Lai Châu",
        "place": "Lai Châu",
        "decision_date": day.isoformat(),
        "subject": "khen thưởng các tập thể, cá nhân có thành tích xuất sắc trong phong trào thi đua đặc biệt",
        "legal_bases": [
            "Căn cứ Luật Tổ chức chính quyền địa phương ngày 16 tháng 6 năm 2025",
            "Căn cứ Luật Thi đua, khen thưởng ngày 15 tháng 6 năm 2022",
            "Căn cứ Nghị định số 152/2025/NĐ-CP của Chính phủ quy định chi tiết Luật Thi đua, khen thưởng",
        ],
        "proposed_by": "Giám đốc Sở Nội vụ",
        "funding_source": "Quỹ thi đua, khen thưởng của tỉnh",
        "recipients": ["Như Điều 3", "Sở Nội vụ", "Lưu: VT, NV"],
        "signer": {"name": "Lê Văn Lương", "title": "CHỦ TỊCH"},
        "movement_id": movement_id,
        "nomination_ids": nomination_ids,
    }
    drafted = awards.post("/decisions", body)
    return awards.post(f"/decisions/{drafted['id']}/issue", {}, "chairman", etag_of=f"/decisions/{drafted['id']}")


def _documents(awards: Api, decision: dict, out: Path) -> dict[str, str]:
    files = {}
    for kind, suffix in (("document", "docx"), ("certificates", "pdf")):
        data = awards.get(f"/decisions/{decision['id']}/{kind}.{suffix}").content
        path = out / f"{'quyet-dinh' if kind == 'document' else 'giay-khen'}-{decision['number']}.{suffix}"
        path.write_bytes(data)
        files[kind] = str(path)
    return files


def _decision_mails(messages: list, reference: str) -> list:
    return [m for m in messages if str(m["Subject"]).startswith(f"Quyết định số {reference}") and any(True for _ in m.iter_attachments())]


# --- against `make up` ---------------------------------------------------------------------------------


def main() -> int:
    import os
    import subprocess
    from datetime import timedelta as delta

    from tdkt.auth.tokens import mint_token

    from tdkt_localstack.mailcatcher import read_messages
    from tdkt_localstack.paths import REPO, sub
    from tdkt_localstack.supervisor import AUDIENCE
    from tdkt_localstack.supervisor import ISSUER as TOKEN_ISSUER

    host = os.environ.get("TDKT_HOST", "127.0.0.1")
    ports = {s: int(os.environ.get(f"{s.upper()}_PORT", d)) for s, d in (("registry", 8001), ("reports", 8002), ("awards", 8003), ("notify", 8004))}
    urls = {s: f"http://{host}:{p}/api/v1" for s, p in ports.items()}
    private = sub("keys") / "dev-private.pem"
    try:
        requests.get(urls["registry"].removesuffix("/api/v1") + "/readyz", timeout=3).raise_for_status()
    except requests.RequestException:
        print("The system is not running: start it with `make up` in another terminal, then run `make demo` again.", file=sys.stderr)
        return 1

    def token(*roles: str, unit: str | None = None, subject: str | None = None) -> str:
        return mint_token(private.read_bytes(), issuer=TOKEN_ISSUER, audience=AUDIENCE, roles=list(roles), unit_id=unit, subject=subject, ttl=delta(hours=2))

    env = os.environ | {
        "MONGODB_URI": os.environ.get("MONGODB_URI", f"mongodb://127.0.0.1:{os.environ.get('MONGO_PORT', '27017')}/"),
        "KAFKA_BOOTSTRAP_SERVERS": os.environ.get("KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{os.environ.get('KAFKA_PORT', '9092')}"),
        "JWT_ISSUER": TOKEN_ISSUER,
        "JWT_AUDIENCE": AUDIENCE,
        "JWT_PUBLIC_KEY_FILE": str(sub("keys") / "dev-public.pem"),
    }

    def run_command(service: str, *args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "tdkt.cli", service, *args], env=env, capture_output=True, text=True, timeout=300, cwd=REPO)
        if done.returncode != 0:
            raise RuntimeError(done.stderr)
        return done.stdout

    mail_folder = Path(os.environ.get("TDKT_MAIL_DIR", sub("data") / "mail"))
    ctx = Context(urls=urls, token=token, run=run_command, mails=lambda: read_messages(mail_folder), out=sub("demo"))
    started = time.monotonic()
    summary = run(ctx)
    print(f"\nXong trong {time.monotonic() - started:.0f} s / done. Xem / look at:")
    print(f"  API docs     {', '.join(u.removesuffix('/api/v1') + '/docs' for u in urls.values())}")
    print(f"  mail         {mail_folder}  (.venv/bin/python -m tdkt_localstack.mailcatcher list {mail_folder})")
    for name, path in summary["files"].items():
        print(f"  {name:<12} {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
