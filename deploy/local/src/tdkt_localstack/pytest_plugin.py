"""pytest fixtures that give every test real servers (registered as a pytest11 plugin).

Which servers, decided once per test session:
1. explicit URLs: TDKT_TEST_KAFKA_BOOTSTRAP and TDKT_TEST_MONGODB_URI (your own Kafka and MongoDB);
2. else testcontainers (`apache/kafka`, `mongo`) when a Docker daemon really answers a ping;
3. else the local servers of `deploy/local/` (Kafka from Maven jars, FerretDB), started on free
   ports in a folder of their own, so tests run fine beside a running `make up`.

Each test is isolated: its own database (`mongo_db`), its own topics (`make_topic`), its own
consumer group ids.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from pymongo import MongoClient
from pymongo.database import Database
from tdkt.auth.tokens import generate_key_pair, mint_token
from tdkt.events.kafka import make_admin
from tdkt.events.topics import TopicSpec, ensure_topics
from tdkt.settings import KafkaSettings

from tdkt_localstack.errors import StackError
from tdkt_localstack.paths import sub
from tdkt_localstack.ports import free_port
from tdkt_localstack.servers import Servers, start_local

TEST_ISSUER = "tdkt-test"
TEST_AUDIENCE = "tdkt"
KAFKA_IMAGE = "apache/kafka:4.1.1"
MONGO_IMAGE = "mongo:8.0"


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:  # no SDK, no socket, no daemon: all mean "not here"
        return False


def _start_containers() -> Servers:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.mongodb import MongoDbContainer

    kafka = KafkaContainer(KAFKA_IMAGE).with_kraft().start()
    mongo = MongoDbContainer(MONGO_IMAGE).start()
    servers = Servers(kafka.get_bootstrap_server(), mongo.get_connection_url(), "containers")
    servers._stoppers += [kafka.stop, mongo.stop]
    return servers


def _start_local_with_retries(attempts: int = 3) -> Servers:
    """Free ports are only free when asked; another program may take one before our server
    binds it. Such a start fails fast, and a second try on new ports succeeds."""
    for attempt in range(1, attempts + 1):
        root = sub("tmp") / f"test-servers-{os.getpid()}-{attempt}"
        try:
            return start_local(root, free_port(), free_port(), free_port(), remove_on_stop=True)
        except StackError:
            if attempt == attempts:
                raise
    raise AssertionError("not reached")


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    kafka, mongo = os.environ.get("TDKT_TEST_KAFKA_BOOTSTRAP"), os.environ.get("TDKT_TEST_MONGODB_URI")
    if kafka and mongo:
        found = Servers(kafka, mongo, "external")
    elif _docker_answers():
        found = _start_containers()
    else:
        found = _start_local_with_retries()
    try:
        yield found
    finally:
        found.stop()


@pytest.fixture
def mongo_db(servers: Servers) -> Iterator[Database]:
    client = MongoClient(servers.mongo_uri, tz_aware=True, uuidRepresentation="standard", serverSelectionTimeoutMS=5000)
    name = f"t_{uuid.uuid4().hex[:12]}"
    try:
        yield client[name]
    finally:
        client.drop_database(name)
        client.close()


@pytest.fixture
def kafka_settings(servers: Servers) -> KafkaSettings:
    return KafkaSettings(bootstrap_servers=[servers.kafka_bootstrap], client_id=f"test-{uuid.uuid4().hex[:6]}", topic_partitions=3)


@pytest.fixture
def make_topic(kafka_settings: KafkaSettings) -> Iterator[Callable[..., TopicSpec]]:
    """`make_topic(partitions=3)`: a topic (and its .dlq) that no other test uses."""
    admin = make_admin(kafka_settings)
    made: list[TopicSpec] = []

    def factory(partitions: int = 3, prefix: str = "test") -> TopicSpec:
        spec = TopicSpec(f"{prefix}.{uuid.uuid4().hex[:10]}.v1", partitions=partitions)
        ensure_topics(admin, [spec], partitions)
        made.append(spec)
        return spec

    try:
        yield factory
    finally:
        if made:
            admin.delete_topics([n for s in made for n in (s.name, s.dlq)])
        admin.close()


@pytest.fixture(scope="session")
def dev_keys(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("keys")
    private, public = folder / "private.pem", folder / "public.pem"
    generate_key_pair(private, public)
    return private, public


@pytest.fixture
def make_token(dev_keys) -> Callable[..., str]:
    """`make_token("unit_reporter", unit="03390")`: a valid token for the test services."""

    def factory(*roles: str, unit: str | None = None, ttl: timedelta = timedelta(minutes=30), audience: str = TEST_AUDIENCE, issuer: str = TEST_ISSUER) -> str:
        return mint_token(dev_keys[0].read_bytes(), issuer=issuer, audience=audience, roles=list(roles), unit_id=unit, ttl=ttl)

    return factory


@pytest.fixture
def as_role(make_token) -> Callable[..., dict[str, str]]:
    """`as_role("tdkt_officer")` or `as_role("unit_head", unit=unit_id)`: request headers."""

    def headers(*roles: str, unit: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {make_token(*roles, unit=unit)}"}

    return headers


@pytest.fixture
def officer(as_role) -> dict[str, str]:
    return as_role("tdkt_officer")


@pytest.fixture
def service_env(servers: Servers, mongo_db: Database, dev_keys, monkeypatch) -> dict[str, str]:
    """The environment a service process needs, pointed at the test servers and this test's
    database; set in os.environ for in-process apps and returned for subprocesses."""
    env = {
        "TDKT_ENV": "test",
        "MONGODB_URI": servers.mongo_uri,
        "MONGODB_DATABASE": mongo_db.name,
        "KAFKA_BOOTSTRAP_SERVERS": servers.kafka_bootstrap,
        "KAFKA_TOPIC_PARTITIONS": "3",
        "KAFKA_GROUP_ID": f"test-{uuid.uuid4().hex[:8]}",
        "JWT_ISSUER": TEST_ISSUER,
        "JWT_AUDIENCE": TEST_AUDIENCE,
        "JWT_PUBLIC_KEY_FILE": str(dev_keys[1]),
        "LOG_LEVEL": "WARNING",
        "OUTBOX_POLL_INTERVAL_MS": "20",
        "OUTBOX_LEASE_TTL_S": "3",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    return env
