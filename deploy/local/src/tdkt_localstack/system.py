"""Chosen services as real processes — api, consumer and outbox relay each, every service with a
database of its own, all on one Kafka and one document store — as `make up` runs them, so a test
or a benchmark crosses every process boundary a deployment has.

    with run_system(["registry", "reports"], bootstrap, mongo_uri, jwt_public_key_file=public) as system:
        requests.get(system.url("reports") + "/reports", …)

Used by the `system` fixture of the cross-service tests (`tests/conftest.py`) and by
`bench/e2e.py`. The fault tests kill and restart processes through `RunningService.processes`
and `.env`, so both stay as they are.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests
from pymongo import MongoClient
from tdkt.events.kafka import make_admin
from tdkt.events.topics import ensure_topics
from tdkt.services import service_named
from tdkt.settings import KafkaSettings

from tdkt_localstack.ports import free_port
from tdkt_localstack.testing import wait_until

ROLES = ("api", "consumer", "relay")
PARTITIONS = 3


@dataclass
class RunningService:
    name: str
    port: int
    database: str
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"


@dataclass
class System:
    services: dict[str, RunningService]
    client: MongoClient
    logs: Path | None = None

    def db(self, service: str):
        return self.client[self.services[service].database]

    def url(self, service: str) -> str:
        return self.services[service].url

    def tdkt(self, service: str, *args: str) -> str:
        """An operator command (`tdkt <service> …`) in its own process, with the service's settings."""
        done = subprocess.run([sys.executable, "-m", "tdkt.cli", service, *args], env=self.services[service].env, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise AssertionError(done.stderr)
        return done.stdout


@contextmanager
def run_system(
    names: Iterable[str],
    kafka_bootstrap: str,
    mongo_uri: str,
    *,
    jwt_issuer: str,
    jwt_audience: str,
    jwt_public_key_file: Path | str,
    service_key_file: Path | str | None = None,
    smtp_host: str | None = None,
    smtp_port: int | None = None,
    extra_env: dict[str, str] | None = None,
    database_prefix: str = "t_e2e",
    ready_timeout_s: float = 120,  # patient on a loaded 2-core machine; a dead process fails at once anyway
) -> Iterator[System]:
    """Start the services, wait until each API answers /healthz, yield the System; on exit stop
    every process (SIGTERM, then SIGKILL after 15 s) and drop the services' databases.

    `service_key_file` (a private key of the issuer) lets notify fetch decisions' documents from
    awards with a token of its own; `extra_env` overrides any variable (e.g. shorter leases)."""
    names = tuple(names)
    admin = make_admin(KafkaSettings([kafka_bootstrap], f"system-{uuid.uuid4().hex[:6]}", PARTITIONS))
    ensure_topics(admin, [t for n in names for t in service_named(n).topics], PARTITIONS)
    admin.close()
    logs = Path(tempfile.mkdtemp(prefix="e2e-logs-"))
    client = MongoClient(mongo_uri)
    running: dict[str, RunningService] = {}
    ports = {name: free_port() for name in names}
    smtp = {"SMTP_HOST": smtp_host, "SMTP_PORT": str(smtp_port), "SMTP_STARTTLS": "false"} if smtp_host else {}
    try:
        for name in names:
            service = RunningService(name, ports[name], f"{database_prefix}_{name}_{uuid.uuid4().hex[:8]}")
            env = os.environ | {
                "TDKT_ENV": "test",
                "MONGODB_URI": mongo_uri,
                "MONGODB_DATABASE": service.database,
                "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
                "KAFKA_TOPIC_PARTITIONS": str(PARTITIONS),
                "KAFKA_GROUP_ID": f"e2e-{name}-{uuid.uuid4().hex[:8]}",
                "JWT_ISSUER": jwt_issuer,
                "JWT_AUDIENCE": jwt_audience,
                "JWT_PUBLIC_KEY_FILE": str(jwt_public_key_file),
                "HOST": "127.0.0.1",
                "PORT": str(service.port),
                "WEB_WORKERS": "1",
                "LOG_LEVEL": "WARNING",
                "OUTBOX_POLL_INTERVAL_MS": "20",
                "OUTBOX_LEASE_TTL_S": "3",
                "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix=f"e2e-{name}-"),
                **smtp,  # the caller's own mail catcher, so nothing mails a running `make up`
                **(extra_env or {}),
            }
            if name == "notify" and "awards" in ports and service_key_file:  # decisions' documents, fetched with a token of notify's own
                env |= {"NOTIFY_AWARDS_URL": f"http://127.0.0.1:{ports['awards']}/api/v1", "NOTIFY_SERVICE_KEY_FILE": str(service_key_file)}
            service.env = env
            for role in ROLES:
                log = open(logs / f"{name}-{role}.log", "w")  # noqa: SIM115 (closed with the process)
                service.processes[role] = subprocess.Popen([sys.executable, "-m", f"tdkt_{name}", role], env=env, stdout=log, stderr=subprocess.STDOUT)
            running[name] = service
        for service in running.values():
            wait_until(lambda s=service: _ready(s), timeout=ready_timeout_s, message=f"{service.name} API ready (logs in {logs})")
        yield System(running, client, logs)
    finally:
        for service in running.values():
            _stop(service)
            client.drop_database(service.database)
        client.close()


def _stop(service: RunningService) -> None:
    """SIGTERM, then SIGKILL after 15 s — to gunicorn's workers too: a master killed while a
    worker is stuck (e.g. on a store that stopped answering) would leave that worker running."""
    children = []
    for process in service.processes.values():
        try:
            children += psutil.Process(process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            pass
        process.terminate()
    for process in service.processes.values():
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    _, alive = psutil.wait_procs(children, timeout=5)
    for child in alive:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass


def _ready(service: RunningService) -> bool:
    for role, process in service.processes.items():
        if process.poll() is not None:
            raise AssertionError(f"{service.name} {role} exited with {process.returncode}")
    try:
        return requests.get(f"http://127.0.0.1:{service.port}/healthz", timeout=2).status_code == 200
    except requests.RequestException:  # not listening yet, or the worker still booting
        return False
