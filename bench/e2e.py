"""End to end under open-loop load: a unit's report → awards' copy of its progress + notify's inbox.

Registry, reports, awards and notify run as a deployment runs them (`tdkt_localstack.system`:
api, consumer and outbox relay per service, 12 processes plus gunicorn's workers) on one Kafka
and one FerretDB, with a mail catcher for notify's emails. Setup, through the services' own
APIs and topics: a province and N communes imported into the registry (CSV, with e-mail
addresses), a movement with monthly reports over the past year launched for them; the bench
waits until reports has opened every period, awards and notify have copied every unit and the
movement, and notify has mailed the plan to every commune.

The load is open-loop: a separate process sends submission i at start + i/rate whatever became
of the earlier ones (a pool of sender threads; a sender that starts late records the lag, and
every latency is measured from the *scheduled* time). One submission is what a unit that has
its report open really sends: `PUT /reports/{id}/draft` (If-Match: the ETag it read) then
`POST /reports/{id}/submit` (If-Match: the draft's ETag) — submit needs a saved draft, so two
calls is the least. Successive submissions of a commune are for successive periods, N/rate
seconds apart.

A submission is confirmed when BOTH
- awards has consumed the resulting MovementProgressUpdated: its `progress_views/<movement>.<unit>`
  counts at least as many submitted periods as this commune has submitted so far
  (ReportSubmitted → reports' consumer → progress outbox → relay → reports.progress.v1 → awards), and
- notify has consumed the ReportSubmitted: `inbox_messages/<event id>:role:tdkt_officer` exists
  (the default route sends it to the officers' inbox).
Watcher threads (one per database) look these up by `_id` every ~10 ms. FerretDB serves only
`_id` equality from its index (`$in`/`$or` on `_id` scan: ~0.4 s over 8,000 documents), so each
check is one find_one; to keep the loop short a check starts only once the id is known and the
previous hop is done, read from Kafka by a tap in this process (record timestamps of
ReportSubmitted on reports.reports.v1 and of MovementProgressUpdated on reports.progress.v1 give
the stage breakdown too). The loop's real period is printed: it is the resolution.

Baseline: raw kafka-python send → consume at the same rate (bench.backbone's `Bench.raw`), in
the same run, the system idle. Memory: RSS (psutil) of every process at rest (after setup,
before the load) and after the load, Kafka and FerretDB for context.

    python -m bench.e2e [--seconds 10] [--rates 50,200,500] [--units 600] [--timeout 60]

Not a test: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import multiprocessing
import queue
import statistics
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import requests
from kafka import KafkaConsumer, TopicPartition
from tdkt.auth.tokens import generate_key_pair, mint_token
from tdkt.clock import local_today
from tdkt_localstack.mailcatcher import start_catcher
from tdkt_localstack.system import System, run_system
from tdkt_localstack.testing import wait_until

from bench.backbone import Bench
from bench.common import bench_servers, percentile, record, row

SERVICES = ("registry", "reports", "awards", "notify")
ISSUER, AUDIENCE = "tdkt-bench", "tdkt"
OFFICERS_INBOX = "role:tdkt_officer"  # where notify's default route puts ReportSubmitted
SUBMITTED = "vn.tdkt.reports.report.submitted.v1"
CRITERION = "giai-ngan"
DRAFT = {"narrative": "Giải ngân 97% kế hoạch vốn", "values": {CRITERION: {"value": 97, "unit": "%"}}}
SPAWN = multiprocessing.get_context("spawn")


# -- setup ----------------------------------------------------------------------------------------
class Auth:
    def __init__(self, private_key: Path):
        self.key = private_key.read_bytes()

    def headers(self, role: str, unit: str | None = None) -> dict[str, str]:
        token = mint_token(self.key, issuer=ISSUER, audience=AUDIENCE, roles=[role], unit_id=unit, ttl=timedelta(hours=6))
        return {"Authorization": f"Bearer {token}"}


def _ok(response: requests.Response) -> dict:
    if response.status_code not in (200, 201):
        raise SystemExit(f"{response.request.method} {response.url}: {response.status_code} {response.text[:500]}")
    return response.json()


def import_communes(system: System, officer: dict, count: int) -> list[str]:
    """A province and `count` communes with e-mail addresses, through the registry's CSV import."""
    registry = system.url("registry")
    since = "2020-01-01"  # before the movement starts: participants are resolved as of its start
    province = _ok(requests.post(f"{registry}/units", json={"code": "99", "name": "Tỉnh Thử Tải", "kind": "province", "valid_from": since}, headers=officer, timeout=60))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["code", "name", "kind", "parent_code", "valid_from", "email"])
    for i in range(count):
        writer.writerow([f"9{i:04d}", f"Xã Thử Tải {i}", "commune", "99", since, f"xa{i}@thutai.gov.vn"])
    files = {"file": ("communes.csv", out.getvalue().encode(), "text/csv")}
    plan = _ok(requests.post(f"{registry}/unit-imports", data={"apply": "true"}, files=files, headers=officer, timeout=600))
    return [province["units"][0]["id"]] + [r["unit_id"] for r in plan["rows"]]


