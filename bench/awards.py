"""Awards at scale: 20,000 nominations over ~3,000 units, listed, filtered and totalled over real HTTP.

The data are written straight into the store with `insert_many`, in their stored form (not through
the workflow): the `nominations` (a realistic mix of kinds, forms, states and years, with their
dossier's documents, deadlines, history, appraisal, council and decision parts), the lookup lists
(`nomination_lookup`) and eligibility verdicts (`nomination_eligibility`) kept beside them, the
`unit_views` and `movement_views` copies, one `disclosures` list per 200 disclosed nominations and
the bonus ledger (`ledger_entries`: one entry per award of an issued decision of 50 awardees, one
more per revoked award).

Baseline, measured in the same run: a bare Flask JSON endpoint under the same gunicorn
configuration. Target (design/quality.md): p99 ≤ 200 ms at 20,000 nominations.

    python -m bench.awards [--nominations 20000] [--units 3000] [--requests 300] [--scale F --base tenth|full]

Requests are sent one after another by this process (closed loop, one client), after a warm-up.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import uuid
from datetime import date, datetime, timedelta

import requests
from tdkt.clock import local_today
from tdkt.settings import MongoSettings
from tdkt.store import connect_store
from tdkt_localstack.ports import free_port

from bench.common import add_scale_options, bearer, bench_servers, percentile, record, row, scaled, serve, serve_bare, service_env, signing_keys, stop
from bench.registry import timings
from bench.reports import first_answer

ISSUER = "Ủy ban nhân dân tỉnh Lai Châu"
FORMS = {  # (kind, subject) → the forms a unit would propose
    ("annual", "individual"): ["LDTT", "LDTT", "LDTT", "CSTDCS", "GIAY_KHEN_CN", "BANG_KHEN_TINH_CN"],
    ("annual", "collective"): ["TTLDTT", "TTLDTT", "TTLDXS", "GIAY_KHEN_TT", "BANG_KHEN_TINH_TT"],
    ("annual", "household"): ["GIA_DINH_VAN_HOA"],
    ("movement", "individual"): ["GIAY_KHEN_PT_CN"],
    ("movement", "collective"): ["GIAY_KHEN_PT_TT", "BANG_KHEN_TINH_PT_TT"],
    ("sudden", "individual"): ["GIAY_KHEN_DOT_XUAT_CN"],
}
AMOUNTS = {"LDTT": 1_170_000, "CSTDCS": 2_340_000, "GIAY_KHEN_CN": 351_000, "BANG_KHEN_TINH_CN": 1_170_000, "GIAY_KHEN_PT_CN": 351_000, "GIAY_KHEN_DOT_XUAT_CN": 351_000}
# how far nominations of a year have gone: the current year's are mostly in progress, older ones decided
STATES_OLD = {"decided": 62, "rejected": 8, "revoked": 2, "withdrawn": 3, "proposed": 3, "appraised": 2, "returned": 1, "in_disclosure": 1}
STATES_NOW = {
    "draft": 14,
    "withdrawn": 2,
    "submitted": 22,
    "returned": 6,
    "appraised": 14,
    "on_agenda": 5,
    "approved": 7,
    "rejected": 5,
    "in_disclosure": 6,
    "proposed": 3,
    "decided": 16,
}
PATH = ["created", "submit", "appraise", "put_on_agenda", "approve", "disclose", "decide"]
DOCUMENTS = [("to_trinh", "Tờ trình đề nghị khen thưởng"), ("bao_cao_thanh_tich", "Báo cáo thành tích"), ("bien_ban_binh_xet", "Biên bản họp bình xét")]
SURNAMES, MIDDLE, GIVEN = (
    ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Lò", "Tao", "Giàng"],
    ["Văn", "Thị", "Đức", "Minh", "Thu"],
    ["An", "Bình", "Cường", "Dung", "Hà", "Lan", "Nam", "Sơn"],
)


def _pick(weights: dict[str, int], rnd: random.Random) -> str:
    return rnd.choices(list(weights), list(weights.values()))[0]


def _at(year: int, day: int, rnd: random.Random) -> str:
    moment = datetime(year, 1, 1) + timedelta(days=day, seconds=rnd.randrange(86400))
    return moment.isoformat(timespec="seconds") + "+00:00"


def _history(state: str, year: int, rnd: random.Random) -> list[dict]:
    """The audit trail along the usual path up to `state` (a withdrawal, a return or a rejection leaves it)."""
    steps = {
        "draft": 1,
        "withdrawn": 1,
        "submitted": 2,
        "returned": 2,
        "appraised": 3,
        "on_agenda": 4,
        "approved": 5,
        "rejected": 4,
        "in_disclosure": 6,
        "proposed": 5,
        "decided": 7,
        "revoked": 7,
    }
    entries, before = [], None
    for i, action in enumerate(PATH[: steps[state]]):
        to = {
            "created": "draft",
            "submit": "submitted",
            "appraise": "appraised",
            "put_on_agenda": "on_agenda",
            "approve": "approved",
            "disclose": "in_disclosure",
            "decide": "decided",
        }[action]
        entries.append({"action": action, "from": before, "to": to, "by": "bench", "at": _at(year, 20 + 30 * i, rnd)})
        before = to
    if state in ("withdrawn", "returned", "rejected", "proposed", "revoked"):
        action = {"withdrawn": "withdraw", "returned": "return", "rejected": "reject", "proposed": "propose", "revoked": "revoke"}[state]
        entries.append({"action": action, "from": before, "to": state, "by": "bench", "at": _at(year, 250, rnd)})
    return entries


def generate(db, nominations: int, units: int, rnd: random.Random) -> dict:
    """Write the documents (see the module's docstring); returns ids the endpoints need."""
    today = local_today()
    years = [today.year - 3, today.year - 2, today.year - 1, today.year]
    unit_ids = [uuid.uuid4().hex for _ in range(units)]
    names = {u: f"Xã Thử Nghiệm {i:04d}" for i, u in enumerate(unit_ids)}
    db.unit_views.insert_many(
        [{"_id": u, "seq": 1, "name": names[u], "code": f"{10000 + i:05d}", "kind": "commune", "parent_id": None, "valid_to": None} for i, u in enumerate(unit_ids)]
    )
    movements = {y: [uuid.uuid4().hex for _ in range(3)] for y in years}
    db.movement_views.insert_many(
        [
            {
                "_id": m,
                "seq": 1,
                "state": "launched",
                "title": f"Phong trào thi đua số {i + 1} năm {y}",
                "kind": "campaign",
                "period_start": f"{y}-01-01",
                "period_end": f"{y}-12-31",
            }
            for y, ms in movements.items()
            for i, m in enumerate(ms)
        ]
    )
    busy = unit_ids[: max(1, units // 10)]  # a tenth of the units nominate half of the time
    docs, verdicts, lookups = [], [], {}
    for n in range(nominations):
        year = years[min(len(years) - 1, int(rnd.random() ** 0.6 * len(years)))]  # more of recent years
        unit = rnd.choice(busy) if rnd.random() < 0.5 else rnd.choice(unit_ids)
        kind = rnd.choices(["annual", "movement", "sudden"], [60, 30, 10])[0]
        subject = "individual" if kind == "sudden" else rnd.choices(["individual", "collective", "household"], [60, 35, 5 if kind == "annual" else 0])[0]
        title = rnd.choice(FORMS[(kind, subject)])
        state = _pick(STATES_NOW if year == today.year else STATES_OLD, rnd)
        movement = rnd.choice(movements[year]) if kind == "movement" else None
        person = f"{rnd.choice(SURNAMES)} {rnd.choice(MIDDLE)} {rnd.choice(GIVEN)}"
        name = names[unit] if subject == "collective" else (f"Hộ gia đình ông {person}" if subject == "household" else person)
        nominee = {"name": name, "unit_id": unit, "unit_name": names[unit], "position": "Công chức" if subject == "individual" else None, "gender": rnd.choice(["female", "male"])}
        nominee |= {"direct_worker": rnd.random() < 0.3, "performance": "excellent", "prior_titles": [{"title_code": "LDTT", "year": year - 1, "counts_toward_merit": True}]}
        nominee_key = f"unit:{unit}" if subject == "collective" else f"person:{name.casefold()}:{unit}"
        sudden = f"cuu-nan-{n}" if kind == "sudden" else None
        achievement_key = f"movement:{movement}" if kind == "movement" else (f"sudden:{sudden}" if kind == "sudden" else f"year:{year}")
        nomination_id = uuid.uuid4().hex
        history = _history(state, year, rnd)
        submitted = next((h["at"] for h in history if h["action"] == "submit"), None)
        doc = {
            "_id": nomination_id,
            "version": len(history),
            "outbox": [],
            "state": state,
            "nominating_unit_id": unit,
            "issuer": ISSUER,
            "kind": kind,
            "movement_id": movement,
            "year": year,
            "sudden_ref": sudden,
            "title_code": title,
            "subject": subject,
            "nominee": nominee,
            "nominee_key": nominee_key,
            "achievement_key": achievement_key,
            "achievement": f"Hoàn thành xuất sắc nhiệm vụ năm {year}; {rnd.randrange(1, 9)} sáng kiến được công nhận cấp cơ sở.",
            "attachments": [
                {
                    "id": uuid.uuid4().hex,
                    "type": t,
                    "type_name": label,
                    "filename": f"{t}.pdf",
                    "content_type": "application/pdf",
                    "size": 48213,
                    "sha256": "0" * 64,
                    "uploaded_at": history[0]["at"],
                    "uploaded_by": "bench",
                }
                for t, label in DOCUMENTS
            ],
            "history": history,
            "created_at": history[0]["at"],
            "submitted_at": submitted,
        }
        if submitted:
            received = date.fromisoformat(submitted[:10])
            due = today - timedelta(days=rnd.randrange(-20, 20)) if state == "submitted" else received + timedelta(days=28)  # some submitted ones are overdue
            doc["deadlines"] = {"return_by": (received + timedelta(days=7)).isoformat(), "appraisal_due": due.isoformat()}
        if len(history) >= 3 and state not in ("submitted", "returned"):
            doc["appraisal"] = {"outcome": "eligible", "reasons": [], "override_reason": None, "note": None, "by": "bench", "on": history[2]["at"][:10], "late_by_working_days": 0}
        if len(history) >= 5 and state not in ("appraised",):
            doc["council"] = {
                "session_id": f"hd-{year}",
                "item_id": nomination_id,
                "yes": 7,
                "no": 1,
                "abstain": 1,
                "ballots": 9,
                "total_members": 9,
                "threshold": 5,
                "outcome": "passed",
            }
        docs.append(doc)
        eligible = rnd.random() < 0.9
        checks = [
            {"rule": r, "ok": eligible or r != "rating", "message": f"{r}: {'đạt' if eligible or r != 'rating' else 'chưa đạt'}"}
            for r in ("rating", "prior_titles", "hold", "one_achievement_one_form")
        ]
        verdicts.append({"_id": nomination_id, "eligible": eligible, "on_hold": False, "checks": checks, "catalogue_version": "lai-chau-2024", "checked_at": history[-1]["at"]})
        for key in [f"nominee:{nominee_key}", f"unit-year:{unit}:{year}"] + ([f"movement-unit:{movement}:{unit}"] if movement else []):
            lookups.setdefault(key, []).append(nomination_id)

    ledger, disclosures = _decisions(docs, rnd)
    for start in range(0, len(docs), 1000):
        db.nominations.insert_many(docs[start : start + 1000])
        db.nomination_eligibility.insert_many(verdicts[start : start + 1000])
    entries = [{"_id": k, "ids": v} for k, v in lookups.items()]
    for start in range(0, len(entries), 1000):
        db.nomination_lookup.insert_many(entries[start : start + 1000])
    for start in range(0, len(ledger), 1000):
        db.ledger_entries.insert_many(ledger[start : start + 1000])
    if disclosures:
        db.disclosures.insert_many(disclosures)
    return {"unit": busy[0], "years": years, "title": "LDTT", "nomination": docs[0]["_id"], "ledger": len(ledger), "disclosures": len(disclosures)}


def _decisions(docs: list[dict], rnd: random.Random) -> tuple[list[dict], list[dict]]:
    """Issued decisions of 50 awardees (their ledger entries, a revoked award's second entry, the
    decision part of each nomination) and the disclosures of 200 names that came before them."""
    ledger, disclosures, number = [], [], 0
    by_year: dict[int, list[dict]] = {}
    for doc in docs:
        if doc["state"] in ("decided", "revoked"):
            by_year.setdefault(doc["year"], []).append(doc)
    for year, decided in sorted(by_year.items()):
        for start in range(0, len(decided), 50):
            number += 1
            decision_id, on = uuid.uuid4().hex, f"{year}-12-{rnd.randrange(10, 28)}"
            for doc in decided[start : start + 50]:
                amount = AMOUNTS.get(doc["title_code"], 2_340_000)
                awardee = uuid.uuid4().hex
                doc["decision"] = {"decision_id": decision_id, "reference": f"{number}/QĐ-UBND", "date": on, "awardee_id": awardee, "amount": amount}
                issue = {
                    "_id": f"issue:{decision_id}:{awardee}",
                    "kind": "issue",
                    "decision_id": decision_id,
                    "number": number,
                    "reference": f"{number}/QĐ-UBND",
                    "issuer": ISSUER,
                    "decision_date": on,
                    "year": year,
                    "movement_id": doc["movement_id"],
                    "awardee_id": awardee,
                    "unit_id": doc["nominee"]["unit_id"],
                    "unit_name": doc["nominee"]["unit_name"],
                    "name": doc["nominee"]["name"],
                    "subject": doc["subject"],
                    "title_code": doc["title_code"],
                    "title_name": doc["title_code"],
                    "amount": amount,
                    "revocation_id": None,
                    "recorded_at": f"{on}T09:00:00+00:00",
                }
                ledger.append(issue)
                if doc["state"] == "revoked":
                    revocation = uuid.uuid4().hex
                    ledger.append(
                        issue
                        | {
                            "_id": f"revoke:{revocation}:{awardee}",
                            "kind": "revoke",
                            "amount": -amount,
                            "revocation_id": revocation,
                            "recorded_at": f"{year + 1}-03-01T09:00:00+00:00",
                        }
                    )
    disclosed = [d for d in docs if d["state"] in ("in_disclosure", "decided", "revoked")]
    for start in range(0, len(disclosed), 200):
        disclosure_id, group = uuid.uuid4().hex, disclosed[start : start + 200]
        opens = date(group[0]["year"], 11, 3) + timedelta(days=start // 200)
        for doc in group:
            doc["disclosure_id"] = disclosure_id
        entries = [
            {
                "nomination_id": d["_id"],
                "name": d["nominee"]["name"],
                "position": d["nominee"]["position"],
                "unit_name": d["nominee"]["unit_name"],
                "subject": d["subject"],
                "title_code": d["title_code"],
                "title_name": d["title_code"],
                "achievement": d["achievement"],
            }
            for d in group
        ]
        disclosures.append(
            {
                "_id": disclosure_id,
                "version": 1,
                "outbox": [],
                "title": f"Công khai danh sách đề nghị khen thưởng năm {group[0]['year']} (đợt {start // 200 + 1})",
                "issuer": ISSUER,
                "nomination_ids": [d["_id"] for d in group],
                "entries": entries,
                "opens": opens.isoformat(),
                "closes": (opens + timedelta(days=7)).isoformat(),
                "objections": [],
                "opened_by": "bench",
            }
        )
    return ledger, disclosures


def endpoints(base: str, made: dict, keys) -> list[tuple[str, str, dict]]:
    """(label, url, headers) of every list, filter and aggregation endpoint measured."""
    officer, finance = bearer(keys, ["tdkt_officer"]), bearer(keys, ["finance_officer"])
    head = bearer(keys, ["unit_head"], made["unit"])
    year = made["years"][-1]
    return [
        ("nominations, officer's list, 20 per page", f"{base}/nominations", officer),
        ("nominations, state=submitted", f"{base}/nominations?state=submitted", officer),
        (f"nominations, year={year}, 200 per page", f"{base}/nominations?year={year}&per_page=200", officer),
        ("nominations, one unit (unit_id=)", f"{base}/nominations?unit_id={made['unit']}", officer),
        ("nominations, overdue=true", f"{base}/nominations?overdue=true", officer),
        (f"nominations, title_code={made['title']}&kind=annual&year={year - 1}", f"{base}/nominations?title_code={made['title']}&kind=annual&year={year - 1}", officer),
        ("nominations, a unit head's own list", f"{base}/nominations", head),
        ("one nomination", f"{base}/nominations/{made['nomination']}", officer),
        ("public disclosure lists, 20 per page (no token)", f"{base}/public/disclosures", {}),
        ("disclosures with objections (officer)", f"{base}/disclosures?per_page=5", officer),
        ("ledger totals by decision", f"{base}/ledger/totals", finance),
        ("ledger totals by unit", f"{base}/ledger/totals?group_by=unit", finance),
        (f"ledger totals by year, year={year - 1}", f"{base}/ledger/totals?group_by=year&year={year - 1}", finance),
        ("ledger entries, 20 per page", f"{base}/ledger/entries", finance),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nominations", type=int, default=20000)
    parser.add_argument("--units", type=int, default=3000)
    parser.add_argument("--requests", type=int, default=300)
    add_scale_options(parser)
    args = parser.parse_args()
    nominations, units = scaled(args.nominations, args.scale, args.base), scaled(args.units, args.scale, args.base)
    rnd = random.Random(20250101)

    with bench_servers() as (bootstrap, mongo_uri):
        name = f"bench_awards_{os.getpid()}"
        db = connect_store(MongoSettings(mongo_uri, name, 5000))
        try:
            print(f"writing {nominations:,} nominations over {units:,} units …", flush=True)
            made = generate(db, nominations, units, rnd)
            keys = signing_keys()
            env = service_env(bootstrap, mongo_uri, name, keys)
            api_port, bare_port = free_port(), free_port()
            api = serve([sys.executable, "-m", "tdkt_awards", "api"], env, api_port, "/healthz")
            bare = serve_bare(env, bare_port)
            try:
                session = requests.Session()
                measured_endpoints = endpoints(f"http://127.0.0.1:{api_port}/api/v1", made, keys)
                for _worker in range(2):  # a worker's first list loads every row (503 + retry until then)
                    first_answer(session, measured_endpoints[0][1], measured_endpoints[0][2])
                print(f"HTTP: {args.requests} requests per endpoint …", flush=True)
                bare_ms = timings(session, f"http://127.0.0.1:{bare_port}/bare", args.requests)
                measured = []
                for label, url, headers in measured_endpoints:
                    measured.append((label, timings(session, url, args.requests, headers)))
                    print(f"  {label}: p99 {percentile(measured[-1][1], 99):.1f} ms", flush=True)
            finally:
                stop(api, bare)
        finally:
            db.client.drop_database(name)

    p99, p50 = percentile(bare_ms, 99), percentile(bare_ms, 50)
    rows = [row(f"awards: HTTP baseline, bare Flask JSON p99 ({nominations:,} nominations, {made['ledger']:,} ledger entries, {made['disclosures']} disclosures)", p99, "ms")]
    for label, spent in measured:
        rows.append(row(f"awards: {label}, p99", percentile(spent, 99), "ms", p99))
        rows.append(row(f"awards: {label}, p50", percentile(spent, 50), "ms", p50))
    record(rows, "awards")
    print("baseline: a bare Flask endpoint under the same gunicorn config; target p99 ≤ 200 ms at 20,000 nominations")


if __name__ == "__main__":
    main()
