"""Per-request ids: `X-Request-ID` (kept if the caller sent a sane one) and the W3C trace
context, bound into every log line and carried into the events the request causes."""

from __future__ import annotations

import re
import time
import uuid

import structlog
from flask import Flask, g, request

from tdkt.logs import get_logger
from tdkt.tracing import continue_or_start, current_traceparent

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
access_log = get_logger("tdkt.access")


def install_request_context(app: Flask) -> None:
    @app.before_request
    def _start():
        g.started = time.perf_counter()
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.traceparent = continue_or_start(request.headers.get("traceparent"))
        g.traceparent_token = current_traceparent.set(str(g.traceparent))
        structlog.contextvars.bind_contextvars(request_id=g.request_id, trace_id=g.traceparent.trace_id)

    @app.after_request
    def _finish(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        if g.get("traceparent"):
            response.headers["traceparent"] = str(g.traceparent)
        if request.path not in ("/healthz", "/readyz", "/metrics"):
            access_log.info(
                "request",
                method=request.method,
                path=request.path,
                status=response.status_code,
                duration_ms=round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 1),
            )
        return response

    @app.teardown_request
    def _clear(_exc):
        token = g.pop("traceparent_token", None)
        if token is not None:
            current_traceparent.reset(token)
        structlog.contextvars.unbind_contextvars("request_id", "trace_id")
