"""Registry at scale: today's 3,391 administrative units (with the Tam Đường history) plus
10,000 generated agencies, then hierarchy, search and list endpoints over real HTTP.

Baselines, measured in the same run: for writes, inserting as many bare documents one by one
into the same store; for a cold start, reading every unit document (what the snapshot avoids);
for HTTP, a bare Flask JSON endpoint under the same gunicorn configuration.

    python -m bench.registry [--agencies 10000] [--requests 300] [--scale F --base tenth|full]

`--scale F` multiplies the generated agencies by F × a tenth (`--base full`: F × 1); the 3,391
administrative units are the country's and stay as they are.

Requests are sent one after another by this process (closed loop, one client), after a warm-up.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import requests
from tdkt.auth.tokens import generate_key_pair, mint_token
from tdkt.clock import local_today
from tdkt.settings import MongoSettings
from tdkt.store import connect_store
from tdkt_localstack.ports import free_port
from tdkt_registry.adapters import unit_store
from tdkt_registry.adapters.unit_store import UnitStore
from tdkt_registry.domain import acts
from tdkt_registry.domain.acts import Act, ChangeSet, NewUnit, UnitChange
from tdkt_registry.service_layer.admin_units import import_admin_units

from bench.common import add_scale_options, bench_servers, percentile, record, row, scaled, serve

AGENCY_KINDS = ("agency", "school", "mass_organisation", "enterprise", "public_service_unit", "party_organisation")


def bare_inserts(db, n: int) -> float:
    started = time.perf_counter()
    for i in range(n):
        db.bare_units.insert_one({"_id": i, "name": f"Đơn vị {i}", "kind": "agency", "parent_id": "x" * 32})
    return time.perf_counter() - started


def generate_agencies(store: UnitStore, n: int) -> float:
    started = time.perf_counter()
    today = local_today()
    with store.writing() as directory:
        communes = [u for u in directory.all() if u.at(today) and u.current.kind in ("commune", "ward", "special_zone")]
        parents = itertools.cycle(communes)
        made = 0
        while made < n:
            batch = min(200, n - made)
            act = Act(id=uuid.uuid4().hex, kind="establish", note="bench")
            specs = [NewUnit(uuid.uuid4().hex, f"{kind_label(i)} {made + i}", AGENCY_KINDS[(made + i) % len(AGENCY_KINDS)], parent_id=next(parents).id) for i in range(batch)]
            store.commit(acts.validated(directory, ChangeSet(act, [UnitChange(s.to_unit(act.id), "established", created=True) for s in specs])), "bench")
            store.keep_alive()
            directory = store.directory(fresh=True)
            made += batch
        store.write_snapshot(directory)
    return time.perf_counter() - started


def kind_label(i: int) -> str:
    return ("Phòng Văn hóa", "Trường Tiểu học", "Hội Nông dân", "Công ty TNHH", "Trạm Y tế", "Chi bộ")[i % 6]


def timings(session: requests.Session, url: str, n: int, headers: dict | None = None) -> list[float]:
    for _ in range(20):  # warm-up: connections, the workers' directory caches
        session.get(url, headers=headers).raise_for_status()
    spent = []
    for _ in range(n):
        started = time.perf_counter()
        session.get(url, headers=headers).raise_for_status()
        spent.append((time.perf_counter() - started) * 1000)
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agencies", type=int, default=10000)
    parser.add_argument("--requests", type=int, default=300)
    add_scale_options(parser)
    args = parser.parse_args()
    args.agencies = scaled(args.agencies, args.scale, args.base)

    with bench_servers() as (bootstrap, mongo_uri):
        name = f"bench_registry_{os.getpid()}"
        db = connect_store(MongoSettings(mongo_uri, name, 5000))
        store = UnitStore(db, lock_wait_s=120, lease_ttl_s=60)
        try:
            print("importing the administrative units …", flush=True)
            started = time.perf_counter()
            summary = import_admin_units(store, "bench")
            import_s = time.perf_counter() - started
            admin_units = summary.created
            bare_import_s = bare_inserts(db, admin_units)
            started = time.perf_counter()
            again = import_admin_units(store, "bench")
            reimport_s = time.perf_counter() - started
            assert not again.created and not again.changed, again.sentence()
            print(f"generating {args.agencies} agencies …", flush=True)
            agencies_s = generate_agencies(store, args.agencies)
            total = admin_units + args.agencies

            unit_store._cache.clear()
            started = time.perf_counter()
            directory = store.directory()
            snapshot_s = time.perf_counter() - started
            started = time.perf_counter()
            store._load({})  # no snapshot: every unit document
            scan_s = time.perf_counter() - started

            keys = Path(tempfile.mkdtemp())
            generate_key_pair(keys / "private.pem", keys / "public.pem")
            token = mint_token((keys / "private.pem").read_bytes(), issuer="bench", audience="tdkt", roles=["tdkt_officer"], unit_id=None, ttl=timedelta(hours=1))
            env = {
                "MONGODB_URI": mongo_uri,
                "MONGODB_DATABASE": name,
                "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                "JWT_ISSUER": "bench",
                "JWT_AUDIENCE": "tdkt",
                "JWT_PUBLIC_KEY_FILE": str(keys / "public.pem"),
                "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(),
            }
            api_port, bare_port = free_port(), free_port()
            api = serve([sys.executable, "-m", "tdkt_registry", "api"], env, api_port, "/healthz")
            bare = serve(
                [sys.executable, "-m", "gunicorn", "--config", "python:tdkt.gunicorn_conf", "bench.bare_app:app"],
                env | {"PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp()},
                bare_port,
                "/bare",
            )
            try:
                session, auth = requests.Session(), {"Authorization": f"Bearer {token}"}
                today = local_today()
                lai_chau = directory.by_code("12", today).id
                ha_noi = directory.by_code("01", today).id
                tam_duong = directory.by_code("106", today.replace(year=2023, month=6, day=15)).id
                base = f"http://127.0.0.1:{api_port}/api/v1"
                endpoints = [
                    ("subtree of Lai Châu, 50 per page", f"{base}/units/{lai_chau}/subtree?per_page=50"),
                    ("subtree of Hà Nội, 200 per page", f"{base}/units/{ha_noi}/subtree?per_page=200"),
                    ("search q=tam duong", f"{base}/units?q=tam%20duong"),
                    ("search q=03390 as of 2023-06-15", f"{base}/units?q=03390&as_of=2023-06-15"),
                    ("list kind=ward, 50 per page", f"{base}/units?kind=ward&per_page=50"),
                    (f"list all {total:,} units, sorted, 50 per page", f"{base}/units?per_page=50"),
                    ("children of Tam Đường as of 2023-06-15", f"{base}/units/{tam_duong}/children?as_of=2023-06-15"),
                    ("one unit with its history", f"{base}/units/{lai_chau}"),
                ]
                print(f"HTTP: {args.requests} requests per endpoint …", flush=True)
                bare_ms = timings(session, f"http://127.0.0.1:{bare_port}/bare", args.requests)
                measured = [(label, timings(session, url, args.requests, auth)) for label, url in endpoints]
            finally:
                for process in (api, bare):
                    process.terminate()
                    process.wait(timeout=20)
        finally:
            db.client.drop_database(name)

    per_bare = bare_import_s / admin_units
    rows = [
        row(f"registry: import {admin_units:,} administrative units (acts, outbox, history)", import_s, "s", bare_import_s),
        row("registry: import again (nothing changes)", reimport_s, "s", bare_import_s),
        row(f"registry: establish {args.agencies:,} agencies in acts of 200", agencies_s, "s", per_bare * args.agencies),
        row(f"registry: cold load of {total:,} units from the snapshot", snapshot_s * 1000, "ms", scan_s * 1000),
        row("registry: HTTP baseline, bare Flask JSON p99", percentile(bare_ms, 99), "ms"),
    ]
    for label, spent in measured:
        rows.append(row(f"registry: {label}, p99", percentile(spent, 99), "ms", percentile(bare_ms, 99)))
        rows.append(row(f"registry: {label}, p50", percentile(spent, 50), "ms", percentile(bare_ms, 50)))
    record(rows, "registry")
    print("baselines: bare one-by-one inserts for writes; reading every unit document for the cold load; a bare Flask endpoint under the same gunicorn config for HTTP")


if __name__ == "__main__":
    main()
