"""The HTTP side of attachments, the same in every service: one store per app, the body limit
raised for the upload endpoint only, and downloads that a browser never renders as a page of
this site."""

from __future__ import annotations

import base64
import re
import unicodedata
from copy import deepcopy
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, current_app, request

from tdkt.attachments.store import AttachmentStore
from tdkt.attachments.uploads import MAX_BYTES
from tdkt.text import fold
from tdkt.web.problems import problem

BODY_LIMIT = MAX_BYTES + 64 * 1024  # the file plus the form's framing
BINARY = {"type": "string", "format": "binary"}
TOO_LARGE = f"Mỗi tệp tối đa {MAX_BYTES // 2**20} MB / a file may be at most {MAX_BYTES // 2**20} MB"


def attachment_store() -> AttachmentStore:
    """One store per app, so the backend is probed once per process."""
    ext = current_app.extensions["tdkt"]
    if "attachment_store" not in ext.components:
        ext.components["attachment_store"] = AttachmentStore(ext.db)
    return ext.components["attachment_store"]


def allow_file_uploads(blp: Blueprint, endpoint: str) -> None:
    """The service caps bodies at 1 MB (MAX_CONTENT_LENGTH); only `endpoint`'s POST may take a
    file up to MAX_BYTES. Checked before anything reads the body, since that is when the limit applies."""

    def _room_for_the_file():
        if request.endpoint != f"{blp.name}.{endpoint}" or request.method != "POST":
            return None
        if (request.content_length or 0) > BODY_LIMIT:
            return problem(413, TOO_LARGE)
        request.max_content_length = BODY_LIMIT
        return None

    @blp.record_once
    def _first_of_all(state) -> None:
        # An app-level hook, first in line: the Idempotency-Key hook (app-level, so before any
        # blueprint's) reads the body to hash it, and must already see the raised limit — as a
        # blueprint hook, a 2 MB upload with an Idempotency-Key was a 413 "1 MB".
        state.app.before_request_funcs.setdefault(None, []).insert(0, _room_for_the_file)


def disposition(filename: str, fallback: str = "minh-chung") -> str:
    """RFC 6266: `filename*` for the Vietnamese name, `filename` folded to ASCII for old clients."""
    plain = re.sub(r"[^A-Za-z0-9._ -]", "_", unicodedata.normalize("NFKD", fold(filename)).encode("ascii", "ignore").decode())
    return f"attachment; filename=\"{plain or fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def file_response(info: dict[str, Any], data: bytes) -> Response:
    """A stored file as a download: its sniffed type, `nosniff`, no shared caches, its digest."""
    response = Response(data, mimetype=info["content_type"])
    response.headers["Content-Disposition"] = disposition(info["filename"])
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"  # evidence may be personal: no shared or disk caches
    response.headers["Repr-Digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(info['sha256'])).decode()}:"  # RFC 9530
    return response


def one_multipart_body(schema):
    """Document a view's `files` and `form` arguments as the one multipart/form-data body they are
    (flask-smorest would list them as two), described by `schema` (both parts' fields)."""

    def decorator(view):
        view._apidoc = deepcopy(view._apidoc)
        parameters = view._apidoc["arguments"]["parameters"]
        parameters[:] = [{**p, "schema": schema} for p in parameters if p["in"] == "files"]
        return view

    return decorator
