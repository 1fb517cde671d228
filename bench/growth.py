"""Growth: how the p99 of list, search and aggregation endpoints grows with the data, for the
registry, reports and awards at 1×, 3× and 10×.

1× is a tenth of the targets (design/quality.md), so 10× is the target: 1,000 agencies beside the
country's 3,391 administrative units / 300 units and 10,800 reports / 2,000 nominations over 300
units at 1×; `--base full` makes 1× the target and 10× ten times it (slow: 100,000 agencies are
established act by act). The data are made as `bench.registry`, `bench.reports` and
`bench.awards` make them; the registry grows in one database (agencies are added between scales),
reports and awards get a fresh database per scale. A fresh API process (gunicorn, 2 workers × 4
threads) serves each scale.

Each row's baseline is the same endpoint's p99 at the first scale, so the ratio is the growth
factor of the cost: 1 is flat, the data's own factor (3, 10) is linear.

    python -m bench.growth [--scales 1,3,10] [--base tenth|full] [--requests 100] [--services registry,reports,awards]

About 6–8 minutes on an idle 2-core machine with the defaults.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable

import requests
from tdkt.clock import local_today
from tdkt.settings import MongoSettings
from tdkt.store import connect_store
from tdkt_localstack.ports import free_port

from bench import awards as awards_bench
from bench import reports as reports_bench
from bench.common import BASES, bearer, bench_servers, percentile, record, row, scaled, serve, serve_bare, service_env, signing_keys, stop
from bench.registry import generate_agencies, timings

# (size label, {endpoint: p99 ms}) per scale
Curve = list[tuple[float, str, dict[str, float]]]


def measure(argv: list[str], env: dict, endpoints: Callable[[str], list[tuple[str, str, dict]]], n: int, cold: bool = False) -> dict[str, float]:
    """Serve the API and return each endpoint's p99 over `n` requests (after 20 warm-up); `cold`:
    the first endpoint answers 503 while a worker loads (retried, twice: one per worker)."""
    port = free_port()
    api = serve(argv, env, port, "/healthz")
    try:
        base = f"http://127.0.0.1:{port}/api/v1"
        session = requests.Session()
        if cold:
            for _worker in range(2):
                reports_bench.first_answer(session, *endpoints(base)[0][1:])
        return {label: percentile(timings(session, url, n, headers), 99) for label, url, headers in endpoints(base)}
    finally:
        stop(api)


def registry_curve(bootstrap: str, mongo_uri: str, scales: list[float], base: str, n: int) -> Curve:
    from tdkt_registry.adapters.unit_store import UnitStore
    from tdkt_registry.service_layer.admin_units import import_admin_units

    name = f"bench_growth_registry_{os.getpid()}"
    db = connect_store(MongoSettings(mongo_uri, name, 5000))
    keys, curve, made = signing_keys(), [], 0
    officer = bearer(keys, ["tdkt_officer"])
    try:
        store = UnitStore(db, lock_wait_s=120, lease_ttl_s=60)
        admin_units = import_admin_units(store, "bench").created
        ha_noi = store.directory().by_code("01", local_today()).id
        for scale in scales:
            wanted = scaled(10000, scale, base)
            print(f"registry at {scale:g}×: {wanted:,} agencies …", flush=True)
            generate_agencies(store, wanted - made)
            made = wanted
            figures = measure(
                [sys.executable, "-m", "tdkt_registry", "api"],
                service_env(bootstrap, mongo_uri, name, keys),
                lambda api: [
                    ("list", f"{api}/units?per_page=50", officer),
                    ("search", f"{api}/units?q=tam%20duong", officer),
                    ("subtree", f"{api}/units/{ha_noi}/subtree?per_page=200", officer),
                ],
                n,
            )
            curve.append((scale, f"{admin_units + made:,} units", figures))
    finally:
        db.client.drop_database(name)
    return curve


def reports_curve(bootstrap: str, mongo_uri: str, scales: list[float], base: str, n: int) -> Curve:
    keys, curve = signing_keys(), []
    officer = bearer(keys, ["tdkt_officer"])
    for scale in scales:
        units = scaled(3000, scale, base)
        name = f"bench_growth_reports_{os.getpid()}_{len(curve)}"
        db = connect_store(MongoSettings(mongo_uri, name, 5000))
        try:
            print(f"reports at {scale:g}×: {units:,} units …", flush=True)
            movement = reports_bench.generate(db, 3, units, random.Random(20240101))[0][0]
            port = free_port()
            api = serve([sys.executable, "-m", "tdkt_reports", "api"], service_env(bootstrap, mongo_uri, name, keys), port, "/healthz")
            try:
                session, url = requests.Session(), f"http://127.0.0.1:{port}/api/v1/movements/{movement}/aggregation"
                reports_bench.first_answer(session, url, officer)  # the first request loads the movement (503 until then)
                figures = {"list": percentile(timings(session, url, n, officer), 99), "sorted list": percentile(timings(session, f"{url}?per_page=200&sort=name", n, officer), 99)}
                # new weights every request: scores and ranks recomputed each time
                reweighed = [reports_bench.once(session, f"{url}?weights=giai-ngan:{i % 50 + 1},ocop:{i // 50 + 1}", officer)[0] for i in range(n + 20)]
                figures["aggregation, new weights"] = percentile(reweighed[20:], 99)
            finally:
                stop(api)
            curve.append((scale, f"{3 * units * len(reports_bench.PERIODS):,} reports", figures))
        finally:
            db.client.drop_database(name)
    return curve


def awards_curve(bootstrap: str, mongo_uri: str, scales: list[float], base: str, n: int) -> Curve:
    keys, curve = signing_keys(), []
    officer, finance = bearer(keys, ["tdkt_officer"]), bearer(keys, ["finance_officer"])
    for scale in scales:
        nominations, units = scaled(20000, scale, base), scaled(3000, scale, base)
        name = f"bench_growth_awards_{os.getpid()}_{len(curve)}"
        db = connect_store(MongoSettings(mongo_uri, name, 5000))
        try:
            print(f"awards at {scale:g}×: {nominations:,} nominations …", flush=True)
            made = awards_bench.generate(db, nominations, units, random.Random(20250101))
            figures = measure(
                [sys.executable, "-m", "tdkt_awards", "api"],
                service_env(bootstrap, mongo_uri, name, keys),
                lambda api, unit=made["unit"]: [
                    ("list", f"{api}/nominations", officer),
                    ("search (unit_id=)", f"{api}/nominations?unit_id={unit}", officer),
                    ("aggregation (ledger totals by unit)", f"{api}/ledger/totals?group_by=unit", finance),
                ],
                n,
                cold=True,
            )
            curve.append((scale, f"{nominations:,} nominations", figures))
        finally:
            db.client.drop_database(name)
    return curve


CURVES = {"registry": registry_curve, "reports": reports_curve, "awards": awards_curve}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="1,3,10", help="growth factors, comma-separated (1× = --base)")
    parser.add_argument("--base", choices=sorted(BASES), default="tenth", help="what 1× is: a tenth of the targets (default) or the targets")
    parser.add_argument("--requests", type=int, default=100, help="requests per endpoint and scale, after 20 warm-up")
    parser.add_argument("--services", default=",".join(CURVES), help="which of registry, reports, awards")
    args = parser.parse_args()
    scales = sorted(float(s) for s in args.scales.split(","))
    services = [s.strip() for s in args.services.split(",") if s.strip()]
    unknown = [s for s in services if s not in CURVES]
    if unknown:
        parser.error(f"unknown service(s): {', '.join(unknown)}")

    started = time.perf_counter()
    with bench_servers() as (bootstrap, mongo_uri):
        port = free_port()
        bare = serve_bare(service_env(bootstrap, mongo_uri, "bench_growth_bare", signing_keys()), port)
        try:
            bare_p99 = percentile(timings(requests.Session(), f"http://127.0.0.1:{port}/bare", args.requests), 99)
        finally:
            stop(bare)
        curves = {service: CURVES[service](bootstrap, mongo_uri, scales, args.base, args.requests) for service in services}

    rows = [row("growth: HTTP baseline, bare Flask JSON p99", bare_p99, "ms")]
    for service, curve in curves.items():
        first = curve[0][2]
        for scale, size, figures in curve:
            for endpoint, p99 in figures.items():
                rows.append(row(f"growth: {service} {endpoint} p99 at {scale:g}× ({size})", p99, "ms", first[endpoint]))
    record(rows, "growth")
    print(f"baseline of each row: the same endpoint's p99 at {scales[0]:g}× (ratio = growth of the cost); whole run {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
