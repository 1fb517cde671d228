"""HTTP under load: each service's main list and create endpoint against a bare Flask app, and what
the API workers weigh in memory before and after.

Every API runs as it does in production, `python -m tdkt_<service> api` (gunicorn, 2 workers × 4
threads), and the baseline `bench/bare_app.py` under the same gunicorn configuration. The load
comes from locust (`bench/locustfile.py`) in a process of its own, one endpoint at a time:

- closed loop: `--users` users (default 8), each sending its next request when the answer
  arrives, for `--seconds` (after a second of warm-up): requests/s, p50, p99;
- a create at a fixed `--rate` (default 100 req/s, 50 users × 2 req/s with locust's
  `constant_throughput`): p99, against the bare create at the same rate.

Reads compare to GET /bare (20 items), writes to POST /bare (a small JSON body validated by
marshmallow, 201, nothing stored). Each service's data are seeded before it starts, in this
process, through its own domain functions and event handlers (the copies its consumer would
have written): no mocks, and a page of 20 items to list.

    python -m bench.http [--seconds 6] [--users 8] [--rate 100] [--services registry,reports,awards,notify]

(`python -m`, not `python bench/http.py`: run as a script, this file would hide the standard
library's `http` package.)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import psutil
import requests
from tdkt.auth.tokens import generate_key_pair, mint_token
from tdkt.clock import local_today
from tdkt.events.consumer import HandlerContext
from tdkt.events.envelope import Event, EventType
from tdkt_localstack.ports import free_port

from bench.common import bench_servers, percentile, record, row, serve

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
RATE_PER_USER = 2.0  # the fixed-rate load: rate / 2 users, each at 2 req/s, so an answer may take 500 ms
SEEDED = 50  # units with their own records: one per user of the fixed-rate load, so no two users share one


@dataclass
class Endpoint:
    label: str  # "list units"
    requests: list[dict]  # one per user in turn: method, path, headers, json, expect


@dataclass
class Target:
    service: str
    read: Endpoint
    write: Endpoint


@dataclass
class Load:
    times: list[float]
    statuses: dict[str, int]
    unexpected: list[str]
    seconds: float

    @property
    def per_second(self) -> float:
        return len(self.times) / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        return sum(self.statuses.values()) - len(self.times)

    def p(self, q: float) -> float:
        return percentile(self.times, q) if self.times else float("nan")


class Tokens:
    def __init__(self, folder: Path):
        self.private, self.public = folder / "private.pem", folder / "public.pem"
        generate_key_pair(self.private, self.public)

    def __call__(self, role: str, unit: str | None = None) -> dict[str, str]:
        token = mint_token(self.private.read_bytes(), issuer="bench", audience="tdkt", roles=[role], unit_id=unit, ttl=timedelta(hours=2))
        return {"Authorization": f"Bearer {token}"}


def feed(handler: Callable, db, type_: str, topic: str, subject: str, data: dict) -> None:
    """Deliver one event to a handler as the consumer would."""
    handler(Event.new(EventType(type_, topic), source="/bench", subject=subject, data=data, sequence=1), HandlerContext(db=db, data=data, attempt=1))


# --- seeds: the least each endpoint needs, written through the service's own code -----------------


def seed_registry(db, tokens: Tokens) -> Target:
    from tdkt_registry.adapters.unit_store import UnitStore
    from tdkt_registry.service_layer.units import establish_unit

    store = UnitStore(db)

    def establish(**data) -> str:
        return establish_unit(store, data, "bench")[1][0].id

    province = establish(code="12", name="Tỉnh Lai Châu", kind="province", valid_from="2004-01-01")
    communes = [establish(code=f"{3400 + i:05d}", name=f"Xã Thử Nghiệm {i:02d}", kind="commune", parent_id=province, valid_from="2004-01-01") for i in range(30)]
    officer = tokens("tdkt_officer")
    return Target(
        "registry",
        Endpoint("list units", [{"method": "GET", "path": "/api/v1/units", "headers": tokens("unit_reporter", communes[0]), "expect": 200}]),
        Endpoint(
            "establish a unit",
            [
                {"method": "POST", "path": "/api/v1/units", "headers": officer, "json": {"name": "Phòng Văn hóa {seq}", "kind": "agency", "parent_id": c}, "expect": 201}
                for c in communes
            ],
        ),
    )


def seed_reports(db, tokens: Tokens) -> Target:
    from tdkt_reports.service_layer import projections
    from tdkt_reports.service_layer.periods import report_id

    today = local_today()
    units = [uuid.uuid4().hex for _ in range(SEEDED)]
    for i, unit in enumerate(units):
        feed(
            projections.on_unit, db, "vn.tdkt.registry.unit.established.v1", "registry.units.v1", unit, {"unit": {"id": unit, "name": f"Xã Thử Nghiệm {i:02d}", "kind": "commune"}}
        )
    movement_id = uuid.uuid4().hex
    criterion = {"area": "kinh-te", "direction": "higher_is_better", "evidence_required": False}
    movement = {
        "title": "Thi đua hoàn thành chỉ tiêu năm",
        "state": "launched",
        "organiser_id": units[0],
        "period_start": (today - timedelta(days=40)).isoformat(),
        "period_end": (today + timedelta(days=80)).isoformat(),
        "content_areas": [{"key": "kinh-te", "title": "Kinh tế"}],
        "criteria": [
            criterion | {"key": "giai-ngan", "name": "Giải ngân đầu tư công", "unit_of_measure": "%", "target": 95, "value_type": "percent", "weight": 2},
            criterion | {"key": "ocop", "name": "Sản phẩm OCOP", "unit_of_measure": "sản phẩm", "target": 1, "value_type": "integer", "weight": 1},
        ],
        "due_dates": [
            {"kind": "interim", "period": (today - timedelta(days=30)).strftime("%Y-%m"), "due": (today - timedelta(days=5)).isoformat()},
            {"kind": "interim", "period": (today + timedelta(days=31)).strftime("%Y-%m"), "due": (today + timedelta(days=45)).isoformat()},
            {"kind": "final", "period": "final", "due": (today + timedelta(days=80)).isoformat()},
        ],
        "participant_ids": units,
    }
    feed(projections.on_movement, db, "vn.tdkt.registry.movement.launched.v1", "registry.movements.v1", movement_id, {"movement": {"id": movement_id, **movement}})
    period = movement["due_dates"][0]["period"]  # open now (and late): what units are drafting
    draft = {"narrative": "Tháng này giải ngân tốt ({seq})", "values": {"giai-ngan": {"value": 96.5, "unit": "%"}, "ocop": {"value": 1}}, "self_assessment": "good"}
    return Target(
        "reports",
        Endpoint(
            "list a movement's reports",
            [{"method": "GET", "path": f"/api/v1/reports?movement_id={movement_id}", "headers": tokens("tdkt_officer"), "expect": 200}],
        ),
        Endpoint(
            "save a report's draft",
            [
                {
                    "method": "PUT",
                    "path": f"/api/v1/reports/{report_id(movement_id, unit, period)}/draft",
                    "headers": tokens("unit_reporter", unit) | {"If-Match": "*"},
                    "json": draft,
                    "expect": 200,
                }
                for unit in units
            ],
        ),
    )


def seed_awards(db, tokens: Tokens) -> Target:
    from tdkt.auth import Principal
    from tdkt_awards.entrypoints.api.nomination_schemas import NominationInputSchema
    from tdkt_awards.service_layer import nominations, projections
    from tdkt_awards.service_layer.catalogue import seed_default

    seed_default("bench")
    commune, school = uuid.uuid4().hex, uuid.uuid4().hex
    for unit, name, parent in ((commune, "Xã Bình Lư", None), (school, "Trường Mầm non Bình Lư", commune)):
        feed(projections.on_unit, db, "vn.tdkt.registry.unit.established.v1", "registry.units.v1", unit, {"unit": {"name": name, "parent_id": parent, "kind": "commune"}})

    def individual(key: str) -> dict:
        nominee = {"name": "Lò Thị Mai", "unit_id": school, "position": "Giáo viên", "gender": "female", "direct_worker": True, "performance": "excellent"}
        return {
            "kind": "annual",
            "year": local_today().year,
            "title_code": "LDTT",
            "subject": "individual",
            "nominee": nominee | {"person_key": f"cccd-{key}", "prior_titles": []},
            "achievement": "Giáo viên dạy giỏi cấp tỉnh",
        }

    head = Principal("bench-head", frozenset({"unit_head"}), commune)
    for i in range(30):
        nominations.create(NominationInputSchema().load(individual(f"seed-{i}")), head)  # the API's defaults
    headers = tokens("unit_head", commune)
    return Target(
        "awards",
        Endpoint("list nominations", [{"method": "GET", "path": "/api/v1/nominations", "headers": headers, "expect": 200}]),
        Endpoint("draft a nomination", [{"method": "POST", "path": "/api/v1/nominations", "headers": headers, "json": individual("{seq}"), "expect": 201}]),
    )


def seed_notify(db, tokens: Tokens) -> Target:
    from tdkt_notify.service_layer import config, intake

    config.seed_routes(db)
    unit = uuid.uuid4().hex
    feed(intake.on_unit, db, "vn.tdkt.registry.unit.established.v1", "registry.units.v1", unit, {"unit": {"name": "Xã Bình Lư", "contacts": {"email": "binhlu@example.vn"}}})
    for month in range(1, 31):  # 30 reminders: 30 messages in the unit's inbox
        period = f"{2000 + month}-11"
        report = {
            "id": f"mv.{unit}.{period}",
            "movement_id": "mv",
            "unit_id": unit,
            "period": period,
            "kind": "interim",
            "due": f"{2000 + month}-11-25",
            "state": "open",
            "version": 0,
            "late": False,
        }
        feed(intake.on_event, db, "vn.tdkt.reports.report.due_soon.v1", "reports.reports.v1", report["id"], {"report": report})
    return Target(
        "notify",
        Endpoint("inbox", [{"method": "GET", "path": "/api/v1/inbox", "headers": tokens("unit_reporter", unit), "expect": 200}]),
        Endpoint(
            "subscribe a unit",
            [
                {
                    "method": "POST",
                    "path": "/api/v1/subscriptions",
                    "headers": tokens("unit_head", unit),
                    "json": {"owner": "unit", "channel": "email", "mode": "digest"},
                    "expect": 201,
                }
            ],
        ),
    )


SEEDS = {"registry": seed_registry, "reports": seed_reports, "awards": seed_awards, "notify": seed_notify}


def seeded(service: str, env: dict, tokens: Tokens) -> Target:
    """Seed with the service's own app (its settings, store and mongoengine connection), then let go."""
    import importlib

    import mongoengine
    from tdkt.web.app import create_app

    os.environ.update(env)
    if service == "notify":
        from tdkt_notify import settings as notify_settings

        notify_settings.current.cache_clear()
    app = create_app(importlib.import_module(f"tdkt_{service}.bootstrap").SERVICE)
    try:
        with app.app_context():
            return SEEDS[service](app.extensions["tdkt"].db, tokens)
    finally:
        mongoengine.disconnect()