def launch_movement(system: System, officer: dict, province: str, months: int) -> str:
    today = local_today()
    start = _months_back(today, months)
    registry = system.url("registry")
    movement = _ok(
        requests.post(
            f"{registry}/movements",
            json={
                "title": "Thi đua hoàn thành chỉ tiêu giải ngân (đo tải)",
                "organiser_id": province,
                "period_start": start.isoformat(),
                "period_end": (today + timedelta(days=20)).isoformat(),
                "content_areas": [{"key": "kinh-te", "title": "Kinh tế"}],
                "criteria": [{"key": CRITERION, "area": "kinh-te", "name": "Giải ngân đầu tư công", "unit_of_measure": "%", "target": 95, "value_type": "percent"}],
                "schedule": {"monthly_day": 28, "final_due": (today + timedelta(days=20)).isoformat()},
                "participants": {"selector": "communes_of", "selector_id": province},
                "legal_basis": {"number": "15/KH-UBND", "date": start.isoformat(), "issuer": "Ủy ban nhân dân tỉnh Thử Tải"},
            },
            headers=officer,
            timeout=60,
        )
    )["id"]
    etag = requests.get(f"{registry}/movements/{movement}", headers=officer, timeout=30).headers["ETag"]
    _ok(requests.post(f"{registry}/movements/{movement}/launch", json={}, headers=officer | {"If-Match": etag}, timeout=60))
    return movement


def _months_back(today: date, months: int) -> date:
    index = today.year * 12 + today.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def wait_for_copies(system: System, unit_ids: list[str], movement: str, catcher, timeout: float) -> None:
    """Every unit and the movement have reached reports, awards and notify through Kafka, every
    period is open, and the plan was mailed to the communes (all before the clock starts)."""
    communes = len(unit_ids) - 1
    for service in ("reports", "awards", "notify"):
        wait_until(lambda s=service: system.db(s).unit_views.count_documents({}) >= len(unit_ids), timeout=timeout, interval=1, message=f"{service}'s copy of the units")
    reports = system.db("reports")
    wait_until(lambda: (reports.movement_views.find_one({"_id": movement}) or {}).get("due_dates"), timeout=timeout, interval=1, message="reports' copy of the movement")
    periods = len(reports.movement_views.find_one({"_id": movement})["due_dates"])
    wait_until(lambda: reports.reports.count_documents({"movement_id": movement}) >= communes * periods, timeout=timeout, interval=1, message="every period opened")
    wait_until(lambda: system.db("awards").movement_views.find_one({"_id": movement}), timeout=timeout, interval=1, message="awards' copy of the movement")
    try:
        wait_until(lambda: len(list((catcher.folder / "new").iterdir())) >= communes, timeout=timeout, interval=2, message="the plan mailed to every commune")
    except AssertionError as exc:  # mail is context here, not the measure
        print(f"  note: {exc}", flush=True)


