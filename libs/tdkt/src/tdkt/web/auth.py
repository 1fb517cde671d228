"""Authentication and role checks for views.

    @blp.route("/reports/<report_id>")
    class ReportView(MethodView):
        @authorize(blp, "unit_reporter", "unit_head", "tdkt_officer")
        def get(self, report_id): ...  # current_principal() is the verified caller

Unit scope is the view's job, with `current_principal().unit_filter()` in every query, so a
caller can never read another unit's data by guessing an id.
"""

from __future__ import annotations

from functools import wraps

from flask import current_app, g, request

from tdkt.auth import Principal, TokenError
from tdkt.web.problems import PROBLEM_JSON, ProblemSchema, problem

BEARER_SCHEME = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


class _Refusal(Exception):
    def __init__(self, response):
        self.response = response


def current_principal() -> Principal:
    return g.principal


def authenticate() -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _Refusal(problem(401, "Thiếu token Bearer / A Bearer token is required", headers={"WWW-Authenticate": 'Bearer realm="tdkt"'}))
    try:
        return current_app.extensions["tdkt"].verifier.verify(token.strip())
    except TokenError as exc:
        raise _Refusal(
            problem(401, f"Token không hợp lệ / {exc}", headers={"WWW-Authenticate": f'Bearer realm="tdkt", error="invalid_token", error_description="{exc}"'})
        ) from None


def authorize(blp, *roles: str):
    """Require a valid token and, when roles are given, one of them; documents both in OpenAPI."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            try:
                principal = authenticate()
            except _Refusal as refusal:
                return refusal.response
            if roles and not principal.has_any(*roles):
                return problem(403, f"Cần một trong các vai trò / One of these roles is required: {', '.join(roles)}")
            g.principal = principal
            return view(*args, **kwargs)

        documented = blp.doc(security=[{"bearerAuth": []}])(wrapper)
        documented = blp.alt_response(401, schema=ProblemSchema, content_type=PROBLEM_JSON, description="Missing or invalid token")(documented)
        if roles:
            documented = blp.alt_response(403, schema=ProblemSchema, content_type=PROBLEM_JSON, description=f"Requires one of: {', '.join(roles)}")(documented)
        return documented

    return decorator
