"""`Idempotency-Key` for POSTs: an integrator that retries a POST (a timeout, a dropped
connection) gets the first response again instead of creating a second resource.

Keys are scoped by caller, method and path. The first request claims the key; its response
(2xx–4xx) is stored and replayed for 24 h with `Idempotent-Replayed: true`. A retry while the
first is still running gets 409; the same key with a different body gets 422. A 5xx is not
stored, so the client may retry.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

from flask import Flask, Response, current_app, g, request
from pymongo.errors import DuplicateKeyError

from tdkt.auth import TokenError
from tdkt.logs import get_logger
from tdkt.store import STORE_UNAVAILABLE
from tdkt.web.problems import problem

log = get_logger(__name__)
COLLECTION = "idempotency_keys"
TTL = timedelta(hours=24)
IN_PROGRESS_TTL = timedelta(seconds=60)  # a claim older than this belongs to a dead request
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_REPLAYED_HEADERS = ("Content-Type", "Location", "ETag")


def install_idempotency(app: Flask) -> None:
    @app.before_request
    def _claim():
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or key is None:
            return None
        if not _KEY.match(key):
            return problem(
                400, "Idempotency-Key phải là 1–255 ký tự ASCII in được / must be 1–255 printable ASCII characters", errors={"headers": {"Idempotency-Key": ["invalid"]}}
            )
        ext = current_app.extensions["tdkt"]
        caller = _caller(ext)
        record_id = hashlib.sha256(f"{caller}\n{request.path}\n{key}".encode()).hexdigest()
        body_hash = hashlib.sha256(request.get_data()).hexdigest()
        now = datetime.now(UTC)
        keys = ext.db[COLLECTION]
        try:
            keys.insert_one({"_id": record_id, "state": "in_progress", "body": body_hash, "expires_at": now + IN_PROGRESS_TTL})
            g.idempotency_record = record_id
            return None
        except DuplicateKeyError:
            pass
        earlier = keys.find_one({"_id": record_id})
        if earlier is None or _aware(earlier["expires_at"]) < now:
            keys.delete_one({"_id": record_id, "expires_at": earlier["expires_at"]} if earlier else {"_id": record_id})
            return _claim()  # expired: start afresh
        if earlier["body"] != body_hash:
            return problem(
                422,
                "Idempotency-Key đã dùng cho một yêu cầu khác / this key was used with a different request body",
                slug="idempotency-key-reused",
                errors={"headers": {"Idempotency-Key": ["reused with a different body"]}},
            )
        if earlier["state"] == "in_progress":
            return problem(409, "Yêu cầu với khóa này đang được xử lý / a request with this key is still in progress", slug="idempotency-in-progress", headers={"Retry-After": "1"})
        stored = earlier["response"]
        response = Response(stored["body"], status=stored["status"])
        for name, value in stored["headers"].items():
            response.headers[name] = value
        response.headers["Idempotent-Replayed"] = "true"
        return response

    @app.after_request
    def _store(response: Response):
        record_id = g.pop("idempotency_record", None)
        if record_id is None:
            return response
        keys = current_app.extensions["tdkt"].db[COLLECTION]
        try:
            _settle(keys, record_id, response)
        except STORE_UNAVAILABLE as exc:
            # The store went away during the request (its own answer is likely the 503 saying so).
            # Failing here would turn that answer into a 500; the claim expires on its own after
            # IN_PROGRESS_TTL, and until then a retry with the key is told to wait (409).
            log.warning("idempotency record not settled, the store is unreachable", error=str(exc))
        return response


def _settle(keys, record_id: str, response: Response) -> None:
    """A 5xx frees the key for a retry; anything else is stored for replay."""
    if response.status_code >= 500:
        keys.delete_one({"_id": record_id})
        return
    keys.update_one(
        {"_id": record_id},
        {
            "$set": {
                "state": "done",
                "expires_at": datetime.now(UTC) + TTL,
                "response": {
                    "status": response.status_code,
                    "body": response.get_data(as_text=True),
                    "headers": {h: response.headers[h] for h in _REPLAYED_HEADERS if h in response.headers},
                },
            }
        },
    )


def _caller(ext) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token:
        try:
            return ext.verifier.verify(token.strip()).subject
        except TokenError:
            pass  # the view will refuse it; scope the key to no one in particular
    return "anonymous"


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
