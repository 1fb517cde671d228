"""pytest fixtures that give every test real servers (registered as a pytest11 plugin).

Which servers, decided once per test session:
1. explicit URLs: TDKT_TEST_KAFKA_BOOTSTRAP and TDKT_TEST_MONGODB_URI (your own Kafka and MongoDB);
2. else testcontainers (`apache/kafka`, `mongo`) when a Docker daemon really answers a ping;
3. else the local servers of `deploy/local/` (Kafka from Maven jars, FerretDB), started on free
   ports in a folder of their own, so tests run fine beside a running `make up`.

Each test is isolated: its own database (`mongo_db`), its own topics (`make_topic`), its own
consumer group ids, its own mail catcher (`smtp_server`), its own webhook receiver
(`webhook_receiver`).
"""

from __future__ import annotations

import os
import ssl
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

import pytest
from pymongo import MongoClient
from pymongo.database import Database
from tdkt import signing
from tdkt.auth.tokens import generate_key_pair, mint_token
from tdkt.events.kafka import make_admin
from tdkt.events.topics import TopicSpec, ensure_topics
from tdkt.settings import KafkaSettings

from tdkt_localstack.errors import StackError
from tdkt_localstack.mailcatcher import MailCatcher, start_catcher
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
def smtp_server(tmp_path_factory) -> Iterator[MailCatcher]:
    """A mail catcher of this test's own on a free port: `.host`, `.port`, `.messages()` (parsed,
    oldest first) and `.wait_for(n, timeout)`. Recipients at `*.invalid` are refused (550;
    451 for `defer.invalid`), see tdkt_localstack.mailcatcher."""
    catcher = start_catcher(tmp_path_factory.mktemp("mail") / "Maildir")
    try:
        yield catcher
    finally:
        catcher.stop()


@pytest.fixture
def service_env(servers: Servers, mongo_db: Database, dev_keys, smtp_server: MailCatcher, monkeypatch) -> dict[str, str]:
    """The environment a service process needs, pointed at the test servers, this test's
    database and this test's mail catcher (`smtp_server`, so no test mails a running `make up`);
    set in os.environ for in-process apps and returned for subprocesses."""
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
        "SMTP_HOST": smtp_server.host,
        "SMTP_PORT": str(smtp_server.port),
        "SMTP_STARTTLS": "false",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in ("PROMETHEUS_MULTIPROC_DIR", "SMTP_USERNAME", "SMTP_PASSWORD", "SMTP_CA_FILE"):
        monkeypatch.delenv(name, raising=False)
    return env


# --- a webhook receiver ------------------------------------------------------------------------

WEBHOOK_SECRET = "tdkt-test-webhook-secret-0123456789abcdef"

# a scripted answer: a status, or (status, headers) or (status, headers, body)
Answer = int | tuple[int, dict[str, str]] | tuple[int, dict[str, str], bytes]


class Received(NamedTuple):
    path: str  # as requested, query included
    headers: Message  # case-insensitive: headers["x-tdkt-event"] works
    body: bytes


class WebhookReceiver:
    """A real HTTP(S) server on 127.0.0.1 that plays a webhook subscriber.

    Every request is kept in `.received` (oldest first). Each is verified with tdkt.signing and
    `.secret`: a bad one is answered 401 and also listed in `.refused` as (path, reason). A good
    one gets the next scripted answer for its path (`respond(path, [503, 503, 200])`, consumed one
    per request, then 200), after `delay(path, seconds)` if set. Paths are matched without query.
    `ssl_context` (server side) makes it HTTPS; the handshake runs in the request's thread."""

    def __init__(self, secret: str = WEBHOOK_SECRET, *, ssl_context: ssl.SSLContext | None = None):
        self.secret = secret
        self.received: list[Received] = []
        self.refused: list[tuple[str, str]] = []
        self._answers: dict[str, list[Answer]] = {}
        self._delays: dict[str, float] = {}
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._server = _ReceiverServer(self, ssl_context)
        self.scheme = "https" if ssl_context else "http"
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="webhook-receiver", daemon=True)

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stopping.set()  # wakes delayed answers, so shutting down does not wait for them
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def respond(self, path: str, answers: list[Answer]) -> None:
        with self._changed:
            self._answers[path] = list(answers)

    def delay(self, path: str, seconds: float) -> None:
        with self._changed:
            self._delays[path] = seconds

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The first `count` requests, once they arrived (AssertionError after `timeout`)."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.received) >= count, timeout):
                raise AssertionError(f"the webhook receiver got {len(self.received)} request(s) in {timeout} s, expected {count}")
            return self.received[:count]

    def _answer(self, path: str, headers: Message, body: bytes) -> tuple[int, dict[str, str], bytes, float]:
        """Record the request; the answer to give and how long to wait before it."""
        key = urlsplit(path).path
        try:
            signing.verify(self.secret, headers, body)
            reason = None
        except signing.SignatureError as exc:
            reason = exc.message
        with self._changed:
            self.received.append(Received(path, headers, body))
            if reason is not None:
                self.refused.append((path, reason))
            script = self._answers.get(key) or []
            answer: Answer = script.pop(0) if script and reason is None else 200
            self._changed.notify_all()
            delay = self._delays.get(key, 0.0)
        if reason is not None:
            return 401, {"Content-Type": "text/plain; charset=utf-8"}, reason.encode(), delay
        return (*_full_answer(answer), delay)


def _full_answer(answer: Answer) -> tuple[int, dict[str, str], bytes]:
    if isinstance(answer, int):
        return answer, {"Content-Type": "application/json"}, b'{"ok": true}' if answer < 300 else b'{"ok": false}'
    status, headers, *body = answer
    return status, dict(headers), body[0] if body else b""


class _ReceiverServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 resets connections under a benchmark's concurrency

    def __init__(self, receiver: WebhookReceiver, ssl_context: ssl.SSLContext | None):
        self.receiver, self.ssl_context = receiver, ssl_context
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)

    def finish_request(self, request, client_address) -> None:
        if self.ssl_context is not None:  # here, in the request's own thread: a slow handshake blocks nobody
            request = self.ssl_context.wrap_socket(request, server_side=True)
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError | ssl.SSLError | TimeoutError):  # a client that gave up: expected here
            super().handle_error(request, client_address)


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: _ReceiverServer
    timeout = 10  # a client that never finishes its request does not hold a thread forever

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        receiver = self.server.receiver
        status, headers, payload, delay = receiver._answer(self.path, self.headers, body)
        if delay and receiver._stopping.wait(delay):
            return
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(payload))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args) -> None:
        pass  # tests read `.received`, not stderr


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A webhook subscriber of this test's own (`WebhookReceiver`): `.url(path)`, `.secret`,
    `.received`, `.refused`, `.respond(path, [503, 200])`, `.delay(path, s)`, `.wait_for(n)`."""
    with WebhookReceiver() as receiver:
        yield receiver
