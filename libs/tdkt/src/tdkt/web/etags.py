"""`If-Match` on every state change, including the POSTs that are commands (launch, close…).

flask-smorest checks ETags on PUT, PATCH and DELETE only (on a POST it warns and lets the
request through), so a command endpoint calls `require_if_match` instead: 428 without the
header, 412 when the resource moved on since the caller read it.
"""

from __future__ import annotations

from flask import request
from flask_smorest import abort


def require_if_match(blp, etag_data) -> None:
    if request.method in ("PUT", "PATCH", "DELETE"):
        blp.check_etag(etag_data)
        return
    if not request.if_match:
        abort(428, message="Cần header If-Match với ETag vừa đọc / send If-Match with the ETag you read")
    if not request.if_match.contains_weak(blp._generate_etag(etag_data)) and not request.if_match.star_tag:
        abort(412, message="Dữ liệu đã thay đổi từ lần đọc trước / the resource changed since you read it")
