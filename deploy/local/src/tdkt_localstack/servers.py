"""Kafka + the document store for one purpose (the stack, or one test session), started
together and stopped together; or, when URLs are given, someone else's servers used as they are."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from tdkt_localstack.ferretdb import FerretServer, ensure_binary
from tdkt_localstack.kafka import KafkaServer, ensure_jars
from tdkt_localstack.paths import sub


@dataclass
class Servers:
    kafka_bootstrap: str
    mongo_uri: str
    kind: str  # "external", "containers" or "local"
    _stoppers: list = field(default_factory=list)

    def stop(self) -> None:
        for stop in reversed(self._stoppers):
            stop()
        self._stoppers.clear()


def start_local(root: Path, kafka_port: int, controller_port: int, mongo_port: int, *, remove_on_stop: bool = False) -> Servers:
    """FerretDB and Kafka under `root` (data/ and log/), on the given loopback ports."""
    cache = sub("cache")
    ferret = FerretServer(ensure_binary(cache), root / "data" / "ferretdb", root / "log" / "ferretdb.log", mongo_port).start()
    kafka = KafkaServer(ensure_jars(cache), root / "data" / "kafka", root / "log" / "kafka.log", kafka_port, controller_port).start()
    servers = Servers(kafka.bootstrap, ferret.uri, "local")
    servers._stoppers += [ferret.stop, kafka.stop]
    if remove_on_stop:
        servers._stoppers.insert(0, lambda: shutil.rmtree(root, ignore_errors=True))
    try:
        ferret.wait_ready()
        kafka.wait_ready()
    except BaseException:
        servers.stop()
        raise
    return servers
