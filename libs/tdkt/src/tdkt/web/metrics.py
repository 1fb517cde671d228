"""Prometheus metrics: request counts and latencies per endpoint, plus the event pipeline's
backlog (outbox and consumer lag) read from the store at scrape time.

Under gunicorn the metrics of all workers are merged in multiprocess mode: each worker writes to
PROMETHEUS_MULTIPROC_DIR (set by the shared gunicorn config) and /metrics aggregates them.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from pymongo.errors import PyMongoError

REQUESTS = Counter("tdkt_http_requests_total", "HTTP requests", ["service", "method", "endpoint", "status"])
LATENCY = Histogram(
    "tdkt_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class PipelineCollector:
    """Outbox backlog and consumer lag of this service, as its relay and consumer last reported."""

    def __init__(self, service: str, db):
        self.service, self.db = service, db

    def describe(self):
        return []  # nothing is read from the store until a scrape asks

    def collect(self):
        pending = GaugeMetricFamily("tdkt_outbox_pending_aggregates", "Aggregates with events not yet published", labels=["service"])
        oldest = GaugeMetricFamily("tdkt_outbox_oldest_pending_seconds", "Age of the oldest unpublished event", labels=["service"])
        lag = GaugeMetricFamily("tdkt_consumer_lag", "Records not yet consumed", labels=["service", "group"])
        try:
            for doc in self.db["pipeline_status"].find({}):
                if doc.get("kind") == "relay":
                    pending.add_metric([self.service], doc.get("pending_aggregates", 0))
                    at = doc.get("oldest_pending_at")
                    oldest.add_metric([self.service], (datetime.now(UTC) - _aware(at)).total_seconds() if at else 0.0)
                elif doc.get("kind") == "consumer":
                    lag.add_metric([self.service, doc.get("group", "")], doc.get("total_lag", 0))
        except PyMongoError:
            return  # a scrape while the store is down shows request metrics only
        yield from (pending, oldest, lag)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def install_metrics(app: Flask, service: str, db) -> None:
    @app.before_request
    def _start_timer():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response):
        # The route template, not the raw path, so ids do not explode the label space.
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        REQUESTS.labels(service, request.method, endpoint, str(response.status_code)).inc()
        if "metrics_started" in g:
            LATENCY.labels(service, request.method, endpoint).observe(time.perf_counter() - g.metrics_started)
        return response

    pipeline_registry = CollectorRegistry()
    pipeline_registry.register(PipelineCollector(service, db))

    @app.get("/metrics")
    def metrics():
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
        else:
            registry = REGISTRY
        body = generate_latest(registry) + generate_latest(pipeline_registry)
        return Response(body, mimetype=CONTENT_TYPE_LATEST)