# --- load and memory ------------------------------------------------------------------------------


def load(base: str, endpoint: Endpoint, users: int, seconds: int, rate: float | None = None) -> Load:
    """Run locust headless in its own process against one endpoint; read back what it measured."""
    folder = Path(tempfile.mkdtemp(prefix="bench-http-"))
    plan = {"requests": endpoint.requests, "rate": rate, "warmup_s": 1.0, "seconds": seconds, "out": str(folder / "out.json")}
    (folder / "plan.json").write_text(json.dumps(plan))
    argv = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary", "--loglevel", "ERROR"]
    argv += ["-u", str(users), "-r", str(users), "-t", f"{seconds + 60}s", "--host", base]  # the locustfile stops the run itself
    with open(folder / "locust.log", "w") as log:
        subprocess.run(argv, env=os.environ | {"TDKT_BENCH_PLAN": str(folder / "plan.json")}, stdout=log, stderr=subprocess.STDOUT, timeout=seconds + 120, check=False)
    out = folder / "out.json"
    if not out.exists():
        raise SystemExit(f"locust wrote nothing; its log:\n{(folder / 'locust.log').read_text()[-3000:]}")
    result = json.loads(out.read_text())
    if not result["times"]:
        print(f"  no expected answer counted for {endpoint.label}: {result['statuses']}; locust's log: {folder / 'locust.log'}", file=sys.stderr)
    return Load(result["times"], result["statuses"], result["unexpected"], result["window"]["end"] - result["window"]["start"])


