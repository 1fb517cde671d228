"""RFC 9457 problem details for every error, including 404, 405, 422 and the unexpected.

Each problem has a stable `type` (a URN a client can switch on), a bilingual `title`
(Vietnamese / English), the HTTP `status`, a `detail`, the `instance` path and the `request_id`
to quote to support; validation problems add `errors`, field by field, under the location they
came from (`json`, `query`, `headers`). A stack trace never leaves the process.
"""

from __future__ import annotations

import marshmallow as ma
from flask import Flask, Response, g, json, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from tdkt.errors import DomainError, Invalid
from tdkt.logs import get_logger
from tdkt.store import STORE_UNAVAILABLE
from tdkt.web.bodies import TOO_DEEP, nested_too_deep

log = get_logger(__name__)
PROBLEM_JSON = "application/problem+json"

# status → (type slug, title "Vietnamese / English")
PROBLEMS: dict[int, tuple[str, str]] = {
    400: ("bad-request", "Yêu cầu không hợp lệ / Bad request"),
    401: ("unauthenticated", "Chưa xác thực / Authentication required"),
    403: ("forbidden", "Không có quyền / Forbidden"),
    404: ("not-found", "Không tìm thấy / Not found"),
    405: ("method-not-allowed", "Phương thức không được hỗ trợ / Method not allowed"),
    406: ("not-acceptable", "Không thể trả về định dạng yêu cầu / Not acceptable"),
    409: ("conflict", "Xung đột trạng thái / Conflict"),
    412: ("precondition-failed", "Dữ liệu đã bị thay đổi / Precondition failed (stale If-Match)"),
    413: ("payload-too-large", "Dữ liệu gửi lên quá lớn / Payload too large"),
    415: ("unsupported-media-type", "Định dạng dữ liệu không được hỗ trợ / Unsupported media type"),
    422: ("validation", "Dữ liệu không hợp lệ / Invalid input"),
    428: ("precondition-required", "Thiếu If-Match / Precondition required"),
    429: ("too-many-requests", "Quá nhiều yêu cầu / Too many requests"),
    500: ("internal", "Lỗi hệ thống / Internal error"),
    503: ("unavailable", "Dịch vụ tạm thời không sẵn sàng / Service unavailable"),
}


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details (documentation of every error response)."""

    class Meta:
        # RFC 9457 extension members: a domain error adds its machine-readable details beside
        # the standard ones (e.g. `other_unit` on a duplicate unit code), so the documented
        # schema allows more members (apispec: additionalProperties true, not false).
        unknown = ma.INCLUDE

    type = ma.fields.String(metadata={"example": "urn:tdkt:problem:validation"})
    title = ma.fields.String(metadata={"example": "Dữ liệu không hợp lệ / Invalid input"})
    status = ma.fields.Integer(metadata={"example": 422})
    detail = ma.fields.String()
    instance = ma.fields.String()
    request_id = ma.fields.String()
    errors = ma.fields.Dict(metadata={"description": "per location (json, query, headers), per field: messages"})


def problem(status: int, detail: str | None = None, *, slug: str | None = None, errors: dict | None = None, headers: dict | None = None, title: str | None = None) -> Response:
    default_slug, default_title = PROBLEMS.get(status, ("error", "Lỗi / Error"))
    body = {
        "type": f"urn:tdkt:problem:{slug or default_slug}",
        "title": title or default_title,
        "status": status,
        "detail": detail or default_title,
        "instance": request.path,
        "request_id": getattr(g, "request_id", None),
    }
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


class ProblemApi(Api):
    """flask-smorest's Api with problem+json instead of its default error body."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self):
        # flask-smorest documents its shared error responses (404, 422, default, …) with the
        # success content type; ours are served as application/problem+json, so say so.
        self.DEFAULT_RESPONSE_CONTENT_TYPE = PROBLEM_JSON
        try:
            super()._register_responses()
        finally:
            del self.DEFAULT_RESPONSE_CONTENT_TYPE  # back to the class's application/json

    def handle_http_exception(self, error: HTTPException):
        data = getattr(error, "data", None) or {}
        errors = data.get("errors") or data.get("messages")
        detail = data.get("message")
        if error.code == 422 and errors and not detail:
            detail = "Một số trường không hợp lệ, xem `errors` / Some fields are invalid, see `errors`"
        if error.code == 500:
            detail = None  # never echo an internal message
        headers = dict(data.get("headers") or {})
        if isinstance(error, HTTPException) and error.code == 405 and error.valid_methods:
            headers["Allow"] = ", ".join(error.valid_methods)
        if error.code == 413:
            detail = too_large_detail(request.max_content_length)
        return problem(error.code or 500, detail or (error.description if error.code != 500 else None), slug=data.get("slug"), errors=errors, headers=headers)


def too_large_detail(limit: int | None) -> str:
    """What a client needs to fix a 413: the limit of this endpoint (an upload's is larger)."""
    if not limit:
        return "Nội dung yêu cầu vượt quá giới hạn / Request body exceeds the size limit"
    mb = f"{limit / 2**20:.0f} MB" if limit >= 2**20 else f"{limit // 1024} KB"
    return f"Nội dung yêu cầu vượt quá giới hạn {mb} / Request body exceeds the {mb} limit"


def install_error_handlers(app: Flask) -> None:
    def store_unavailable(exc):
        log.warning("document store unavailable", error=str(exc))
        return problem(503, "Kho dữ liệu tạm thời không truy cập được, hãy thử lại / The data store is unreachable, retry shortly", headers={"Retry-After": "5"})

    def unexpected(exc):
        if isinstance(exc, HTTPException):
            return app.extensions["tdkt"].api.handle_http_exception(exc)
        if nested_too_deep(exc):  # the client's malformed body, not our failure
            return problem(400, TOO_DEEP, errors={"json": [TOO_DEEP]})
        log.exception("unhandled error", path=request.path)
        return problem(500)

    def domain_error(exc: DomainError):
        extra = {k: v for k, v in exc.details.items() if k != "field"}
        response = problem(
            exc.status, exc.message, slug=exc.slug, errors=exc.errors if isinstance(exc, Invalid) else None, headers={"Retry-After": "2"} if exc.status == 503 else None
        )
        if extra:  # e.g. the other unit holding a duplicate code: machine-readable beside the sentence
            body = json.loads(response.get_data())
            body.update({k: v for k, v in extra.items() if k not in body})  # never shadow the standard members
            response.set_data(json.dumps(body, ensure_ascii=False))
        return response

    app.register_error_handler(DomainError, domain_error)
    for cls in STORE_UNAVAILABLE:
        app.register_error_handler(cls, store_unavailable)
    app.register_error_handler(Exception, unexpected)