@dataclass
class Submission:
    index: int
    report_id: str
    unit_id: str
    progress_id: str  # awards' copy: progress_views/<movement>.<unit>
    nth: int  # this commune's submissions so far, this one included: the copy's `submitted` must reach it
    etag: str
    token: str
    scheduled: float = 0.0
    sent: float | None = None
    replied: float | None = None
    status: int | None = None
    event_id: str | None = None
    on_kafka: float | None = None  # ReportSubmitted's record timestamp on reports.reports.v1
    progress_on_kafka: float | None = None  # MovementProgressUpdated with this count on reports.progress.v1
    awards_at: float | None = None
    notify_at: float | None = None

    @property
    def confirmed(self) -> float | None:
        return max(self.awards_at, self.notify_at) if self.awards_at and self.notify_at else None


def etag_of(report_id: str, version: int) -> str:
    """The ETag reports answers with (flask-smorest: sha1 of the sorted JSON of {id, version}),
    so the plan needs no GET per report; checked against a real GET before the load."""
    import hashlib

    return '"' + hashlib.sha1(json.dumps({"id": report_id, "version": version}, sort_keys=True).encode()).hexdigest() + '"'


def plan_submissions(system: System, auth: Auth, movement: str, total: int) -> list[Submission]:
    """`total` submissions of open periods, period after period, commune after commune."""
    today = local_today().isoformat()
    docs = list(system.db("reports").reports.find({"movement_id": movement, "state": "open", "opens": {"$lte": today}}, {"unit_id": 1, "due": 1, "version": 1}))
    docs.sort(key=lambda d: (d["due"], d["unit_id"]))
    if len(docs) < total:
        raise SystemExit(f"only {len(docs)} open reports for {total} submissions: raise --units")
    tokens: dict[str, str] = {}
    counts: dict[str, int] = {}
    plan = []
    for i, doc in enumerate(docs[:total]):
        unit = doc["unit_id"]
        tokens.setdefault(unit, auth.headers("unit_head", unit)["Authorization"])
        counts[unit] = counts.get(unit, 0) + 1
        plan.append(Submission(i, doc["_id"], unit, f"{movement}.{unit}", counts[unit], etag_of(doc["_id"], doc.get("version", 0)), tokens[unit]))
    first = plan[0]
    answered = requests.get(f"{system.url('reports')}/reports/{first.report_id}", headers={"Authorization": first.token}, timeout=30)
    if answered.headers.get("ETag") != first.etag:
        raise SystemExit(f"the computed ETag {first.etag} is not reports' {answered.headers.get('ETag')}: etag_of() must follow")
    return plan


# -- the load, in a process of its own ---------------------------------------------------------------
def load_process(base: str, jobs: list[tuple[int, float, str, str, str]], senders: int, start_at: float, results) -> None:
    """Open loop: job i is handed to a sender at its scheduled time whatever happened before;
    a sender picks it up when free (the lag is recorded). `results` gets
    (index, sent, replied, status) per job."""
    work: queue.Queue = queue.Queue()

    def sender() -> None:
        session = requests.Session()
        while (job := work.get()) is not None:
            index, _scheduled, report_id, etag, token = job
            sent = time.time()
            status = 0
            try:
                headers = {"Authorization": token}
                saved = session.put(f"{base}/reports/{report_id}/draft", json=DRAFT, headers=headers | {"If-Match": etag}, timeout=60)
                status = saved.status_code
                if status == 200:
                    status = session.post(f"{base}/reports/{report_id}/submit", json={}, headers=headers | {"If-Match": saved.headers["ETag"]}, timeout=60).status_code
            except requests.RequestException:
                status = -1
            results.put((index, sent, time.time(), status))

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(senders)]
    for t in threads:
        t.start()
    for job in jobs:
        delay = start_at + job[1] - time.time()
        if delay > 0:
            time.sleep(delay)
        work.put(job)
    for _ in threads:
        work.put(None)
    for t in threads:
        t.join()