def rss_mb(process: subprocess.Popen) -> tuple[float, float]:
    """(master, heaviest worker) resident set size of a gunicorn, in MB."""
    master = psutil.Process(process.pid)
    workers = master.children()
    return master.memory_info().rss / 2**20, max((w.memory_info().rss for w in workers), default=0) / 2**20


def warm_up(base: str, target_requests: list[tuple[Endpoint, int]]) -> None:
    """A few requests of each kind (the workers' imports, caches, connections), failing early on a wrong answer."""
    session = requests.Session()
    for endpoint, n in target_requests:
        for i in range(n):
            spec = endpoint.requests[i % len(endpoint.requests)]
            body = json.loads(json.dumps(spec["json"]).replace("{seq}", f"warm-{i}")) if spec.get("json") is not None else None
            response = session.request(spec["method"], base + spec["path"], headers=spec["headers"], json=body, timeout=60)
            if response.status_code != spec["expect"]:
                raise SystemExit(f"{spec['method']} {spec['path']} answered {response.status_code}, not {spec['expect']}: {response.text[:500]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--services", default=",".join(SEEDS), help="a comma-separated subset of " + ", ".join(SEEDS))
    args = parser.parse_args()
    services = [s for s in SEEDS if s in args.services.split(",")]
    rate_users = max(1, round(args.rate / RATE_PER_USER))

    with bench_servers() as (bootstrap, mongo_uri):
        tokens = Tokens(Path(tempfile.mkdtemp()))
        common = {"MONGODB_URI": mongo_uri, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "JWT_ISSUER": "bench", "JWT_AUDIENCE": "tdkt", "JWT_PUBLIC_KEY_FILE": str(tokens.public)}
        envs = {s: common | {"MONGODB_DATABASE": f"bench_http_{s}_{os.getpid()}", "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp()} for s in services}
        processes: dict[str, subprocess.Popen] = {}
        try:
            print(f"{time.strftime('%H:%M:%S')} seeding …", flush=True)
            targets = [seeded(s, envs[s], tokens) for s in services]
            bare_write = {"name": "Phòng Văn hóa {seq}", "kind": "agency", "parent_id": "a" * 32}
            bare = Target(
                "bare",
                Endpoint("GET /bare", [{"method": "GET", "path": "/bare", "headers": {}, "expect": 200}]),
                Endpoint("POST /bare", [{"method": "POST", "path": "/bare", "headers": {}, "json": bare_write, "expect": 201}]),
            )
            print(f"{time.strftime('%H:%M:%S')} starting the bare app and the APIs …", flush=True)
            ports = {target.service: free_port() for target in [bare, *targets]}

            def start(target: Target) -> tuple[str, subprocess.Popen]:
                if target is bare:
                    argv, env = (
                        [sys.executable, "-m", "gunicorn", "--config", "python:tdkt.gunicorn_conf", "bench.bare_app:app"],
                        common | {"PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp()},
                    )
                    return target.service, serve(argv, env, ports[target.service], "/bare")
                return target.service, serve([sys.executable, "-m", f"tdkt_{target.service}", "api"], envs[target.service], ports[target.service], "/healthz")

            with ThreadPoolExecutor(len(ports)) as pool:  # side by side: each start-up mostly waits
                starting = [pool.submit(start, target) for target in [bare, *targets]]
            processes.update(f.result() for f in starting if f.exception() is None)
            for f in starting:
                f.result()  # the first failure, if any (the others are stopped below)
            base = {s: f"http://127.0.0.1:{p}" for s, p in ports.items()}
            for target in [bare, *targets]:
                warm_up(base[target.service], [(target.read, 20), (target.write, 4)])
            at_rest = {s: rss_mb(p) for s, p in processes.items()}

            measured: dict[str, tuple[Load, Load, Load]] = {}
            for target in [bare, *targets]:
                print(f"{time.strftime('%H:%M:%S')} load: {target.service} — {target.read.label}, {target.write.label}, {target.write.label} at {args.rate} req/s …", flush=True)
                url = base[target.service]
                measured[target.service] = (
                    load(url, target.read, args.users, args.seconds),
                    load(url, target.write, args.users, args.seconds),
                    load(url, target.write, rate_users, args.seconds, rate=RATE_PER_USER),
                )
            after = {s: rss_mb(p) for s, p in processes.items()}
        finally:
            for process in processes.values():
                process.terminate()
            for process in processes.values():
                process.wait(timeout=30)
            from pymongo import MongoClient

            with MongoClient(mongo_uri) as client:
                for env in envs.values():
                    client.drop_database(env["MONGODB_DATABASE"])

    rows = report(bare, targets, measured, at_rest, after, args)
    record(rows, "http")
    print(
        f"baselines: GET /bare (20 items) for reads, POST /bare (marshmallow, 201, nothing stored) for writes, both under the same gunicorn config;"
        f" closed loop at {args.users} users for {args.seconds} s; fixed rate {args.rate} req/s ({rate_users} users × {RATE_PER_USER:g} req/s); the bare app's worker for RSS"
    )


def report(bare: Target, targets: list[Target], measured: dict, at_rest: dict, after: dict, args) -> list[dict]:
    bare_read, bare_write, bare_rate = measured["bare"]
    rows = [
        row(f"http: bare {bare.read.label} (20 items), req/s", bare_read.per_second, "req/s"),
        row(f"http: bare {bare.write.label} (marshmallow, 201), req/s", bare_write.per_second, "req/s"),
        row(f"http: bare {bare.write.label} at {args.rate} req/s, p99", bare_rate.p(99), "ms"),
        row("http: bare app worker RSS at rest", at_rest["bare"][1], "MB"),
    ]
    problems = []
    for target in targets:
        read, write, fixed = measured[target.service]
        name = f"http: {target.service}"
        rows += [
            row(f"{name} {target.read.label}, req/s", read.per_second, "req/s", bare_read.per_second),
            row(f"{name} {target.read.label}, p50", read.p(50), "ms", bare_read.p(50)),
            row(f"{name} {target.read.label}, p99", read.p(99), "ms", bare_read.p(99)),
            row(f"{name} {target.write.label}, req/s", write.per_second, "req/s", bare_write.per_second),
            row(f"{name} {target.write.label}, p50", write.p(50), "ms", bare_write.p(50)),
            row(f"{name} {target.write.label}, p99", write.p(99), "ms", bare_write.p(99)),
            row(f"{name} {target.write.label} at {args.rate} req/s, p99", fixed.p(99), "ms", bare_rate.p(99)),
            row(f"{name} {target.write.label} at {args.rate} req/s, achieved", fixed.per_second, "req/s", bare_rate.per_second),
            row(f"{name} api worker RSS at rest", at_rest[target.service][1], "MB", at_rest["bare"][1]),
            row(f"{name} api worker RSS after load", after[target.service][1], "MB", at_rest["bare"][1]),
            row(f"{name} api master RSS at rest", at_rest[target.service][0], "MB", at_rest["bare"][0]),
        ]
        for label, result in ((target.read.label, read), (target.write.label, write), (f"{target.write.label} at {args.rate} req/s", fixed)):
            if result.errors:
                rows.append(row(f"{name} {label}, unexpected answers", result.errors, "requests"))
                problems.append(f"{name} {label}: {dict(result.statuses)}; e.g. {result.unexpected[:2]}")
    for target, result in (("bare", bare_read), ("bare", bare_write), ("bare", bare_rate)):
        if result.errors:
            problems.append(f"{target}: {dict(result.statuses)}; e.g. {result.unexpected[:2]}")
    for line in problems:
        print(f"UNEXPECTED ANSWERS — {line}", file=sys.stderr)
    return rows


if __name__ == "__main__":
    main()
