"""Apache Kafka (KRaft, one node, loopback) from Maven Central jars, without Docker.

`deploy/local/kafka/pom.xml` pins the broker; `mvn dependency:copy-dependencies` puts its
runtime classpath in var/cache/kafka-<version>/ once. Storage is formatted on first start.
"""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from tdkt_localstack.errors import StackError
from tdkt_localstack.paths import DEPLOY_LOCAL
from tdkt_localstack.procs import ManagedProcess

POM = DEPLOY_LOCAL / "kafka" / "pom.xml"
LOG4J = DEPLOY_LOCAL / "kafka" / "log4j2.properties"


def kafka_version() -> str:
    return re.search(r"<kafka.version>([^<]+)</kafka.version>", POM.read_text()).group(1)


def ensure_jars(cache: Path) -> Path:
    """The folder of the broker's jars, fetched with Maven the first time."""
    jars = cache.resolve() / f"kafka-{kafka_version()}"
    marker = jars / ".complete"
    if marker.exists():
        return jars
    if not shutil.which("java"):
        raise StackError("Java is not installed: Kafka needs a Java 17+ runtime (apt-get install openjdk-17-jre-headless)")
    if not shutil.which("mvn"):
        raise StackError("Maven is not installed: it fetches Kafka's jars from Maven Central (apt-get install maven)")
    tmp = jars.parent / (jars.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    result = subprocess.run(
        ["mvn", "-B", "-q", "-f", str(POM), "dependency:copy-dependencies", f"-DoutputDirectory={tmp}", "-DincludeScope=runtime"],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise StackError(f"Maven could not fetch Kafka {kafka_version()} from Maven Central: {(result.stdout + result.stderr).strip()[-600:]}")
    shutil.rmtree(jars, ignore_errors=True)
    tmp.rename(jars)
    marker.touch()
    return jars


def new_cluster_id() -> str:
    """16 random bytes, URL-safe base64 without padding, as Kafka wants — but never starting
    with '-', which the storage tool's argument parser would take for an option (1 id in 64)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if cluster_id[0] != "-":
            return cluster_id


class KafkaServer:
    def __init__(self, jars: Path, data_dir: Path, log_path: Path, port: int, controller_port: int, heap: str = "-Xms256m -Xmx768m"):
        self.jars, self.data_dir, self.log_path = jars, data_dir, log_path
        self.port, self.controller_port, self.heap = port, controller_port, heap
        self.process: ManagedProcess | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _properties(self) -> Path:
        path = self.data_dir / "server.properties"
        logs = self.data_dir / "kraft-logs"
        path.write_text(
            "\n".join(
                [
                    "# written by tdkt_localstack at every start; edit deploy/local/src/tdkt_localstack/kafka.py instead",
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
                    f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
                    f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                    "controller.listener.names=CONTROLLER",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                    "inter.broker.listener.name=PLAINTEXT",
                    f"log.dirs={logs}",
                    "num.network.threads=2",
                    "num.io.threads=2",
                    "num.partitions=6",
                    "auto.create.topics.enable=false",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=10",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "share.coordinator.state.topic.replication.factor=1",
                    "share.coordinator.state.topic.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    "log.retention.hours=168",
                    "log.segment.bytes=67108864",
                    "",
                ]
            )
        )
        return path

    def _java(self, main_class: str, *args: str) -> list[str]:
        return [
            "java",
            *self.heap.split(),
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={LOG4J}",
            "-cp",
            f"{self.jars}/*",
            main_class,
            *args,
        ]

    def start(self) -> KafkaServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self._properties()
        if not (self.data_dir / "kraft-logs" / "meta.properties").exists():
            cluster_id = new_cluster_id()
            result = subprocess.run(self._java("kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(config)), capture_output=True, text=True)
            if result.returncode != 0:
                raise StackError(f"formatting Kafka's storage in {self.data_dir} failed: {(result.stdout + result.stderr).strip()[-400:]}")
        self.process = ManagedProcess("kafka", self._java("kafka.Kafka", str(config)), self.log_path).start()
        return self

    def wait_ready(self, timeout: float = 180.0) -> None:
        """Until a metadata request succeeds; a broker that exits or never answers is an error."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process and not self.process.alive():
                raise StackError(f"the Kafka broker exited with code {self.process.exit_code()} while starting; see {self.log_path}:\n{self.process.log_tail()}")
            try:
                admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, bootstrap_timeout_ms=2000, request_timeout_ms=3000)
                try:
                    admin.describe_cluster()
                    return
                finally:
                    admin.close()
            except (KafkaError, OSError):
                time.sleep(0.5)
        raise StackError(f"the Kafka broker did not answer within {int(timeout)} s; see {self.log_path}")

    def stop(self) -> None:
        if self.process:
            self.process.stop(timeout=30)