# -- observing: a Kafka tap and two watchers ------------------------------------------------------------
class Observer:
    """Learns event ids and hop times from Kafka; confirms effects by `_id` in awards' and notify's databases."""

    def __init__(self, system: System, bootstrap: str, poll_s: float):
        self.system, self.poll_s = system, poll_s
        self.by_report: dict[str, Submission] = {}
        self.by_progress: dict[str, list[Submission]] = {}
        self.seen_count: dict[str, int] = {}
        self.live: list[Submission] = []  # scheduled, not yet confirmed on both sides
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.periods: dict[str, list[float]] = {"awards": [], "notify": []}
        self.tap = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
        topics = ("reports.reports.v1", "reports.progress.v1")
        wait_until(lambda: all(self.tap.partitions_for_topic(t) for t in topics), timeout=30, message="the reports topics' metadata")
        parts = [TopicPartition(t, p) for t in topics for p in self.tap.partitions_for_topic(t)]
        self.tap.assign(parts)
        self.tap.seek_to_end()
        for p in parts:
            self.tap.position(p)  # resolve the end now: only what the load produces is read
        self.threads = [threading.Thread(target=f, daemon=True) for f in (self._read_kafka, self._watch_awards, self._watch_notify)]

    def add(self, plan: list[Submission]) -> None:
        with self.lock:
            for s in plan:
                self.by_report[s.report_id] = s
                self.by_progress.setdefault(s.progress_id, []).append(s)
            self.live.extend(plan)

    def failed(self, s: Submission) -> None:
        """A submission the API refused: it will never count, so the commune's later ones count one fewer."""
        with self.lock:
            for later in self.by_progress[s.progress_id]:
                if later.index > s.index:
                    later.nth -= 1
            self.by_progress[s.progress_id].remove(s)
            if s in self.live:
                self.live.remove(s)

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def stop(self) -> None:
        self.stopping.set()
        for t in self.threads:
            t.join(5)
        self.tap.close()

    def _read_kafka(self) -> None:
        while not self.stopping.is_set():
            for tp, records in self.tap.poll(timeout_ms=5).items():
                for r in records:
                    at = r.timestamp / 1000
                    if tp.topic == "reports.reports.v1":
                        headers = dict(r.headers)
                        s = self.by_report.get(r.key.decode()) if r.key else None
                        if s and headers.get("ce_type", b"").decode() == SUBMITTED and s.event_id is None:
                            s.event_id, s.on_kafka = headers["ce_id"].decode(), at
                    elif r.key:
                        key = r.key.decode()
                        count = json.loads(r.value).get("submitted", 0)
                        if count > self.seen_count.get(key, 0):
                            self.seen_count[key] = count
                            for s in self.by_progress.get(key, ()):
                                if s.nth <= count and s.progress_on_kafka is None:
                                    s.progress_on_kafka = at

    def _loop(self, name: str, check) -> None:
        while not self.stopping.is_set():
            started = time.time()
            with self.lock:
                live = [s for s in self.live if s.scheduled <= started]
            check(live)
            with self.lock:
                self.live = [s for s in self.live if s.confirmed is None]
            elapsed = time.time() - started
            self.periods[name].append(max(elapsed, self.poll_s))
            self.stopping.wait(max(0.0, self.poll_s - elapsed))

    def _watch_awards(self) -> None:
        progress = self.system.db("awards").progress_views

        def check(live: list[Submission]) -> None:
            waiting: dict[str, list[Submission]] = {}
            for s in live:
                if s.awards_at is None and s.progress_on_kafka is not None:  # the previous hop is done
                    waiting.setdefault(s.progress_id, []).append(s)
            for key, group in waiting.items():
                doc = progress.find_one({"_id": key}, {"submitted": 1})
                now = time.time()
                for s in group:
                    if doc and doc.get("submitted", 0) >= s.nth:
                        s.awards_at = now

        self._loop("awards", check)

    def _watch_notify(self) -> None:
        inbox = self.system.db("notify").inbox_messages

        def check(live: list[Submission]) -> None:
            for s in live:
                if s.notify_at is None and s.event_id is not None:
                    if inbox.find_one({"_id": f"{s.event_id}:{OFFICERS_INBOX}"}, {"_id": 1}):
                        s.notify_at = time.time()

        self._loop("notify", check)


