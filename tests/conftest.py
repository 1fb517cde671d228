"""Fixtures of the cross-service tests (e2e, faults): the `system` fixture runs chosen services as real processes.
outbox relay, each service with its own database, all on the test Kafka — as `make up` runs
them, so an end-to-end test crosses every process boundary a deployment has."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from pymongo import MongoClient
from tdkt.events.kafka import make_admin
from tdkt.events.topics import ensure_topics
from tdkt.services import service_named
from tdkt_localstack.ports import free_port
from tdkt_localstack.pytest_plugin import TEST_AUDIENCE, TEST_ISSUER
from tdkt_localstack.testing import wait_until

ROLES = ("api", "consumer", "relay")
READY_TIMEOUT_S = 120


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

    def db(self, service: str):
        return self.client[self.services[service].database]

    def url(self, service: str) -> str:
        return self.services[service].url

    def tdkt(self, service: str, *args: str) -> str:
        """An operator command (`tdkt <service> …`) in its own process, with the service's settings."""
        done = subprocess.run([sys.executable, "-m", "tdkt.cli", service, *args], env=self.services[service].env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout


@pytest.fixture
def system(request, servers, dev_keys, kafka_settings, smtp_server) -> Iterator[System]:
    """`@pytest.mark.services("registry", "reports")` picks the services to run."""
    marker = request.node.get_closest_marker("services")
    names = marker.args if marker else ("registry", "reports")
    extra_env = marker.kwargs.get("env", {}) if marker else {}  # e.g. shorter leases for a kill test
    admin = make_admin(kafka_settings)
    ensure_topics(admin, [t for n in names for t in service_named(n).topics], 3)
    admin.close()
    logs = Path(tempfile.mkdtemp(prefix="e2e-logs-"))
    client = MongoClient(servers.mongo_uri)
    running: dict[str, RunningService] = {}
    ports = {name: free_port() for name in names}
    try:
        for name in names:
            service = RunningService(name, ports[name], f"t_e2e_{name}_{uuid.uuid4().hex[:8]}")
            env = os.environ | {
                "TDKT_ENV": "test",
                "MONGODB_URI": servers.mongo_uri,
                "MONGODB_DATABASE": service.database,
                "KAFKA_BOOTSTRAP_SERVERS": servers.kafka_bootstrap,
                "KAFKA_TOPIC_PARTITIONS": "3",
                "KAFKA_GROUP_ID": f"e2e-{name}-{uuid.uuid4().hex[:8]}",
                "JWT_ISSUER": TEST_ISSUER,
                "JWT_AUDIENCE": TEST_AUDIENCE,
                "JWT_PUBLIC_KEY_FILE": str(dev_keys[1]),
                "HOST": "127.0.0.1",
                "PORT": str(service.port),
                "WEB_WORKERS": "1",
                "LOG_LEVEL": "WARNING",
                "OUTBOX_POLL_INTERVAL_MS": "20",
                "OUTBOX_LEASE_TTL_S": "3",
                "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix=f"e2e-{name}-"),
                "SMTP_HOST": smtp_server.host,  # this test's own mail catcher
                "SMTP_PORT": str(smtp_server.port),
                "SMTP_STARTTLS": "false",
                **extra_env,
            }
            if name == "notify" and "awards" in ports:  # decisions' documents, fetched with a token of notify's own
                env |= {"NOTIFY_AWARDS_URL": f"http://127.0.0.1:{ports['awards']}/api/v1", "NOTIFY_SERVICE_KEY_FILE": str(dev_keys[0])}
            service.env = env
            for role in ROLES:
                log = open(logs / f"{name}-{role}.log", "w")  # noqa: SIM115 (closed with the process)
                service.processes[role] = subprocess.Popen([sys.executable, "-m", f"tdkt_{name}", role], env=env, stdout=log, stderr=subprocess.STDOUT)
            running[name] = service
        for service in running.values():
            # generous: nine interpreters booting at once on a busy 2-core machine take a while
            try:
                wait_until(lambda s=service: _ready(s), timeout=READY_TIMEOUT_S, message=f"{service.name} API ready (logs in {logs})")
            except AssertionError as exc:
                raise AssertionError(f"{exc}\n{_log_tails(logs, service.name)}") from None
        yield System(running, client)
    finally:
        for service in running.values():
            for process in service.processes.values():
                process.terminate()
            for process in service.processes.values():
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
            client.drop_database(service.database)
        client.close()


def _log_tails(logs: Path, name: str, lines: int = 15) -> str:
    """The end of each of the service's process logs, for a failure message."""
    parts = []
    for role in ROLES:
        text = (logs / f"{name}-{role}.log").read_text(errors="replace").splitlines()
        parts.append(f"--- {name}-{role}.log ({len(text)} lines)\n" + "\n".join(line[:300] for line in text[-lines:]))
    return "\n".join(parts)


def _ready(service: RunningService) -> bool:
    for role, process in service.processes.items():
        if process.poll() is not None:
            raise AssertionError(f"{service.name} {role} exited with {process.returncode}")  # its log follows (see the caller)
    try:
        return requests.get(f"http://127.0.0.1:{service.port}/healthz", timeout=2).status_code == 200
    except requests.RequestException:  # not listening yet, or the worker still booting
        return False
