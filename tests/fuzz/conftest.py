"""Fixtures of the API fuzzer: each service's real Flask app (in-process WSGI) on a database of its
own in the real store, seeded, and a token that gets past every role check."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import mongoengine
import pytest
from pymongo import MongoClient
from tdkt.auth.principal import ROLES
from tdkt.auth.tokens import mint_token
from tdkt.services import service_named
from tdkt.web.app import create_app
from tdkt_localstack.pytest_plugin import TEST_AUDIENCE, TEST_ISSUER

from .targets import EXAMPLES, SEED, SEEDERS, SEEN, Seeded


def pytest_report_header(config) -> str:
    return f"openapi fuzz: TDKT_FUZZ_SEED={SEED} TDKT_FUZZ_EXAMPLES={EXAMPLES}"


def pytest_terminal_summary(terminalreporter) -> None:
    if not SEEN:
        return
    write = terminalreporter.write_line
    terminalreporter.section(f"openapi fuzz (seed {SEED}, {EXAMPLES} examples per operation and phase)")
    for service, run in sorted({(s, r) for s, r, _ in SEEN}):
        operations = {op: SEEN[(s, r, op)] for s, r, op in SEEN if (s, r) == (service, run)}
        statuses = sum(operations.values(), Counter())
        never_2xx = sorted(op for op, seen in operations.items() if not any(200 <= code < 300 for code in seen))
        write(f"{service} {run}: {len(operations)} operations, {statuses.total()} requests, statuses {dict(sorted(statuses.items()))}")
        if run == "authorised" and never_2xx:
            write(f"  never 2xx ({len(never_2xx)}): {', '.join(never_2xx)}")


@dataclass
class Target:
    name: str
    app: object
    seeded: Seeded
    token: str  # every role at once, bound to the seeded unit


class Targets:
    """One service's app at a time, built on first use and kept for all its operations (one app
    per operation would spend the time budget on setup). One at a time because mongoengine's
    connection is process-wide: building the next service's app closes the previous one."""

    def __init__(self, client: MongoClient, private_key: bytes, monkeypatch: pytest.MonkeyPatch):
        self.client, self.private_key, self.monkeypatch = client, private_key, monkeypatch
        self.current: Target | None = None
        self.database: str | None = None

    def get(self, name: str) -> Target:
        if self.current is None or self.current.name != name:
            self.close()
            self.database = f"t_fuzz_{name}_{uuid.uuid4().hex[:8]}"
            self.monkeypatch.setenv("MONGODB_DATABASE", self.database)
            app = create_app(service_named(name))
            seeded = SEEDERS[name](app)
            # all roles: an officer alone would meet 403 on the unit-only steps (e.g. registering)
            token = mint_token(self.private_key, issuer=TEST_ISSUER, audience=TEST_AUDIENCE, roles=list(ROLES), unit_id=seeded.unit_id, ttl=timedelta(hours=2))
            self.current = Target(name, app, seeded, token)
        return self.current

    def close(self) -> None:
        if self.current is not None:
            mongoengine.disconnect()
            self.client.drop_database(self.database)
            self.current = None


@pytest.fixture(scope="session")
def fuzz_targets(servers, dev_keys, tmp_path_factory) -> Iterator[Targets]:
    """The services' apps, configured as `service_env` configures one (that fixture is per test;
    this one lives for the session, so the four apps are built once each)."""
    client = MongoClient(servers.mongo_uri, serverSelectionTimeoutMS=5000)
    with pytest.MonkeyPatch.context() as mp:
        env = {
            "TDKT_ENV": "test",
            "MONGODB_URI": servers.mongo_uri,
            "KAFKA_BOOTSTRAP_SERVERS": servers.kafka_bootstrap,
            "KAFKA_TOPIC_PARTITIONS": "3",
            "KAFKA_GROUP_ID": f"fuzz-{uuid.uuid4().hex[:8]}",
            "JWT_ISSUER": TEST_ISSUER,
            "JWT_AUDIENCE": TEST_AUDIENCE,
            "JWT_PUBLIC_KEY_FILE": str(dev_keys[1]),
            "LOG_LEVEL": "ERROR",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": "9",  # the API never mails (the consumer does); a refused port if it tried
            "SMTP_STARTTLS": "false",
        }
        for name, value in env.items():
            mp.setenv(name, value)
        for name in ("PROMETHEUS_MULTIPROC_DIR", "SMTP_USERNAME", "SMTP_PASSWORD", "SMTP_CA_FILE"):
            mp.delenv(name, raising=False)
        targets = Targets(client, dev_keys[0].read_bytes(), mp)
        try:
            yield targets
        finally:
            targets.close()
            client.close()
