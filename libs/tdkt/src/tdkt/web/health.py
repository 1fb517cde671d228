"""/healthz: the process answers (no dependencies). /readyz: the store and the broker answer,
with the event pipeline's backlog in the body so an operator sees how far behind it is."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import marshmallow as ma
from flask import current_app, jsonify
from flask_smorest import Blueprint
from kafka.errors import KafkaError
from pymongo.errors import PyMongoError

from tdkt.events.kafka import BrokerUnreachable, make_admin
from tdkt.settings import KafkaSettings
from tdkt.store import ping

health = Blueprint("health", __name__, description="Sức khỏe dịch vụ / Liveness and readiness probes")


class HealthSchema(ma.Schema):
    status = ma.fields.String(metadata={"example": "ok"})
    service = ma.fields.String(metadata={"example": "registry"})


class CheckSchema(ma.Schema):
    ok = ma.fields.Boolean()
    error = ma.fields.String()


class ReadySchema(ma.Schema):
    status = ma.fields.String(metadata={"example": "ready"})
    service = ma.fields.String()
    checks = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(CheckSchema))
    pipeline = ma.fields.List(ma.fields.Dict(), metadata={"description": "outbox relay and consumer status as last reported"})


class BrokerProbe:
    """A metadata request to Kafka, cached for a few seconds so probes do not hammer it. The
    client is closed after each check: an API worker keeps no Kafka connection or thread."""

    def __init__(self, settings: KafkaSettings, ttl_s: float = 5.0):
        self.settings, self.ttl = settings, ttl_s
        self._checked_at = float("-inf")
        self._error: str | None = None
        self._lock = threading.Lock()

    def check(self) -> str | None:
        """None when the broker answers, else why not."""
        with self._lock:
            if time.monotonic() - self._checked_at < self.ttl:
                return self._error
            admin = None
            try:
                admin = make_admin(self.settings, bootstrap_timeout_ms=2000, request_timeout_ms=2000)
                admin.describe_cluster()
                self._error = None
            except (BrokerUnreachable, KafkaError, OSError) as exc:
                self._error = str(exc)
            finally:
                if admin is not None:
                    admin.close()
            self._checked_at = time.monotonic()
            return self._error


@health.route("/healthz")
@health.response(200, HealthSchema)
def healthz():
    """The process answers (no dependency is checked)."""
    return jsonify(status="ok", service=current_app.extensions["tdkt"].service.name)


@health.route("/readyz")
@health.response(200, ReadySchema)
@health.alt_response(503, schema=ReadySchema, description="Store or broker unreachable")
def readyz():
    """The store and the broker answer; the body also shows the event pipeline's backlog."""
    ext = current_app.extensions["tdkt"]
    checks: dict[str, dict] = {}
    try:
        ping(ext.db)
        checks["store"] = {"ok": True}
    except PyMongoError as exc:
        checks["store"] = {"ok": False, "error": str(exc)[:300]}
    broker_error = ext.broker_probe.check()
    checks["broker"] = {"ok": broker_error is None} | ({"error": broker_error[:300]} if broker_error else {})
    pipeline = []
    if checks["store"]["ok"]:
        now = datetime.now(UTC)
        for doc in ext.db["pipeline_status"].find({}):
            beat = doc.get("heartbeat_at")
            beat = beat if beat is None or beat.tzinfo else beat.replace(tzinfo=UTC)
            pipeline.append(
                {k: v for k, v in doc.items() if k not in ("_id", "heartbeat_at")}
                | {"name": doc["_id"], "heartbeat_age_s": round((now - beat).total_seconds(), 1) if beat else None}
            )
    ready = all(c["ok"] for c in checks.values())
    body = {"status": "ready" if ready else "not ready", "service": ext.service.name, "checks": checks, "pipeline": pipeline}
    response = jsonify(body)
    response.status_code = 200 if ready else 503
    if not ready:
        response.headers["Retry-After"] = "5"
    return response
