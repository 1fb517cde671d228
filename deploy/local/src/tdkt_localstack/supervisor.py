"""`make up`: the whole system on this machine, from nothing to ready, with one supervisor.

It checks the ports, builds or fetches what is missing (the FerretDB binary, Kafka's jars;
cached under var/cache so later starts take seconds), starts the store and the broker and waits
until each really answers, starts a mail catcher (SMTP into a Maildir folder: mail is kept, never
delivered), creates every service's topics, starts each service's API (gunicorn),
consumer and outbox relay, waits for every API's /readyz, prints where everything is with a
development token, and then watches: a crashed service process is restarted with backoff, a dead
broker or store stops everything with the reason. Ctrl-C or SIGTERM stops it all; children are
in their own process groups and die with the supervisor even if it is killed with -9.

Configuration (environment, all optional): TDKT_VAR, TDKT_HOST, KAFKA_PORT, KAFKA_CONTROLLER_PORT,
MONGO_PORT, SMTP_PORT (the mail catcher's), REGISTRY_PORT, REPORTS_PORT, AWARDS_PORT, NOTIFY_PORT,
WEB_WORKERS; MONGODB_URI, KAFKA_BOOTSTRAP_SERVERS or SMTP_HOST to use servers of your own instead
of starting them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from tdkt.auth.tokens import generate_key_pair, mint_token
from tdkt.events.kafka import BrokerUnreachable, make_admin
from tdkt.events.topics import ensure_topics
from tdkt.services import installed_services
from tdkt.settings import KafkaSettings

from tdkt_localstack.errors import StackError
from tdkt_localstack.ferretdb import FerretServer, ensure_binary
from tdkt_localstack.kafka import KafkaServer, ensure_jars, kafka_version
from tdkt_localstack.mailcatcher import MailCatcherServer
from tdkt_localstack.paths import REPO, sub, var_dir
from tdkt_localstack.ports import port_taken_by
from tdkt_localstack.procs import ManagedProcess

ISSUER, AUDIENCE = "tdkt-local", "tdkt"
ROLES_OF_PROCESSES = ("api", "consumer", "relay")


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, str(default))
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise StackError(f"{name}={value!r} is not a port number")
    return int(value)


@dataclass
class ServiceProcess:
    service: str
    role: str
    process: ManagedProcess
    crashes: list[float] = field(default_factory=list)
    restart_at: float | None = None


class Stack:
    def __init__(self, out=sys.stdout):
        self.out = out
        self.var = var_dir()
        self.host = os.environ.get("TDKT_HOST", "127.0.0.1")
        self.services = installed_services()
        self.infra: list = []
        self.procs: list[ServiceProcess] = []
        self.stopping = threading.Event()
        self.step_no = 0
        self.steps = 8 + sum(len(s.setup_commands) for s in self.services)  # ports, keys, store, Kafka, mail, topics, services, ready + reference data
        self.maildir = None  # where the mail catcher keeps messages; None with SMTP_HOST (a server of your own)
        self.watching = False

    # -- output --------------------------------------------------------------------------------
    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    @contextmanager
    def step(self, label: str, slow_hint: str | None = None):
        self.step_no += 1
        started = time.monotonic()
        self.say(f"[{self.step_no}/{self.steps}] {label} …")
        done = threading.Event()

        def ticker():
            while not done.wait(15):
                self.say(f"      … still working ({int(time.monotonic() - started)} s){' — ' + slow_hint if slow_hint else ''}")

        thread = threading.Thread(target=ticker, daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
        self.say(f"      ok ({time.monotonic() - started:.1f} s)")

    # -- start ---------------------------------------------------------------------------------
    def up(self) -> None:
        self.say(f"TĐKT local stack — state in {self.var}")
        ports = self._ports()
        with self.step("Checking ports"):
            taken = [(what, port, who) for what, port in ports.items() if (who := port_taken_by(port))]
            if taken:
                what, port, who = taken[0]
                raise StackError(f"port {port} ({what}) is taken by {who}; stop that program or choose another port with {_port_variable(what)}=…")
        with self.step("Development keys"):
            keys = sub("keys")
            self.private_key, self.public_key = keys / "dev-private.pem", keys / "dev-public.pem"
            if generate_key_pair(self.private_key, self.public_key):
                self.say(f"      new key pair in {keys}")
        with self.step("Document store (FerretDB, SQLite backend)", "the first build compiles FerretDB, about 2–3 minutes"):
            self.mongo_uri = os.environ.get("MONGODB_URI") or self._start_ferret(ports["document store"])
        with self.step(f"Kafka {kafka_version()} (KRaft, one node)", "the first start fetches the jars from Maven Central"):
            self.bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or self._start_kafka(ports["Kafka"], ports["Kafka controller"])
        with self.step("Mail catcher (SMTP; keeps mail, delivers none)"):
            self.smtp = (os.environ["SMTP_HOST"], os.environ.get("SMTP_PORT", "8025")) if os.environ.get("SMTP_HOST") else self._start_mailcatcher(ports["mail catcher"])
        with self.step("Topics"):
            self._create_topics()
        for service in self.services:
            for command in service.setup_commands:
                with self.step(f"Reference data: tdkt {service.name} {' '.join(command)}", "the first run loads thousands of units, about half a minute"):
                    self._run_setup(service, command, ports)
        with self.step("Services (API, consumer and outbox relay of each)"):
            for service in self.services:
                for role in ROLES_OF_PROCESSES:
                    self.procs.append(ServiceProcess(service.name, role, self._service_process(service, role, ports).start()))
            self._wait_services_ready()
        with self.step("Ready"):
            pass
        self._print_summary(ports)

    def _ports(self) -> dict[str, int]:
        ports = {}
        if not os.environ.get("MONGODB_URI"):
            ports["document store"] = _env_int("MONGO_PORT", 27017)
        if not os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
            ports["Kafka"] = _env_int("KAFKA_PORT", 9092)
            ports["Kafka controller"] = _env_int("KAFKA_CONTROLLER_PORT", 9093)
        if not os.environ.get("SMTP_HOST"):
            ports["mail catcher"] = _env_int("SMTP_PORT", 8025)
        for service in self.services:
            ports[f"{service.name} API"] = _env_int(f"{service.name.upper()}_PORT", service.default_port)
        return ports

    def _start_ferret(self, port: int) -> str:
        server = FerretServer(ensure_binary(sub("cache")), self.var / "data" / "ferretdb", sub("log") / "ferretdb.log", port).start()
        self.infra.append(server)
        server.wait_ready()
        return server.uri

    def _start_kafka(self, port: int, controller_port: int) -> str:
        server = KafkaServer(ensure_jars(sub("cache")), self.var / "data" / "kafka", sub("log") / "kafka.log", port, controller_port).start()
        self.infra.append(server)
        server.wait_ready()
        return server.bootstrap

    def _start_mailcatcher(self, port: int) -> tuple[str, str]:
        self.maildir = self.var / "data" / "mail"
        server = MailCatcherServer(self.maildir, sub("log") / "mailcatcher.log", port).start()
        self.infra.append(server)
        server.wait_ready()
        return server.host, str(port)

    def _create_topics(self) -> None:
        settings = KafkaSettings(self.bootstrap.split(","), "tdkt-supervisor", int(os.environ.get("KAFKA_TOPIC_PARTITIONS", "6")))
        try:
            admin = make_admin(settings)
        except BrokerUnreachable as exc:
            raise StackError(str(exc)) from None
        try:
            created = ensure_topics(admin, [t for s in self.services for t in s.topics], settings.topic_partitions)
        finally:
            admin.close()
        self.say(f"      {len(created)} created" if created else "      all existed")

    def _run_setup(self, service, command: tuple[str, ...], ports: dict[str, int]) -> None:
        """An idempotent operator command (e.g. loading the unit list); its events wait in the
        outboxes until the service's relay starts in the next step."""
        log_path = sub("log") / f"{service.name}-setup.log"
        argv = [sys.executable, "-m", "tdkt.cli", service.name, *command]
        with open(log_path, "a", encoding="utf-8") as log_file:
            done = subprocess.run(argv, env=self._service_env(service, ports[f"{service.name} API"]), cwd=REPO, stdout=subprocess.PIPE, stderr=log_file, text=True)
        lines = [line for line in done.stdout.splitlines() if line.strip()]
        if done.returncode != 0:
            raise StackError(f"`tdkt {service.name} {' '.join(command)}` failed (exit {done.returncode}); see {log_path}")
        for line in lines[:3]:
            self.say(f"      {line}")

    def _service_env(self, service, port: int) -> dict[str, str]:
        prometheus = sub("run") / "prometheus" / service.name
        prometheus.mkdir(parents=True, exist_ok=True)
        return os.environ | {
            "TDKT_ENV": os.environ.get("TDKT_ENV", "development"),
            "MONGODB_URI": self.mongo_uri,
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "SMTP_HOST": self.smtp[0],
            "SMTP_PORT": self.smtp[1],
            "JWT_ISSUER": ISSUER,
            "JWT_AUDIENCE": AUDIENCE,
            "JWT_PUBLIC_KEY_FILE": str(self.public_key),
            "HOST": self.host,
            "PORT": str(port),
            "PROMETHEUS_MULTIPROC_DIR": str(prometheus),
            "TDKT_PROC_NAME": f"tdkt-{service.name}-api",
            "PYTHONUNBUFFERED": "1",
        }

    def _service_process(self, service, role: str, ports: dict[str, int]) -> ManagedProcess:
        env = self._service_env(service, ports[f"{service.name} API"])
        if service.name == "notify" and "awards API" in ports:  # decisions' documents, fetched with notify's own dev-signed token
            env |= {
                "NOTIFY_AWARDS_URL": self._url(ports["awards API"], "/api/v1"),
                "NOTIFY_SERVICE_KEY_FILE": str(self.private_key),
                "NOTIFY_PORTAL_URL": self._url(ports["notify API"], "/api/v1"),
            }
        argv = [sys.executable, "-m", f"tdkt_{service.name}", role]
        return ManagedProcess(f"{service.name} {role}", argv, sub("log") / f"{service.name}-{role}.log", env=env, cwd=REPO)

    def _wait_services_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        pending = {p.service: p for p in self.procs if p.role == "api"}
        while pending and time.monotonic() < deadline:
            for sp in self.procs:
                if not sp.process.alive():
                    raise StackError(
                        f"the {sp.process.name} process exited with code {sp.process.exit_code()} while starting; see {sp.process.log_path}:\n{sp.process.log_tail(8)}"
                    )
            for name, sp in list(pending.items()):
                if _ready(self._url(sp.process.env["PORT"], "/readyz")):
                    del pending[name]
            time.sleep(0.3)
        if pending:
            name, sp = next(iter(pending.items()))
            raise StackError(f"the {name} API did not become ready within {int(timeout)} s; see {sp.process.log_path}")

    def _url(self, port, path: str = "") -> str:
        return f"http://{self.host}:{port}{path}"

    def _print_summary(self, ports: dict[str, int]) -> None:
        token = mint_token(
            self.private_key.read_bytes(), issuer=ISSUER, audience=AUDIENCE, roles=["tdkt_officer"], unit_id=None, name="Cán bộ Phòng Nội vụ (dev)", ttl=timedelta(hours=12)
        )
        self.say()
        self.say("The TĐKT system is running.")
        for service in self.services:
            port = ports[f"{service.name} API"]
            self.say(f"  {service.name:<9} API docs {self._url(port, '/docs')}   OpenAPI {self._url(port, '/openapi.json')}   ready {self._url(port, '/readyz')}")
        self.say(f"  store     {self.mongo_uri}")
        self.say(f"  Kafka     {self.bootstrap}")
        if self.maildir:
            self.say(f"  mail      caught by smtp://{self.smtp[0]}:{self.smtp[1]}, kept in {self.maildir}/new/ (one file per message)")
            self.say(f"            read it: .venv/bin/python -m tdkt_localstack.mailcatcher list {self.maildir}")
        else:
            self.say(f"  mail      sent through your SMTP server {self.smtp[0]}:{self.smtp[1]} (SMTP_HOST, SMTP_PORT)")
        self.say(f"  logs      {self.var / 'log'}/")
        self.say()
        self.say("Development token (role tdkt_officer, 12 h; mint others with `.venv/bin/tdkt token --role ROLE [--unit UNIT_ID]`):")
        self.say(f"  export TOKEN={token}")
        self.say(f'  curl -H "Authorization: Bearer $TOKEN" {self._url(ports[f"{self.services[0].name} API"], "/readyz")}')
        self.say()
        self.say("Ctrl-C stops everything.")

    # -- watch ---------------------------------------------------------------------------------
    def watch(self) -> None:
        while not self.stopping.wait(1.0):
            for server in self.infra:
                if not server.process.alive():
                    raise StackError(f"{server.process.name} exited with code {server.process.exit_code()}; see {server.process.log_path}:\n{server.process.log_tail(8)}")
            now = time.monotonic()
            for sp in self.procs:
                if sp.restart_at is not None:
                    if now >= sp.restart_at:
                        sp.restart_at = None
                        sp.process.start()
                    continue
                if sp.process.alive():
                    continue
                sp.crashes = [t for t in sp.crashes if now - t < 120] + [now]
                if len(sp.crashes) >= 5:
                    raise StackError(f"the {sp.process.name} process keeps crashing (5 times in 2 minutes); see {sp.process.log_path}:\n{sp.process.log_tail(8)}")
                delay = 2 ** len(sp.crashes)
                self.say(f"! {sp.process.name} exited with code {sp.process.exit_code()}; restarting in {delay} s (log: {sp.process.log_path})")
                sp.restart_at = now + delay

    def down(self) -> None:
        threads = [threading.Thread(target=sp.process.stop) for sp in self.procs]
        [t.start() for t in threads]
        [t.join() for t in threads]
        for server in reversed(self.infra):
            server.stop()


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200 and json.load(response).get("status") == "ready"
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _port_variable(what: str) -> str:
    return {"document store": "MONGO_PORT", "Kafka": "KAFKA_PORT", "Kafka controller": "KAFKA_CONTROLLER_PORT", "mail catcher": "SMTP_PORT"}.get(
        what, what.split()[0].upper() + "_PORT"
    )


def up() -> int:
    stack = Stack()

    def on_signal(signum, _frame):
        if stack.stopping.is_set():
            return
        stack.stopping.set()
        print(f"\n{signal.Signals(signum).name}: stopping …", flush=True)
        if not stack.watching:
            raise KeyboardInterrupt  # interrupt a build or a wait in progress, then clean up

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    code = 0
    try:
        stack.up()
        stack.watching = True
        stack.watch()
    except StackError as exc:
        print(f"\nCannot run the stack: {exc}", file=sys.stderr, flush=True)
        code = 1
    except KeyboardInterrupt:
        code = 130
    finally:
        stack.down()
        print("Stopped.", flush=True)
    return code
