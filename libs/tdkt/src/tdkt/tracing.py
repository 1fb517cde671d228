"""W3C trace context: the `traceparent` carried from an HTTP request into the events it causes
and from an event into the events its handler causes, so one trace id follows a change across
services and shows up in every JSON log line on the way."""

from __future__ import annotations

import contextvars
import re
import secrets
from dataclasses import dataclass

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")

current_traceparent: contextvars.ContextVar[str | None] = contextvars.ContextVar("traceparent", default=None)


@dataclass(frozen=True)
class TraceParent:
    trace_id: str
    span_id: str
    flags: str = "01"

    def __str__(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"

    def child(self) -> TraceParent:
        """Same trace, new span: what a hop (request → event, event → event) gets."""
        return TraceParent(self.trace_id, secrets.token_hex(8), self.flags)


def new_traceparent() -> TraceParent:
    return TraceParent(secrets.token_hex(16), secrets.token_hex(8))


def parse_traceparent(value: str | bytes | None) -> TraceParent | None:
    """The parsed header, or None when absent or malformed (a bad header starts a new trace)."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    match = _TRACEPARENT.match(value.strip().lower())
    if not match or match.group(1) == "0" * 32 or match.group(2) == "0" * 16:
        return None
    return TraceParent(match.group(1), match.group(2), match.group(3))


def continue_or_start(value: str | bytes | None) -> TraceParent:
    parent = parse_traceparent(value)
    return parent.child() if parent else new_traceparent()
