"""Bad settings, or a broker or store that does not answer at start: a clear sentence and a
non-zero exit within seconds, never a stack trace or a hang."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from tdkt_localstack.ports import free_port


def run_service(command: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MONGODB_", "KAFKA_", "JWT_", "TDKT_"))}
    return subprocess.run([sys.executable, "-m", "tdkt_registry", command], env=clean | env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("command", ["api", "relay", "consumer"])
def test_missing_and_malformed_variables_are_named(command, service_env):
    env = dict(service_env)
    del env["MONGODB_URI"]
    env["KAFKA_TOPIC_PARTITIONS"] = "many"
    env["JWT_ALGORITHM"] = "none"
    result = run_service(command, env)
    assert result.returncode == 2
    assert "cannot start" in result.stderr
    for name in ("MONGODB_URI", "KAFKA_TOPIC_PARTITIONS", "JWT_ALGORITHM"):
        assert name in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_store_is_said_plainly(service_env):
    env = dict(service_env, MONGODB_URI=f"mongodb://127.0.0.1:{free_port()}/", MONGODB_TIMEOUT_MS="1500")
    result = run_service("relay", env)
    assert result.returncode == 2
    assert "the document store at mongodb://127.0.0.1:" in result.stderr and "does not answer" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_broker_is_said_plainly(service_env):
    env = dict(service_env, KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{free_port()}")
    result = run_service("relay", env)
    assert result.returncode == 2
    assert "the Kafka broker at 127.0.0.1:" in result.stderr and "does not answer" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_key_file_is_named(service_env, tmp_path):
    result = run_service("consumer", dict(service_env, JWT_PUBLIC_KEY_FILE=str(tmp_path / "nope.pem")))
    assert result.returncode == 2
    assert "JWT_PUBLIC_KEY_FILE: no such file" in result.stderr
