"""Faults under load: registry, reports and notify as real processes (api, consumer, relay each) on
a Kafka and a FerretDB of this test's own, a steady scripted load (the end-to-end scenario's
writes: movements launched, final reports drafted, submitted and accepted, new units), and
meanwhile, at seeded random moments: kill -9 of API workers, API masters, consumers and relays,
a Kafka restart, the document store stopped for a while, a consumer stalled (SIGSTOP) past its
max_poll_interval. Afterwards, once everything caught up, the invariants of design/quality.md
"Reliability" (see invariants.py) and a summary table.

Short schedule by default (in `make test`); the full one with TDKT_FAULTS=full (`make faults`).
TDKT_FAULTS_SEED=<n> replays a run's moments and order."""

from __future__ import annotations

import os
import random
import time
import uuid

import pytest
from tdkt.auth.tokens import mint_token
from tdkt_localstack.pytest_plugin import TEST_AUDIENCE, TEST_ISSUER
from tdkt_localstack.testing import wait_until

from . import invariants as inv
from .harness import READY_TIMEOUT_S, SUMMARIES, Fault, Http, Load, PrivateStack, Processes, Scenario, inject_all, schedule, summary

FULL = os.environ.get("TDKT_FAULTS") == "full"
MAX_POLL_INTERVAL_MS = 6000  # short, so a stall of a few seconds is "past" it
OUTAGE_S = 10.0 if FULL else 6.0
COMMUNES = 6
RATE = 6.0  # scenario steps per second (a step is an ETag read and a write)
ENV = {
    "WEB_WORKERS": "2",  # one worker killed, the other still serves
    "CONSUMER_MAX_POLL_INTERVAL_MS": str(MAX_POLL_INTERVAL_MS),
    "CONSUMER_MAX_POLL_RECORDS": "50",
    "MONGODB_TIMEOUT_MS": "2000",  # answer 503 within a couple of seconds of losing the store
    "CONSUMER_RETRY_BACKOFF_MS": "100",
}


def say(capsys, text: str) -> None:
    """Shown as the run goes, even when pytest captures output (the seed matters most on a failure)."""
    with capsys.disabled():
        print(text, flush=True)


@pytest.fixture
def private_stack(tmp_path_factory):
    stack = PrivateStack(tmp_path_factory.mktemp("faults-stack"))
    yield stack
    stack.stop()


@pytest.fixture
def servers(private_stack):  # overrides the session's: every process of this test uses the private pair
    return private_stack.start()


def faults(processes: Processes, stack: PrivateStack, readiness: dict) -> list[Fault]:
    def store_outage() -> None:
        stack.store.stop()
        try:
            for name in processes.system.services:  # readiness must turn red while the store is away
                readiness[name] = wait_until(lambda n=name: (s := processes.readiness(n)) == 503 and s, timeout=30, message=f"{name} /readyz red")
            time.sleep(OUTAGE_S)
        finally:
            stack.store.start()
            stack.store.wait_ready(READY_TIMEOUT_S)

    def kafka_restart() -> None:
        stack.kafka.stop()
        time.sleep(2)
        stack.kafka.start()
        stack.kafka.wait_ready()

    stall_s = 2 * MAX_POLL_INTERVAL_MS / 1000
    short = [
        Fault("kill -9 reports API worker", lambda: processes.kill_worker("reports")),
        Fault("kill -9 registry API master", lambda: processes.kill("registry", "api")),
        Fault("kill -9 reports consumer", lambda: processes.kill("reports", "consumer")),
        Fault("kill -9 notify relay", lambda: processes.kill("notify", "relay")),
        Fault("restart Kafka", kafka_restart),
        Fault(f"store down {OUTAGE_S:.0f} s", store_outage),
        Fault("SIGSTOP notify consumer", lambda: processes.stall("notify", "consumer", stall_s)),
    ]
    if not FULL:
        return short
    more = [Fault(f"kill -9 {s} {r}", lambda s=s, r=r: processes.kill(s, r)) for s in ("registry", "reports", "notify") for r in ("consumer", "relay")]
    more += [Fault(f"kill -9 {s} API worker", lambda s=s: processes.kill_worker(s)) for s in ("registry", "notify")]
    more += [Fault(f"kill -9 {s} API master", lambda s=s: processes.kill(s, "api")) for s in ("reports", "notify")]
    more += [Fault("SIGSTOP reports consumer", lambda: processes.stall("reports", "consumer", stall_s)), Fault("restart Kafka again", kafka_restart)]
    return short + more


