"""gunicorn settings shared by the four services (`gunicorn -c python:tdkt.gunicorn_conf`).

Sized for small containers and 2-core machines by default; every value can be overridden by
the environment (PORT, HOST, WEB_WORKERS, WEB_THREADS, WEB_TIMEOUT).
"""

import os
import shutil
import tempfile

host = os.environ.get("HOST", "127.0.0.1")
bind = f"{host}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_WORKERS", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
max_requests = 5000  # recycle workers now and then so a slow leak cannot grow without bound
max_requests_jitter = 500
accesslog = None  # the app writes one JSON access line per request itself
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
proc_name = os.environ.get("TDKT_PROC_NAME", "tdkt-api")
# Workers write their metrics here and /metrics merges them (prometheus multiprocess mode).
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", os.path.join(tempfile.gettempdir(), f"tdkt-prometheus-{os.getpid()}"))


def on_starting(server):
    path = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(path, ignore_errors=True)  # stale files from a previous run would be summed in
    os.makedirs(path, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
