"""FerretDB v1 (MongoDB wire protocol) with its SQLite backend, built by our own tiny Go program
(`deploy/local/ferretdb/`) from the Go module proxy; one SQLite file per database."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from tdkt_localstack.errors import StackError
from tdkt_localstack.paths import DEPLOY_LOCAL
from tdkt_localstack.procs import ManagedProcess

BUILD = DEPLOY_LOCAL / "ferretdb" / "build.sh"


def ensure_binary(cache: Path) -> Path:
    if not shutil.which("go"):
        link = cache / "tdkt-ferretdb"
        if link.exists():
            return link
        raise StackError("Go is not installed: the local MongoDB-protocol store (FerretDB) is built with Go 1.22+ (apt-get install golang)")
    result = subprocess.run(["bash", str(BUILD), str(cache)], capture_output=True, text=True)
    if result.returncode != 0:
        raise StackError(f"building FerretDB failed: {(result.stdout + result.stderr).strip()[-600:]}")
    return cache / "tdkt-ferretdb"


class FerretServer:
    def __init__(self, binary: Path, data_dir: Path, log_path: Path, port: int):
        self.binary, self.data_dir, self.log_path, self.port = binary, data_dir, log_path, port
        self.process: ManagedProcess | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def start(self) -> FerretServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process = ManagedProcess("ferretdb", [str(self.binary), "-listen", f"127.0.0.1:{self.port}", "-data", str(self.data_dir)], self.log_path).start()
        return self

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        client = MongoClient(self.uri, serverSelectionTimeoutMS=1000, connectTimeoutMS=1000)
        try:
            while time.monotonic() < deadline:
                if self.process and not self.process.alive():
                    raise StackError(f"FerretDB exited with code {self.process.exit_code()} while starting; see {self.log_path}:\n{self.process.log_tail()}")
                try:
                    client.admin.command("ping")
                    return
                except PyMongoError:
                    time.sleep(0.2)
        finally:
            client.close()
        raise StackError(f"FerretDB did not answer a ping within {int(timeout)} s; see {self.log_path}")

    def stop(self) -> None:
        if self.process:
            self.process.stop(timeout=10)
