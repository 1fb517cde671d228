"""What every benchmark shares: the servers, rows with their baseline, one results file, one table.

Each benchmark replaces its own rows in `results/latest.json` (rows are grouped by a prefix such
as `registry:`), so `make bench` builds one table from several modules and a single module can
be re-run alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

RESULTS = Path(__file__).with_name("results") / "latest.json"


@contextmanager
def bench_servers() -> Iterator[tuple[str, str]]:
    """(Kafka bootstrap, MongoDB URI): yours from TDKT_BENCH_* or a local pair started here."""
    bootstrap, mongo = os.environ.get("TDKT_BENCH_KAFKA_BOOTSTRAP"), os.environ.get("TDKT_BENCH_MONGODB_URI")
    if bootstrap and mongo:
        yield bootstrap, mongo
        return
    from tdkt_localstack.paths import sub
    from tdkt_localstack.ports import free_port
    from tdkt_localstack.servers import start_local

    print("starting a local Kafka and FerretDB for the benchmark …", flush=True)
    servers = start_local(sub("tmp") / f"bench-{os.getpid()}", free_port(), free_port(), free_port(), remove_on_stop=True)
    try:
        yield servers.kafka_bootstrap, servers.mongo_uri
    finally:
        servers.stop()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def row(name, value, unit, baseline=None):
    return {
        "name": name,
        "value": round(value, 2),
        "unit": unit,
        "baseline": None if baseline is None else round(baseline, 2),
        "ratio": None if not baseline else round(value / baseline, 3),
    }


def record(rows: list[dict], group: str) -> None:
    """Replace this group's rows in results/latest.json and print the table of this run."""
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    kept = [r for r in previous if not r.get("group", "backbone") == group]
    for r in rows:
        r["group"] = group
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(kept + rows, indent=2, ensure_ascii=False) + "\n")
    width = max(len(r["name"]) for r in rows)
    print()
    print(f"{'measure':<{width}}  {'value':>10}  {'baseline':>10}  {'ratio':>6}")
    for r in rows:
        baseline = "" if r["baseline"] is None else f"{r['baseline']:>10.1f}"
        ratio = "" if r["ratio"] is None else f"{r['ratio']:>6.2f}"
        print(f"{r['name']:<{width}}  {r['value']:>10.1f}  {baseline:>10}  {ratio:>6}  {r['unit']}")
    print(f"written to {RESULTS}")


def serve(argv: list[str], env: dict, port: int, probe: str, timeout_s: float = 90) -> subprocess.Popen:
    """Start a server process (gunicorn: 2 workers) and wait until `probe` answers 200 — patient
    with a socket that accepts before its workers answer."""
    import requests

    process = subprocess.Popen(
        argv, env=os.environ | env | {"PORT": str(port), "HOST": "127.0.0.1", "WEB_WORKERS": "2", "LOG_LEVEL": "WARNING"}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}{probe}", timeout=5).status_code == 200:
                return process
        except requests.RequestException:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit(f"{argv} did not answer on port {port}")


# --- what the scale benchmarks and the growth curve share -----------------------------------------

BASES = {"tenth": 0.1, "full": 1.0}  # what --scale 1 means: a tenth of the target, or the target


def add_scale_options(parser) -> None:
    """`--scale F --base tenth|full`: every size option is multiplied by F × base (1× = a tenth of
    the target, so 10× is the target; `--base full` goes to ten times the targets). Without
    `--scale`, the sizes are the options' own values (the targets)."""
    parser.add_argument("--scale", type=float, default=None, help="growth factor applied to the sizes (1× = --base)")
    parser.add_argument("--base", choices=sorted(BASES), default="tenth", help="what 1× is: a tenth of the target (default) or the target")


def scaled(target: int, scale: float | None, base: str = "tenth") -> int:
    return target if scale is None else max(1, round(target * scale * BASES[base]))


def signing_keys() -> Path:
    """A fresh key pair for the servers under test (JWT_PUBLIC_KEY_FILE) and for minting tokens."""
    import tempfile

    from tdkt.auth.tokens import generate_key_pair

    keys = Path(tempfile.mkdtemp())
    generate_key_pair(keys / "private.pem", keys / "public.pem")
    return keys


def bearer(keys: Path, roles: list[str], unit_id: str | None = None) -> dict:
    from datetime import timedelta

    from tdkt.auth.tokens import mint_token

    token = mint_token((keys / "private.pem").read_bytes(), issuer="bench", audience="tdkt", roles=roles, unit_id=unit_id, ttl=timedelta(hours=2))
    return {"Authorization": f"Bearer {token}"}


def service_env(bootstrap: str, mongo_uri: str, database: str, keys: Path) -> dict:
    """The environment of a service's API process under test (its own Prometheus directory)."""
    import tempfile

    return {
        "MONGODB_URI": mongo_uri,
        "MONGODB_DATABASE": database,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "JWT_ISSUER": "bench",
        "JWT_AUDIENCE": "tdkt",
        "JWT_PUBLIC_KEY_FILE": str(keys / "public.pem"),
        "WEB_TIMEOUT": "120",
        "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(),
    }


def serve_bare(env: dict, port: int) -> subprocess.Popen:
    """The HTTP baseline: bench/bare_app.py under the services' gunicorn configuration."""
    import sys
    import tempfile

    argv = [sys.executable, "-m", "gunicorn", "--config", "python:tdkt.gunicorn_conf", "bench.bare_app:app"]
    return serve(argv, env | {"PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp()}, port, "/bare")


def stop(*processes: subprocess.Popen) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=30)
