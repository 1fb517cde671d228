"""`make up` end to end: the supervisor brings everything to ready, prints where it is, and
stops it all on SIGTERM without leaving a process behind; a taken port is a sentence, not a trace."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
from tdkt_localstack.paths import sub
from tdkt_localstack.ports import free_port
from tdkt_localstack.testing import wait_until

SERVICES = ("registry", "reports", "awards", "notify")


def stack_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONGODB_", "KAFKA_", "JWT_", "SMTP_"))}
    env |= {"TDKT_VAR": str(tmp_path / "var"), "TDKT_CACHE": str(sub("cache")), "WEB_WORKERS": "1"}
    env |= {"MONGO_PORT": str(free_port()), "KAFKA_PORT": str(free_port()), "KAFKA_CONTROLLER_PORT": str(free_port()), "SMTP_PORT": str(free_port())}
    env |= {f"{s.upper()}_PORT": str(free_port()) for s in SERVICES}
    return env


def start(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tdkt_localstack", "up"], env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


def test_up_runs_everything_and_stops_cleanly(tmp_path):
    env = stack_env(tmp_path)
    log = tmp_path / "up.log"
    proc = start(env, log)
    try:
        wait_until(lambda: "The TĐKT system is running." in log.read_text() or proc.poll() is not None, timeout=240, interval=0.5, message="the stack to be ready")
        output = log.read_text()
        assert proc.poll() is None, output
        assert "export TOKEN=ey" in output
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) >= 2 + 3 * len(SERVICES), "store, broker, and API + consumer + relay per service"
        token = output.split("export TOKEN=")[1].split()[0]
        for service in SERVICES:
            port = env[f"{service.upper()}_PORT"]
            assert f"http://127.0.0.1:{port}/docs" in output
            request = urllib.request.Request(f"http://127.0.0.1:{port}/readyz", headers={"Authorization": f"Bearer {token}"})
            with urllib.request.urlopen(request, timeout=5) as response:
                body = json.load(response)
            assert body["status"] == "ready" and body["service"] == service
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(90)
    assert code == 0, log.read_text()[-2000:]
    assert "Stopped." in log.read_text()
    time.sleep(0.5)
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE], "no orphans"


def test_a_taken_port_is_reported_in_a_sentence(tmp_path):
    env = stack_env(tmp_path)
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", int(env["AWARDS_PORT"])))
        blocker.listen()
        result = subprocess.run([sys.executable, "-m", "tdkt_localstack", "up"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"port {env['AWARDS_PORT']} (awards API) is taken by" in result.stderr
    assert "AWARDS_PORT=" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
