"""Reports at scale: a movement's figures over 3,000 units, served over real HTTP, and its exports.

The data are written straight into the store with `insert_many` (not through the report
workflow): 3 movements × 3,000 units × 12 periods (11 monthly + the final) = 108,000 reports'
worth of `progress` documents (each period accepted, returned, submitted or missing, some late,
8 criteria with values), plus the `movement_views`, `registration_views` (targets), `unit_views`
and 150 `cluster_views` of 20 units that the projections would have written.

Baselines, measured in the same run: for the cold load, reading the movement's 3,000 progress
documents by `_id` (the least a reader without a cache or snapshot pays); for HTTP, a bare Flask
JSON endpoint under the same gunicorn configuration; for the exports, openpyxl (write-only) and
the csv module writing the same number of plain cells.

    python -m bench.reports [--units 3000] [--movements 3] [--requests 300] [--scale F --base tenth|full]

`--scale F` multiplies the units by F × a tenth (`--base full`: F × 1): 1× is 300 units, 10,800
reports; 10× the targets.

Requests are sent one after another by this process (closed loop, one client), after a warm-up.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import requests
from openpyxl import Workbook
from tdkt.auth.tokens import generate_key_pair, mint_token
from tdkt.settings import MongoSettings
from tdkt.store import connect_store
from tdkt_localstack.ports import free_port
from tdkt_reports.adapters.aggregation_inputs import progress_changed

from bench.common import add_scale_options, bench_servers, percentile, record, row, scaled, serve
from bench.registry import timings

AREAS = [{"key": "kinh-te", "title": "Phát triển kinh tế"}, {"key": "van-hoa", "title": "Văn hóa – xã hội"}, {"key": "an-ninh", "title": "Quốc phòng, an ninh"}]
CRITERIA = [  # key, area, name, unit of measure, target, direction, value type, weight
    ("giai-ngan", "kinh-te", "Giải ngân đầu tư công", "%", 95, "higher_is_better", "percent", 2),
    ("thu-ngan-sach", "kinh-te", "Thu ngân sách", "triệu đồng", 1200, "higher_is_better", "number", 2),
    ("ocop", "kinh-te", "Sản phẩm OCOP", "sản phẩm", 2, "higher_is_better", "integer", 1),
    ("ho-ngheo", "van-hoa", "Tỷ lệ hộ nghèo", "%", 3, "lower_is_better", "percent", 2),
    ("bhyt", "van-hoa", "Tỷ lệ tham gia BHYT", "%", 92, "higher_is_better", "percent", 1),
    ("van-hoa", "van-hoa", "Gia đình văn hóa", "%", 90, "higher_is_better", "percent", 1),
    ("vu-viec", "an-ninh", "Vụ việc mất an ninh", "vụ", 2, "lower_is_better", "integer", 1),
    ("tuyen-quan", "an-ninh", "Hoàn thành tuyển quân", "", 1, "higher_is_better", "boolean", 1),
]
PERIODS = [(f"2024-{m:02d}", "interim", f"2024-{m:02d}-25") for m in range(1, 12)] + [("final", "final", "2024-12-15")]


def _value(kind: str, target: float, rnd: random.Random):
    if kind == "boolean":
        return rnd.random() < 0.85
    value = max(0.0, rnd.gauss(target, target * 0.25 + 0.5))
    return round(min(value, 100.0), 1) if kind == "percent" else (int(round(value)) if kind == "integer" else round(value, 1))


def generate(db, movements: int, units: int, rnd: random.Random) -> tuple[list[str], list[str]]:
    """Write the documents (see the module's docstring); returns the movement and unit ids."""
    unit_ids = [uuid.uuid4().hex for _ in range(units)]
    db.unit_views.insert_many([{"_id": u, "seq": 1, "name": f"Xã Thử Nghiệm {i:04d}", "code": f"{10000 + i:05d}", "kind": "commune"} for i, u in enumerate(unit_ids)])
    db.cluster_views.insert_many(
        [{"_id": uuid.uuid4().hex, "seq": 1, "name": f"Cụm thi đua số {i // 20 + 1}", "kind": "cluster", "member_ids": unit_ids[i : i + 20]} for i in range(0, units, 20)]
    )
    movement_ids = [uuid.uuid4().hex for _ in range(movements)]
    criteria = [dict(zip(("key", "area", "name", "unit_of_measure", "target", "direction", "value_type", "weight"), c, strict=True)) for c in CRITERIA]
    for m, movement_id in enumerate(movement_ids):
        db.movement_views.insert_one(
            {
                "_id": movement_id,
                "seq": 1,
                "state": "launched",
                "title": f"Phong trào thi đua thử nghiệm số {m + 1} năm 2024",
                "organiser_id": unit_ids[0],
                "period_start": "2024-01-01",
                "period_end": "2024-12-31",
                "content_areas": AREAS,
                "criteria": criteria,
                "due_dates": [{"period": p, "kind": k, "due": d} for p, k, d in PERIODS],
                "participant_ids": unit_ids,
            }
        )
        registrations, progress = [], []
        for u in unit_ids:
            registrations.append({"_id": f"{movement_id}.{u}", "seq": 1, "movement_id": movement_id, "unit_id": u, "targets": {c["key"]: c["target"] for c in criteria}})
            periods = {}
            for version, (key, kind, due) in enumerate(PERIODS, 1):
                draw = rnd.random()
                if draw < 0.1:
                    continue  # not submitted
                state = "accepted" if draw < 0.9 else ("returned" if draw < 0.95 else "submitted")
                values = {c["key"]: {"value": _value(c["value_type"], c["target"], rnd), "unit": c["unit_of_measure"], "note": None} for c in criteria}
                periods[key] = {
                    "report_id": f"{movement_id}.{u}.{key}",
                    "period": key,
                    "kind": kind,
                    "due": due,
                    "state": state,
                    "late": rnd.random() < 0.15,
                    "version": 1,
                    "values": values,
                    "seq": version,
                }
            progress.append({"_id": f"{movement_id}.{u}", "movement_id": movement_id, "unit_id": u, "periods": periods, "version": len(periods), "outbox": []})
        for batch in range(0, units, 500):
            db.registration_views.insert_many(registrations[batch : batch + 500])
            db.progress.insert_many(progress[batch : batch + 500])
    for name in ("movements", "registrations", "units", "clusters"):
        db.projection_meta.update_one({"_id": name}, {"$inc": {"events": 1}}, upsert=True)
    return movement_ids, unit_ids


def read_every_progress(db, movement_id: str, unit_ids: list[str]) -> float:
    started = time.perf_counter()
    for u in unit_ids:
        db.progress.find_one({"_id": f"{movement_id}.{u}"})
    return time.perf_counter() - started


def plain_xlsx(rows: int, columns: int) -> float:
    started = time.perf_counter()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("x")
    for r in range(rows):
        ws.append([f"Xã Thử Nghiệm {r}", *(r * c * 0.5 for c in range(columns - 1))])
    wb.save(io.BytesIO())
    return time.perf_counter() - started


def plain_csv(rows: int, columns: int) -> float:
    started = time.perf_counter()
    out = io.StringIO()
    writer = csv.writer(out)
    for r in range(rows):
        writer.writerow([f"Xã Thử Nghiệm {r}", *(r * c * 0.5 for c in range(columns - 1))])
    out.getvalue().encode("utf-8-sig")
    return time.perf_counter() - started


def once(session: requests.Session, url: str, headers: dict) -> tuple[float, requests.Response]:
    started = time.perf_counter()
    response = session.get(url, headers=headers, timeout=120)
    response.raise_for_status()
    return (time.perf_counter() - started) * 1000, response


def first_answer(session: requests.Session, url: str, headers: dict, seconds: float = 300) -> float:
    """ms until a cold server answers 200: a first-ever load answers 503 (retry) while it reads."""
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        response = session.get(url, headers=headers, timeout=120)
        if response.status_code != 503:
            response.raise_for_status()
            return (time.perf_counter() - started) * 1000
        time.sleep(0.2)
    raise SystemExit(f"{url} still busy after {seconds} s")


def until_fresh(session: requests.Session, url: str, headers: dict, seconds: float = 60) -> float:
    """ms until two answers in a row (both workers, most likely) say the figures are fresh."""
    started, fresh = time.perf_counter(), 0
    while fresh < 2 and time.perf_counter() - started < seconds:
        fresh = fresh + 1 if not once(session, url, headers)[1].json()["stale"] else 0
        time.sleep(0.01)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=3000)
    parser.add_argument("--movements", type=int, default=3)
    parser.add_argument("--requests", type=int, default=300)
    add_scale_options(parser)
    args = parser.parse_args()
    args.units = scaled(args.units, args.scale, args.base)
    rnd = random.Random(20240101)

    with bench_servers() as (bootstrap, mongo_uri):
        name = f"bench_reports_{os.getpid()}"
        db = connect_store(MongoSettings(mongo_uri, name, 5000))
        try:
            reports = args.movements * args.units * len(PERIODS)
            print(f"writing {reports:,} reports' worth of progress for {args.units:,} units …", flush=True)
            started = time.perf_counter()
            movement_ids, unit_ids = generate(db, args.movements, args.units, rnd)
            print(f"  written in {time.perf_counter() - started:.1f} s", flush=True)
            movement = movement_ids[0]
            scan_s = read_every_progress(db, movement, unit_ids)

            keys = Path(tempfile.mkdtemp())
            generate_key_pair(keys / "private.pem", keys / "public.pem")

            def token(roles: list[str], unit: str | None = None) -> dict:
                minted = mint_token((keys / "private.pem").read_bytes(), issuer="bench", audience="tdkt", roles=roles, unit_id=unit, ttl=timedelta(hours=2))
                return {"Authorization": f"Bearer {minted}"}

            officer, own = token(["tdkt_officer"]), token(["unit_head"], unit_ids[7])
            env = {
                "MONGODB_URI": mongo_uri,
                "MONGODB_DATABASE": name,
                "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                "JWT_ISSUER": "bench",
                "JWT_AUDIENCE": "tdkt",
                "JWT_PUBLIC_KEY_FILE": str(keys / "public.pem"),
                "WEB_TIMEOUT": "120",
            }
            api_argv = [sys.executable, "-m", "tdkt_reports", "api"]
            port = free_port()
            base = f"http://127.0.0.1:{port}/api/v1/movements/{movement}"
            session = requests.Session()

            print("cold: no snapshot (every document), then a restarted server (the snapshot) …", flush=True)
            api = serve(api_argv, env | {"PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp()}, port, "/healthz")
            try:
                cold_full_ms = first_answer(session, f"{base}/aggregation", officer)
            finally:
                api.terminate()
                api.wait(timeout=30)
            api = serve(api_argv, env | {"PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp()}, port, "/healthz")
            bare_port = free_port()
            bare = serve(
                [sys.executable, "-m", "gunicorn", "--config", "python:tdkt.gunicorn_conf", "bench.bare_app:app"],
                env | {"PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp()},
                bare_port,
                "/bare",
            )
            try:
                cold_snapshot_ms = first_answer(session, f"{base}/aggregation", officer)
                cluster = once(session, f"{base}/aggregation?per_page=1", own)[1].json()["items"][0]["clusters"][0]["id"]
                endpoints = [
                    ("aggregation, 20 rows per page", f"{base}/aggregation", officer),
                    ("aggregation, 200 rows per page, by name", f"{base}/aggregation?per_page=200&sort=name", officer),
                    ("aggregation, one cluster of 20", f"{base}/aggregation?cluster_id={cluster}", officer),
                    ("aggregation as a unit (totals + its row)", f"{base}/aggregation", own),
                    ("a unit's history", f"{base}/units/{unit_ids[7]}/history", officer),
                ]
                print(f"HTTP: {args.requests} requests per endpoint …", flush=True)
                bare_ms = timings(session, f"http://127.0.0.1:{bare_port}/bare", args.requests)
                measured = [(label, timings(session, url, args.requests, headers)) for label, url, headers in endpoints]
                reweighed = [once(session, f"{base}/aggregation?weights=giai-ngan:{i % 50 + 1},ocop:{i // 50 + 1}", officer)[0] for i in range(args.requests // 3)]

                print("refresh after one unit's new report; exports …", flush=True)
                db.progress.update_one({"_id": f"{movement}.{unit_ids[3]}"}, {"$set": {"periods.final.state": "accepted"}})
                progress_changed(db, movement, unit_ids[3])
                stale_ms = once(session, f"{base}/aggregation", officer)[0]
                refresh_ms = until_fresh(session, f"{base}/aggregation", officer)
                xlsx = sorted(once(session, f"{base}/export.xlsx", officer)[0] for _ in range(3))
                csvs = sorted(once(session, f"{base}/export.csv", officer)[0] for _ in range(3))
                size = len(once(session, f"{base}/export.xlsx", officer)[1].content)
            finally:
                for process in (api, bare):
                    process.terminate()
                    process.wait(timeout=30)
            columns = 2 + len(CRITERIA) + 3
            plain_x = sorted(plain_xlsx(args.units, columns) for _ in range(3))[1] * 1000
            plain_c = sorted(plain_csv(args.units, columns) for _ in range(3))[1] * 1000
        finally:
            db.client.drop_database(name)

    p99, p50 = percentile(bare_ms, 99), percentile(bare_ms, 50)
    rows = [
        row(f"reports: cold, {args.units:,} units, no snapshot (503 + retry until 200)", cold_full_ms, "ms", scan_s * 1000),
        row("reports: cold first request from the snapshot (restarted server)", cold_snapshot_ms, "ms", scan_s * 1000),
        row("reports: HTTP baseline, bare Flask JSON p99", p99, "ms"),
    ]
    for label, spent in measured:
        rows.append(row(f"reports: {label}, p99", percentile(spent, 99), "ms", p99))
        rows.append(row(f"reports: {label}, p50", percentile(spent, 50), "ms", p50))
    rows += [
        row("reports: aggregation, new weights every request, p99", percentile(reweighed, 99), "ms", p99),
        row("reports: aggregation, new weights every request, p50", percentile(reweighed, 50), "ms", p50),
        row("reports: first request after a new report (stale answer)", stale_ms, "ms", p50),
        row("reports: new report → fresh figures (background refresh)", refresh_ms, "ms", cold_full_ms),
        row(f"reports: export.xlsx, {args.units:,} rows × {columns} columns ({size // 1024} KB), median of 3", xlsx[1], "ms", plain_x),
        row(f"reports: export.csv, {args.units:,} rows, median of 3", csvs[1], "ms", plain_c),
    ]
    record(rows, "reports")
    print(
        "baselines: reading every progress document by _id for the cold loads; a bare Flask endpoint under the same gunicorn config for HTTP;"
        " the full cold load for the refresh; openpyxl write-only / csv writing as many plain cells (in-process, no HTTP) for the exports"
    )


if __name__ == "__main__":
    main()