def run_rate(system: System, observer: Observer, plan: list[Submission], rate: float, senders: int, timeout: float) -> None:
    results = SPAWN.Queue()
    start_at = time.time() + 3.0  # the load process imports requests meanwhile
    for s in plan:
        s.scheduled = start_at + s.index / rate
    observer.add(plan)
    jobs = [(s.index, s.scheduled - start_at, s.report_id, s.etag, s.token) for s in plan]
    first = plan[0].index
    jobs = [(i - first, at, r, e, t) for i, at, r, e, t in jobs]
    loader = SPAWN.Process(target=load_process, args=(system.url("reports"), jobs, senders, start_at, results))
    loader.start()
    answered = 0
    deadline = None
    while True:
        try:
            index, sent, replied, status = results.get(timeout=0.2)
            s = plan[index]
            s.sent, s.replied, s.status = sent, replied, status
            answered += 1
            if status != 200:
                observer.failed(s)
        except queue.Empty:
            pass
        if answered == len(plan) and deadline is None:
            deadline = time.time() + timeout
        if deadline and (time.time() > deadline or all(s.confirmed or s.status != 200 for s in plan)):
            break
        if not loader.is_alive() and answered < len(plan) and results.empty():
            raise SystemExit("the load process died")
    loader.join()
    with observer.lock:
        observer.live = [s for s in observer.live if s not in plan]  # what did not arrive in time is not watched any more


# -- memory ------------------------------------------------------------------------------------------
def _listener(port: int) -> psutil.Process | None:
    for c in psutil.net_connections(kind="tcp"):
        if c.status == psutil.CONN_LISTEN and c.laddr.port == port and c.pid:
            return psutil.Process(c.pid)
    return None


def memory(system: System, bootstrap: str, mongo_uri: str) -> dict[str, float]:
    """RSS in MB of every process: each service's api master and workers, consumer, relay; Kafka, FerretDB."""
    mb = 1024 * 1024
    found: dict[str, float] = {}
    for name, service in system.services.items():
        for role, popen in service.processes.items():
            process = psutil.Process(popen.pid)  # for the api: the gunicorn master (the launcher execs it)
            found[f"{name} {'api master' if role == 'api' else role}"] = process.memory_info().rss / mb
            if role == "api":
                for n, worker in enumerate(sorted(process.children(), key=lambda p: p.pid), 1):
                    found[f"{name} api worker {n}"] = worker.memory_info().rss / mb
    for label, port in (("kafka broker", int(bootstrap.rsplit(":", 1)[1])), ("ferretdb", urlsplit(mongo_uri).port or 27017)):
        process = _listener(port)
        if process:
            found[label] = process.memory_info().rss / mb
    return found


