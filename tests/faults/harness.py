"""The parts of the faults-under-load test: a private Kafka + FerretDB (restarting them disturbs no
other test), control of the services' processes, the scripted load, the fault injector and the
summary table. The invariants themselves live in `invariants.py`."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import psutil
import requests
from tdkt.clock import local_today
from tdkt_localstack.ferretdb import FerretServer, ensure_binary
from tdkt_localstack.kafka import KafkaServer, ensure_jars
from tdkt_localstack.paths import sub
from tdkt_localstack.ports import free_port
from tdkt_localstack.servers import Servers
from tdkt_localstack.testing import wait_until

READY_TIMEOUT_S = 120  # how long a restarted process may take to answer on a loaded machine
SUMMARIES: list[str] = []
STARTUP_REFUSAL = re.compile(r"cannot start: the (Kafka broker|document store) at \S+ does not answer")  # the runs' summary tables, for pytest's terminal summary (conftest.py)

# ---------------------------------------------------------------- the private servers


class PrivateStack:
    """Kafka and FerretDB of this test only, on their own ports and folders."""

    def __init__(self, root: Path):
        cache = sub("cache")
        self.kafka = KafkaServer(ensure_jars(cache), root / "kafka", root / "kafka.log", free_port(), free_port())
        self.store = FerretServer(ensure_binary(cache), root / "ferretdb", root / "ferretdb.log", free_port())

    def start(self) -> Servers:
        self.store.start()
        self.kafka.start()
        self.store.wait_ready(READY_TIMEOUT_S)
        self.kafka.wait_ready()
        return Servers(self.kafka.bootstrap, self.store.uri, "local")

    def stop(self) -> None:
        self.kafka.stop()
        self.store.stop()


# ---------------------------------------------------------------- the services' processes


class Processes:
    """kill -9, restart, stop and continue the processes the `system` fixture started. Restarted
    processes go back into `service.processes`, so the fixture's teardown stops them too."""

    def __init__(self, system):
        self.system = system
        # the folder the fixture logs into (its stdout): a restarted process appends to its own file
        first = next(iter(system.services.values())).processes["api"]
        self.logs = Path(os.readlink(f"/proc/{first.pid}/fd/1")).parent
        self.killed: Counter[str] = Counter()  # what a fault ended on purpose, by "<service> <role>"
        self.restarted: set[int] = set()  # pids of the processes this harness started again
        self.startup_refusals: Counter[str] = Counter()  # restarts by `supervise`, with the reason

    def process(self, service: str, role: str) -> subprocess.Popen:
        return self.system.services[service].processes[role]

    def start(self, service: str, role: str) -> None:
        running = self.system.services[service]
        log = open(self.logs / f"{service}-{role}.log", "a")  # noqa: SIM115 (closed with the process)
        running.processes[role] = subprocess.Popen([sys.executable, "-m", f"tdkt_{service}", role], env=running.env, stdout=log, stderr=subprocess.STDOUT)
        self.restarted.add(running.processes[role].pid)

    def kill(self, service: str, role: str) -> None:
        """kill -9 the role's process (for the api: the gunicorn master and its workers), then start it again."""
        process = self.process(service, role)
        doomed = [process.pid]
        if role == "api":  # orphaned workers would keep the port: they go with their master
            doomed += [c.pid for c in psutil.Process(process.pid).children(recursive=True)]
        for pid in doomed:
            os.kill(pid, signal.SIGKILL)
        process.wait(timeout=10)
        wait_until(lambda: not any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE for p in doomed), timeout=10, message="the killed processes gone")
        self.killed[f"{service} {role}"] += 1
        self.start(service, role)
        if role == "api":
            self.wait_healthy(service, f"{service} API back after kill -9")

    def wait_healthy(self, service: str, what: str) -> None:
        """Generous (a busy machine boots an interpreter slowly); the API's log in the failure."""
        try:
            wait_until(lambda: self.healthy(service), timeout=READY_TIMEOUT_S, message=what)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.log_tail(service, 'api')}") from None

    def log_tail(self, service: str, role: str, lines: int = 20) -> str:
        text = (self.logs / f"{service}-{role}.log").read_text(errors="replace").splitlines()
        return f"--- {self.logs / f'{service}-{role}.log'} ({len(text)} lines)\n" + "\n".join(line[:300] for line in text[-lines:])

    def kill_worker(self, service: str) -> None:
        """kill -9 one gunicorn worker: the master must replace it while the other one serves."""
        master = psutil.Process(self.process(service, "api").pid)
        before = {c.pid for c in master.children()}
        victim = random.choice(sorted(before))
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: len({c.pid for c in master.children()} - {victim}) >= len(before), timeout=READY_TIMEOUT_S, message=f"{service}: gunicorn replaced the killed worker")

    def stall(self, service: str, role: str, seconds: float) -> None:
        process = self.process(service, role)
        process.send_signal(signal.SIGSTOP)
        try:
            time.sleep(seconds)
        finally:
            process.send_signal(signal.SIGCONT)

    def healthy(self, service: str) -> bool:
        try:
            return requests.get(f"http://127.0.0.1:{self.system.services[service].port}/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def readiness(self, service: str) -> int | None:
        try:
            return requests.get(f"http://127.0.0.1:{self.system.services[service].port}/readyz", timeout=10).status_code
        except requests.RequestException:
            return None

    def supervise(self) -> None:
        """Play the supervisor a deployment has (Kubernetes restarts a pod that exits): a process
        this harness restarted that then refused to start because the broker or the store was away
        at that moment (a later fault overlapping its boot; `cannot start: …`, exit 2, as
        designed) is started again, and counted. A process that dies once running is not: that
        stays a failure (`died_unexpectedly`)."""
        for (service, role), reason in self.refused_to_start().items():
            self.startup_refusals[f"{service} {role}: {reason}"] += 1
            self.start(service, role)

    def refused_to_start(self) -> dict[tuple[str, str], str]:
        refused = {}
        for service, svc in self.system.services.items():
            for role, process in svc.processes.items():
                if process.poll() == 2 and process.pid in self.restarted:
                    tail = self.log_tail(service, role, lines=3)
                    if found := STARTUP_REFUSAL.search(tail):
                        refused[(service, role)] = found.group(1)
        return refused

    def died_unexpectedly(self) -> list[str]:
        """Processes that exited though no fault ended them (the restarted ones are the live ones)."""
        return [f"{s} {r} (exit {p.returncode})" for s, svc in self.system.services.items() for r, p in svc.processes.items() if p.poll() is not None]


# ---------------------------------------------------------------- the load


@dataclass
class Call:
    started: float
    ended: float
    service: str
    method: str
    path: str
    status: int | None  # None: no HTTP answer (connection refused or reset)
    retry_after: str | None

    @property
    def klass(self) -> str:
        return "no answer" if self.status is None else f"{self.status // 100}xx" if self.status not in (500, 503) else str(self.status)


class Http:
    """Every request of the load goes through here and is recorded."""

    def __init__(self, urls: dict[str, str]):
        self.urls, self.calls, self.lock = urls, [], threading.Lock()

    def __call__(self, service: str, method: str, path: str, headers: dict, body: dict | None = None) -> requests.Response | None:
        started = time.monotonic()
        try:
            response = requests.request(method, self.urls[service] + path, json=body, headers=headers, timeout=30)
        except requests.RequestException:
            response = None
        call = Call(
            started,
            time.monotonic(),
            service,
            method,
            path,
            response.status_code if response is not None else None,
            response.headers.get("Retry-After") if response is not None else None,
        )
        with self.lock:
            self.calls.append(call)
        return response


@dataclass
class Acked:
    """Every write the APIs acknowledged (2xx), by what it made or moved."""

    units: set[str] = field(default_factory=set)
    movements: dict[str, str] = field(default_factory=dict)  # id → title, launched
    reports: dict[str, str] = field(default_factory=dict)  # id → last acknowledged state


GIAI_NGAN = [{"key": "giai-ngan", "area": "kinh-te", "name": "Giải ngân đầu tư công", "unit_of_measure": "%", "target": 95, "value_type": "percent"}]
LEGAL = {"number": "15/KH-UBND", "date": "2026-01-05", "issuer": "Ủy ban nhân dân tỉnh Lai Châu"}


class Scenario:
    """The end-to-end scenario's writes as a queue of steps: movements created and launched in the
    registry, their final reports drafted, submitted and accepted in reports, and now and then a
    new unit. A step that is not acknowledged (5xx, no answer, not yet projected) goes to the back
    of the queue and is tried again; POSTs carry an Idempotency-Key so a retry never doubles."""

    def __init__(self, http: Http, auth: Callable[..., dict], province: str, communes: list[str], load_parent: str, movements: int):
        self.http, self.auth, self.province, self.communes, self.load_parent = http, auth, province, communes, load_parent
        self.officer = auth("tdkt_officer")
        self.acked = Acked()
        self.steps: deque = deque()
        self.movements_left = movements
        self.units_made = 0
        self.today = local_today()

    # the plumbing: ETags and acknowledgements
    def etag(self, service: str, path: str, headers: dict) -> str | None:
        found = self.http(service, "GET", path, headers)
        return found.headers.get("ETag") if found is not None and found.status_code == 200 else None

    def post(self, service: str, path: str, body: dict, headers: dict, key: list[str], etag_of: str | None = None) -> dict | None:
        """`key` is the step's Idempotency-Key, kept across retries after no answer or a 5xx (the
        first try may have been applied); a 412 is stored and replayed under its key, so a stale
        ETag gets a new one."""
        extra = {"Idempotency-Key": key[0]}
        if etag_of:
            etag = self.etag(service, etag_of, headers)
            if etag is None:
                return None
            extra["If-Match"] = etag
        response = self.http(service, "POST", path, headers | extra, body)
        if response is not None and response.status_code == 412:
            key[0] = uuid.uuid4().hex
        return response.json() if response is not None and response.status_code in (200, 201) else None

    def tick(self) -> None:
        if len(self.steps) < 4 and self.movements_left > 0:
            self.movements_left -= 1
            self.steps.append(self.create_movement(uuid.uuid4().hex[:8]))
        if self.units_made < 40 and random.random() < 0.12:
            self.units_made += 1
            self.steps.append(self.create_unit(self.units_made))
        if not self.steps:
            return
        step = self.steps.popleft()
        follow = step()
        if follow is None:
            self.steps.append(step)  # not acknowledged: again later
        else:
            self.steps.extend(follow)

    # the steps: each returns its follow-up steps once acknowledged, None to be retried
    def create_unit(self, n: int):
        key = [f"unit-{n}-{uuid.uuid4().hex}"]

        def step():
            made = self.post("registry", "/units", {"code": f"9{n:04d}", "name": f"Xã Tải Thử {n}", "kind": "commune", "parent_id": self.load_parent}, self.officer, key)
            if made is None:
                return None
            self.acked.units.add(made["units"][0]["id"])
            return []

        return step

    def create_movement(self, tag: str):
        key, title = [f"movement-{tag}"], f"Thi đua dưới tải {tag}"
        body = {
            "title": title,
            "organiser_id": self.province,
            "period_start": (self.today - timedelta(days=20)).isoformat(),
            "period_end": (self.today + timedelta(days=5)).isoformat(),
            "content_areas": [{"key": "kinh-te", "title": "Kinh tế"}],
            "criteria": GIAI_NGAN,
            "schedule": {"final_due": (self.today + timedelta(days=5)).isoformat()},
            "participants": {"selector": "communes_of", "selector_id": self.province},
            "legal_basis": LEGAL,
        }

        def step():
            made = self.post("registry", "/movements", body, self.officer, key)
            return None if made is None else [self.launch(made["id"], title)]

        return step

    def launch(self, movement: str, title: str):
        key = [f"launch-{movement}"]

        def step():
            if self.post("registry", f"/movements/{movement}/launch", {}, self.officer, key, etag_of=f"/movements/{movement}") is None:
                return None
            self.acked.movements[movement] = title
            return [self.discover(movement)]

        return step

    def discover(self, movement: str):
        def step():
            found = self.http("reports", "GET", f"/reports?movement_id={movement}&per_page=100", self.officer)
            items = found.json().get("items", []) if found is not None and found.status_code == 200 else []
            if len(items) < len(self.communes):
                return None  # reports has not opened every commune's period yet
            return [self.draft(r["id"], r["unit_id"]) for r in items]

        return step

    def draft(self, report: str, unit: str):
        reporter = self.auth("unit_reporter", unit=unit)

        def step():
            etag = self.etag("reports", f"/reports/{report}", reporter)
            if etag is None:
                return None
            body = {"narrative": "Đã giải ngân 97%", "values": {"giai-ngan": {"value": 97, "unit": "%"}}}
            saved = self.http("reports", "PUT", f"/reports/{report}/draft", reporter | {"If-Match": etag}, body)
            if saved is None or saved.status_code != 200:
                return None
            self.acked.reports[report] = "draft"
            return [self.move(report, unit, "submit", "submitted")]

        return step

    def move(self, report: str, unit: str, action: str, state: str):
        headers = self.auth("unit_head", unit=unit) if action == "submit" else self.officer
        key = [f"{action}-{report}"]

        def step():
            body = {"comment": "Đạt"} if action == "accept" else {}
            if self.post("reports", f"/reports/{report}/{action}", body, headers, key, etag_of=f"/reports/{report}") is None:
                return None
            self.acked.reports[report] = state
            return [self.move(report, unit, "accept", "accepted")] if action == "submit" else []

        return step


class Load(threading.Thread):
    """Runs the scenario's steps at a fixed rate until stopped (or out of work)."""

    def __init__(self, scenario: Scenario, rate: float):
        super().__init__(name="load", daemon=True)
        self.scenario, self.interval = scenario, 1.0 / rate
        self.stopping = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            next_at = time.monotonic()
            while not self.stopping.is_set():
                self.scenario.tick()
                next_at += self.interval
                self.stopping.wait(max(0.0, next_at - time.monotonic()))
        except BaseException as exc:  # surfaced by the test, not lost in a thread
            self.error = exc

    def finish(self, timeout: float) -> None:
        """No new movements; finish the queued steps (the retries of unacknowledged ones too)."""
        self.scenario.movements_left = 0
        self.scenario.units_made = 10**6
        wait_until(lambda: not self.scenario.steps or self.error, timeout=timeout, message="the load's last steps acknowledged")
        self.stopping.set()
        self.join(30)
        if self.error:
            raise self.error


# ---------------------------------------------------------------- the faults


@dataclass
class Fault:
    name: str
    inject: Callable[[], None]
    started: float = 0.0
    ended: float = 0.0


def schedule(rng: random.Random, faults: list[Fault], first: float, gaps: tuple[float, float]) -> list[tuple[float, Fault]]:
    """The faults in a random order, each after a random pause (seeded: the seed is printed)."""
    order = faults[:]
    rng.shuffle(order)
    return [(first if i == 0 else rng.uniform(*gaps), fault) for i, fault in enumerate(order)]


def inject_all(plan: list[tuple[float, Fault]], load: Load, say: Callable[[str], None], supervise: Callable[[], None]) -> None:
    for pause, fault in plan:
        time.sleep(pause)
        supervise()
        if load.error:
            raise load.error
        say(f"  fault: {fault.name} ({len(load.scenario.http.calls)} requests so far)")
        fault.started = time.monotonic()
        fault.inject()
        fault.ended = time.monotonic()


# ---------------------------------------------------------------- the summary


def summary(seed: int, faults: list[Fault], calls: list[Call], invariants: list[tuple[str, bool, str]], lost: int, refusals: Counter[str]) -> str:
    classes = Counter(c.klass for c in calls)
    lines = ["", f"faults under load — seed {seed}", "-" * 72, f"{'faults injected':<34}{len(faults)}"]
    lines += [f"  {f.name:<32}{f.ended - f.started:6.1f} s" for f in faults]
    lines += [f"{'restarted after cannot start':<34}{refusals.total()}"] + [f"  {k} × {v}" for k, v in sorted(refusals.items())]
    lines += [f"{'requests sent':<34}{len(calls)}"]
    lines += [f"  {k:<32}{v}" for k, v in sorted(classes.items())]
    lines += [f"{'invariants checked':<34}{len(invariants)}"]
    lines += [f"  {'ok ' if ok else 'FAIL'} {name:<31}{detail}" for name, ok, detail in invariants]
    lines += [f"{'records lost':<34}{lost}", "-" * 72]
    return "\n".join(lines)