@pytest.mark.timeout(1800 if FULL else 600)
@pytest.mark.services("registry", "reports", "notify", env=ENV)
def test_faults_under_load_lose_nothing_and_double_nothing(system, private_stack, servers, dev_keys, smtp_server, capsys):
    seed = int(os.environ.get("TDKT_FAULTS_SEED", random.randrange(10**6)))
    rng = random.Random(seed)
    random.seed(seed)
    say(capsys, f"faults under load: seed {seed} ({'full' if FULL else 'short'} schedule)")

    def auth(*roles: str, unit: str | None = None) -> dict:
        token = mint_token(dev_keys[0].read_bytes(), issuer=TEST_ISSUER, audience=TEST_AUDIENCE, roles=list(roles), unit_id=unit, subject="load")
        return {"Authorization": f"Bearer {token}"}

    # the setting: a province and its communes with their addresses, known to notify before the load
    system.tdkt("notify", "seed-routes")
    http = Http({name: system.url(name) for name in system.services})
    officer = auth("tdkt_officer")

    def made(body: dict) -> str:
        response = http("registry", "POST", "/units", officer, body)
        assert response is not None and response.status_code == 201, response.text if response is not None else "no answer"
        return response.json()["units"][0]["id"]

    province = made({"code": "12", "name": "Tỉnh Lai Châu", "kind": "province"})
    load_parent = made({"code": "11", "name": "Tỉnh Điện Biên", "kind": "province"})
    addresses = {}
    for n in range(COMMUNES):
        unit = made({"code": f"0{n:04d}", "name": f"Xã {n}", "kind": "commune", "parent_id": province, "valid_from": "2025-07-01", "contacts": {"email": f"xa{n}@laichau.gov.vn"}})
        addresses[unit] = f"xa{n}@laichau.gov.vn"
    notify_units = system.db("notify").unit_views
    wait_until(
        lambda: notify_units.count_documents({"_id": {"$in": list(addresses)}, "contacts.email": {"$exists": True}}) == COMMUNES,
        timeout=120,
        message="notify's copies of the communes",
    )
    http.calls.clear()  # the summary counts the load's requests

    scenario = Scenario(http, auth, province, sorted(addresses), load_parent, movements=10**6)
    processes = Processes(system)
    readiness: dict[str, int | None] = {}
    injected = faults(processes, private_stack, readiness)
    plan = schedule(rng, injected, first=rng.uniform(3, 6), gaps=(3, 8))
    say(capsys, "plan: " + ", ".join(f"+{pause:.1f} s {fault.name}" for pause, fault in plan))

    load = Load(scenario, RATE)
    poison = inv.publish_poison(servers.kafka_bootstrap, uuid.uuid4().hex)
    load.start()
    try:
        inject_all(plan, load, lambda text: say(capsys, text), processes.supervise)
        time.sleep(5)  # some load after the last fault
    finally:
        load.finish(timeout=300)

    # caught up: every process alive, no outbox or queue waiting, no consumer lag (twice in a row)
    stable = []

    def caught_up() -> bool:
        processes.supervise()
        dead = processes.died_unexpectedly()
        assert not dead, f"processes died though no fault ended them (logs in {processes.logs}): {dead}"
        stable.append(inv.pending_work(system) == 0 and inv.lag(system, servers.kafka_bootstrap) == 0)
        return stable[-2:] == [True, True]

    wait_until(caught_up, timeout=300, interval=2, message="consumers and relays caught up after the faults")

    dead = processes.died_unexpectedly()
    checks: list[inv.Check] = [("no process died unasked", not dead, f"{dead}")]
    acknowledged, lost = inv.check_acknowledged(system, scenario)
    checks += acknowledged
    checks += [inv.check_periods(system, scenario), inv.check_progress(system)]
    emails, unsent = inv.check_emails(system, scenario, smtp_server.messages(), addresses)
    checks += emails
    checks.append(inv.check_dead_letters(system, servers.kafka_bootstrap, poison))
    outage = next(f for f in injected if f.name.startswith("store down"))
    checks += inv.check_outage(http.calls, outage, readiness)
    checks.append(inv.check_no_invalid(http.calls))
    checks.append(inv.check_rebuild(system))

    table = summary(seed, [f for _, f in plan], http.calls, checks, lost + unsent, processes.startup_refusals)
    SUMMARIES.append(table)  # pytest's terminal summary shows it without -s too (conftest.py)
    say(capsys, table)
    (processes.logs / "summary.txt").write_text(table)
    failed = [f"{name}: {detail}" for name, ok, detail in checks if not ok]
    assert not failed, f"seed {seed}; logs in {processes.logs}\n" + "\n".join(failed)
    assert lost + unsent == 0