# -- main ----------------------------------------------------------------------------------------------
def stage_ms(plan: list[Submission], end: str, p: float) -> float | None:
    values = [getattr(s, end) - s.scheduled for s in plan if getattr(s, end)]
    return percentile(values, p) * 1000 if values else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the load at each rate")
    parser.add_argument("--rates", default="50,200,500", help="submissions per second, comma-separated")
    parser.add_argument("--units", type=int, default=600, help="communes (raised if their open periods are too few)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds after the load ends to wait for confirmations")
    parser.add_argument("--senders", type=int, default=64, help="sender threads of the load process")
    parser.add_argument("--poll-ms", type=float, default=10.0, help="watchers' polling period")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers per API (the deployment default)")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    total = sum(math.ceil(r * args.seconds) for r in rates)
    months = 12  # 12 past months + this month + the final report: 14 open periods per commune
    units = max(args.units, math.ceil(total / (months + 1)))

    keys = Path(tempfile.mkdtemp(prefix="bench-e2e-keys-"))
    generate_key_pair(keys / "private.pem", keys / "public.pem")
    auth = Auth(keys / "private.pem")
    catcher = start_catcher(Path(tempfile.mkdtemp(prefix="bench-e2e-mail-")) / "Maildir")
    rows: list[dict] = []
    try:
        with (
            bench_servers() as (bootstrap, mongo),
            run_system(
                SERVICES,
                bootstrap,
                mongo,
                jwt_issuer=ISSUER,
                jwt_audience=AUDIENCE,
                jwt_public_key_file=keys / "public.pem",
                service_key_file=keys / "private.pem",
                smtp_host=catcher.host,
                smtp_port=catcher.port,
                database_prefix=f"bench_e2e_{uuid.uuid4().hex[:4]}",
                ready_timeout_s=180,
                extra_env={"WEB_WORKERS": str(args.web_workers), "REPORTS_DEADLINE_CHECK_INTERVAL_S": "86400"},  # no reminder storm for the past periods
            ) as system,
        ):
            system.tdkt("notify", "seed-routes")
            officer = auth.headers("tdkt_officer")
            print(f"setup: {units} communes, a movement with monthly reports over the past year …", flush=True)
            started = time.time()
            unit_ids = import_communes(system, officer, units)
            # notify mails the plan at launch: its copies must have the communes' addresses first
            wait_until(lambda: system.db("notify").unit_views.count_documents({}) >= len(unit_ids), timeout=600, interval=1, message="notify's copy of the units")
            movement = launch_movement(system, officer, unit_ids[0], months)
            wait_for_copies(system, unit_ids, movement, catcher, timeout=900)
            plan = plan_submissions(system, auth, movement, total)
            print(f"setup done in {time.time() - started:.0f} s; {len(catcher.messages())} launch mails caught", flush=True)
            time.sleep(5)  # let the consumers and relays settle before measuring at rest
            at_rest = memory(system, bootstrap, mongo)

            observer = Observer(system, bootstrap, args.poll_ms / 1000)
            observer.start()
            bench = Bench(bootstrap, mongo)
            offset = 0
            for rate in rates:
                n = math.ceil(rate * args.seconds)
                print(f"rate {rate:.0f}/s: raw Kafka baseline, then {n} submissions …", flush=True)
                _, raw = bench.raw(n, rate=rate)
                part = plan[offset : offset + n]
                offset += n
                for name in observer.periods:
                    observer.periods[name].clear()
                run_rate(system, observer, part, rate, args.senders, args.timeout)
                rows += rate_rows(part, raw, rate, args.timeout, observer)
            observer.stop()
            after = memory(system, bootstrap, mongo)
    finally:
        catcher.stop()

    for label, value in at_rest.items():
        rows.append(row(f"e2e: RSS {label} at rest, MB", value, "MB"))
    for label, value in after.items():
        rows.append(row(f"e2e: RSS {label} after load, MB", value, "MB", at_rest.get(label)))
    record(rows, "e2e")
    print("baselines: raw kafka-python send → consume at the same rate (latency rows); the at-rest RSS (after-load rows)")


def rate_rows(part: list[Submission], raw: list[float], rate: float, timeout: float, observer: Observer) -> list[dict]:
    r = f"{rate:.0f}/s"
    ok = [s for s in part if s.status == 200]
    done = [s.confirmed - s.scheduled for s in ok if s.confirmed]
    lags = [s.sent - s.scheduled for s in part if s.sent]
    refused = Counter("timeout" if s.status == -1 else str(s.status) for s in part if s.status != 200)  # -1: no answer within 60 s
    why = f"; refused: {', '.join(f'{k} ×{v}' for k, v in refused.most_common())}" if refused else ""
    out = [row(f"e2e: report → awards + notify, confirmed within {timeout:.0f} s at {r}", len(done), f"of {len(part)} sent ({len(ok)} accepted by the API{why})")]
    if done:
        for p in (50, 90, 99):
            out.append(row(f"e2e: report → awards + notify, p{p} at {r}", percentile(done, p) * 1000, "ms", percentile(raw, p) * 1000))
        out.append(row(f"e2e: report → awards + notify, max at {r}", max(done) * 1000, "ms", max(raw) * 1000))
    out.append(row(f"e2e: schedule lag p99 at {r}", percentile(lags, 99) * 1000 if lags else 0, "ms (sender started late)"))
    for end, label in (
        ("replied", "API answered (draft + submit)"),
        ("on_kafka", "ReportSubmitted on Kafka"),
        ("notify_at", "notify inbox"),
        ("progress_on_kafka", "MovementProgressUpdated on Kafka"),
        ("awards_at", "awards copy"),
    ):
        for p in (50, 99):
            value = stage_ms(ok, end, p)
            if value is not None:
                out.append(row(f"e2e: stage p{p} at {r}: {label}", value, "ms from schedule"))
    for name, periods in observer.periods.items():
        if periods:
            out.append(row(f"e2e: {name} watcher poll period, mean at {r}", statistics.fmean(periods) * 1000, "ms (the resolution)"))
    return out


if __name__ == "__main__":
    main()
