"""The platform's signing recipe (tdkt.signing): what a sender stamps, a receiver accepts, and
everything a receiver must refuse — each refusal with its reason and a bilingual message."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from tdkt import signing

SECRET = "s3cret-shared-between-both-ends-0123456789"
BODY = '{"event": "vn.tdkt.awards.nomination.decided.v1", "name": "Lò Thị Mai"}'.encode()
NOW = 1767225600  # 2026-01-01T00:00:00Z


def refused(reason: str, headers: dict[str, str], body: bytes = BODY, secret: str | bytes = SECRET, now: float = NOW) -> signing.SignatureError:
    with pytest.raises(signing.SignatureError) as caught:
        signing.verify(secret, headers, body, now=now)
    assert caught.value.reason == reason
    assert " / " in caught.value.message and str(caught.value) == caught.value.message  # bilingual, and what str() shows
    return caught.value


def test_a_known_vector_computed_by_hand():
    expected = hmac.new(SECRET.encode(), b"1767225600.d-1." + BODY, hashlib.sha256).hexdigest()
    assert signing.sign(SECRET, NOW, "d-1", BODY) == f"sha256={expected}"
    assert signing.sign(SECRET.encode(), "1767225600", "d-1", BODY) == f"sha256={expected}"  # bytes key, the header's text
    assert signing.headers(SECRET, "d-1", BODY, now=NOW + 0.9) == {
        "X-TDKT-Timestamp": "1767225600",
        "X-TDKT-Delivery": "d-1",
        "X-TDKT-Signature": f"sha256={expected}",
    }
    assert (signing.TIMESTAMP_HEADER, signing.DELIVERY_HEADER, signing.SIGNATURE_HEADER) == ("X-TDKT-Timestamp", "X-TDKT-Delivery", "X-TDKT-Signature")


def test_round_trip_returns_the_delivery_id():
    stamped = signing.headers(SECRET, "dlv-42", BODY)  # now: the real clock
    assert signing.verify(SECRET, stamped, BODY) == "dlv-42"
    assert signing.verify(SECRET.encode(), stamped, BODY) == "dlv-42"
    assert signing.verify(SECRET, {name.lower(): value for name, value in stamped.items()}, BODY) == "dlv-42"  # names are case-insensitive
    assert signing.verify(SECRET, signing.headers(SECRET, "empty", b""), b"") == "empty"


def test_tampering_or_another_secret_is_refused():
    stamped = signing.headers(SECRET, "d-1", BODY, now=NOW)
    refused("signature", stamped, body=BODY + b" ")
    refused("signature", stamped, secret="another-secret-of-the-same-length-012345")
    refused("signature", {**stamped, "X-TDKT-Delivery": "d-2"})  # the id is signed: no replay under a new one
    refused("signature", {**stamped, "X-TDKT-Timestamp": str(NOW + 1)})  # nor a fresher stamp
    refused("signature", {**stamped, "X-TDKT-Signature": stamped["X-TDKT-Signature"].upper()})
    refused("signature", {**stamped, "X-TDKT-Signature": "sha256=ồ"})  # non-ASCII: refused, not a TypeError


def test_the_timestamp_window():
    stamped = signing.headers(SECRET, "d-1", BODY, now=NOW)
    assert signing.verify(SECRET, stamped, BODY, now=NOW + 300) == "d-1"
    assert signing.verify(SECRET, stamped, BODY, now=NOW - 300) == "d-1"
    stale = refused("timestamp", stamped, now=NOW + 301)
    assert "300" in stale.message
    refused("timestamp", stamped, now=NOW - 301)  # from the future
    assert signing.verify(SECRET, stamped, BODY, now=NOW + 3000, window_s=3600) == "d-1"
    # the window is judged only once the signature holds: an unsigned request learns nothing about our clock
    refused("signature", {**stamped, "X-TDKT-Signature": "sha256=" + "0" * 64}, now=NOW + 10_000)


def test_missing_or_malformed_headers():
    stamped = signing.headers(SECRET, "d-1", BODY, now=NOW)
    for name in signing.SIGNED_HEADERS:
        error = refused("missing", {k: v for k, v in stamped.items() if k != name})
        assert name in error.message
        refused("missing", {**stamped, name: ""})
    refused("missing", {})
    refused("malformed", {**stamped, "X-TDKT-Timestamp": "soon"})
    refused("malformed", {**stamped, "X-TDKT-Timestamp": "-5"})
    refused("malformed", {**stamped, "X-TDKT-Delivery": "two words"})
    refused("malformed", {**stamped, "X-TDKT-Delivery": "x" * 201})
