"""Command endpoints: `POST /<resource>/<id>/<verb>` (launch, submit, accept, open, close…).

Every service has them and they all do the same: check the caller's roles, load the resource,
require `If-Match` with its ETag (flask-smorest does not check ETags on POST: see
`tdkt.web.etags`), run the use case, answer the new state with its new ETag.

    command_route(blp, "/<report_id>/submit", endpoint="report_submit", schema=NoBodySchema,
                  roles=SUBMITTERS, response=ReportSchema, view=_view, etag=_etag,
                  action=lambda rid, body, check: use_cases.submit(rid, current_principal(), check),
                  summary="Nộp báo cáo / submit the draft as a new version")
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask.views import MethodView

from tdkt.web.auth import authorize
from tdkt.web.etags import require_if_match
from tdkt.web.problems import PROBLEM_JSON, ProblemSchema


def command_route(
    blp,
    rule: str,
    *,
    endpoint: str,
    schema,
    roles: tuple[str, ...],
    response,
    view: Callable[[Any], dict],
    etag: Callable[[Any], dict],
    action: Callable[[str, dict, Callable[[Any], None]], Any],
    summary: str,
    conflict: str = "Not allowed in the resource's current state",
) -> type[MethodView]:
    """Register the command on `blp`; `action(resource_id, body, check_version)` does the work."""

    class Command(MethodView):
        @authorize(blp, *roles)
        @blp.etag
        @blp.arguments(schema)
        @blp.response(200, response)
        @blp.alt_response(409, schema=ProblemSchema, content_type=PROBLEM_JSON, description=conflict)
        def post(self, body, **ids):
            (resource_id,) = ids.values()
            doc = action(resource_id, body, lambda d: require_if_match(blp, etag(d)))
            blp.set_etag(etag(doc))
            return view(doc)

    Command.post.__doc__ = summary
    Command.__name__ = Command.__qualname__ = f"Command_{endpoint}"
    blp.route(rule, endpoint=endpoint)(Command)
    return Command
