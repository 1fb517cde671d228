"""Signed HTTP deliveries between TĐKT and other systems: one recipe for the whole platform.

Used both ways: the awards service verifies the province's callbacks with it, the notify service
signs the webhooks it sends with it (and a receiver verifies them the same way).

The recipe: HMAC-SHA256 under a shared secret of `f"{timestamp}.{delivery}.".encode() + body`,
sent as three headers —

    X-TDKT-Timestamp: <Unix seconds>
    X-TDKT-Delivery:  <unique id of the delivery, 1–200 printable ASCII; a retry sends the same>
    X-TDKT-Signature: sha256=<lowercase hex>

The timestamp and delivery id are inside the MAC, so neither can be swapped; the timestamp bounds
replays to a window (300 s by default) and the delivery id lets the receiver drop duplicates
within it. In a shell: `printf '%s.%s.%s' "$TS" "$ID" "$BODY" | openssl dgst -sha256 -hmac "$SECRET"`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping

TIMESTAMP_HEADER = "X-TDKT-Timestamp"
DELIVERY_HEADER = "X-TDKT-Delivery"
SIGNATURE_HEADER = "X-TDKT-Signature"
SIGNED_HEADERS = (TIMESTAMP_HEADER, DELIVERY_HEADER, SIGNATURE_HEADER)
WINDOW_S = 300
PREFIX = "sha256="

TIMESTAMP = re.compile(r"[0-9]{1,12}")
DELIVERY = re.compile(r"[\x21-\x7e]{1,200}")  # printable ASCII: receivers use it as a key (`_id`)


class SignatureError(Exception):
    """The delivery is not from who holds the secret, or not from now. `reason` is one of
    "missing", "malformed", "signature", "timestamp"; `message` (and str()) is bilingual."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


def _key(secret: str | bytes) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


def sign(secret: str | bytes, timestamp: int | str, delivery: str, body: bytes) -> str:
    """The X-TDKT-Signature value: "sha256=" + hex HMAC-SHA256 of "<timestamp>.<delivery>." + body.
    The timestamp may be given as the header's text: it is signed exactly as written."""
    return PREFIX + hmac.new(_key(secret), f"{timestamp}.{delivery}.".encode() + body, hashlib.sha256).hexdigest()


def headers(secret: str | bytes, delivery: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    """The three headers to send with `body`, stamped now (or `now`)."""
    timestamp = int(time.time() if now is None else now)
    return {TIMESTAMP_HEADER: str(timestamp), DELIVERY_HEADER: delivery, SIGNATURE_HEADER: sign(secret, timestamp, delivery, body)}


def _header(given: Mapping[str, str], name: str) -> str | None:
    """Header names are case-insensitive; a plain dict is not, so look twice."""
    value = given.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in given.items() if k.lower() == lowered), None)
    return value or None


def verify(secret: str | bytes, headers: Mapping[str, str], body: bytes, *, now: float | None = None, window_s: int = WINDOW_S) -> str:
    """Return the delivery id when the three headers are present and well-formed, the signature
    matches (constant-time) and the timestamp is within ±window_s of now; else SignatureError."""
    timestamp, delivery, signature = (_header(headers, name) for name in SIGNED_HEADERS)
    missing = [name for name, value in zip(SIGNED_HEADERS, (timestamp, delivery, signature), strict=True) if not value]
    if missing:
        names = ", ".join(missing)
        raise SignatureError("missing", f"Thiếu {names} (cần đủ {', '.join(SIGNED_HEADERS)}) / {names} missing ({', '.join(SIGNED_HEADERS)} are required)")
    if not TIMESTAMP.fullmatch(timestamp) or not DELIVERY.fullmatch(delivery):
        raise SignatureError(
            "malformed",
            f"{TIMESTAMP_HEADER} phải là giây Unix, {DELIVERY_HEADER} 1–200 ký tự ASCII / {TIMESTAMP_HEADER} must be Unix seconds, {DELIVERY_HEADER} 1–200 printable ASCII characters",
        )
    expected = sign(secret, timestamp, delivery, body)
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):  # bytes: a non-ASCII str would raise
        raise SignatureError("signature", "Chữ ký không đúng / the signature does not match")
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > window_s:  # checked after the signature: an unsigned request learns nothing about our clock
        raise SignatureError("timestamp", f"{TIMESTAMP_HEADER} lệch quá {window_s} giây / {TIMESTAMP_HEADER} is more than {window_s} s from now")
    return delivery
