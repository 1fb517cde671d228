"""/api/v1/reports — progress reports: a unit writes and submits its own, an officer reviews.

Every change needs `If-Match` with the ETag last read (the commands are POSTs: see
`tdkt.web.etags`). A unit sees only its own reports; wide-sight roles see all.
"""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from tdkt.web.auth import authorize, current_principal
from tdkt.web.commands import command_route
from tdkt.web.pagination import page_of, paginate, paginate_list
from tdkt.web.problems import PROBLEM_JSON, ProblemSchema

from tdkt_reports.adapters.documents import MovementView, Report
from tdkt_reports.entrypoints.api.report_schemas import AcceptSchema, DiffQuery, DiffSchema, DraftSchema, NoBodySchema, ReportQuery, ReportSchema, ReturnSchema
from tdkt_reports.service_layer import listing
from tdkt_reports.service_layer import reports as use_cases

blp = Blueprint("reports", __name__, url_prefix="/reports", description="Báo cáo tiến độ thi đua / Progress reports")


def _etag(doc: Report) -> dict:
    return {"id": doc.id, "version": doc.version}


def _view(doc: Report, titles: dict[str, str | None] | None = None) -> dict:
    """`titles`: the movements' titles already read for this answer (a page is mostly one
    movement: one read for the page, not one per report)."""
    titles = {} if titles is None else titles
    if doc.movement_id not in titles:
        movement = MovementView.objects(id=doc.movement_id).only("title").first()
        titles[doc.movement_id] = movement.title if movement else None
    fields = (
        "id",
        "movement_id",
        "unit_id",
        "original_unit_id",
        "period",
        "kind",
        "opens",
        "due",
        "state",
        "late",
        "draft",
        "versions",
        "reviews",
        "attachments",
        "history",
        "version",
    )
    return {k: getattr(doc, k) for k in fields} | {"movement_title": titles[doc.movement_id]}


_NOT_LISTED = ("outbox", "history", "draft")


def _by_movement(args) -> bool:
    """A wide-sight caller listing one movement, at most by period: what `listing` can order."""
    return "movement_id" in args and not current_principal().unit_filter() and not {"unit_id", "state", "late"} & args.keys()


def _movement_page(args) -> dict | None:
    """The page from the movement's kept order, each report read by `_id`; None if not kept."""
    ordered = listing.ordered(current_app.extensions["tdkt"].db, args["movement_id"])
    if ordered is None:
        return None
    if "period" in args:
        ordered = [entry for entry in ordered if entry[1] == args["period"]]
    page = paginate_list(ordered, args)
    docs = (Report.objects(id=report_id).exclude(*_NOT_LISTED).first() for report_id, _ in page["items"])
    page["items"] = [doc for doc in docs if doc is not None]  # reports are never deleted
    return page


def _conflicts(view):
    return blp.alt_response(409, schema=ProblemSchema, content_type=PROBLEM_JSON, description="Not allowed in the report's state (accepted, submitted, not yet open…)")(view)


@blp.route("")
class Reports(MethodView):
    @authorize(blp)
    @blp.arguments(ReportQuery, location="query")
    @blp.response(200, page_of(ReportSchema))
    def get(self, args):
        """Báo cáo / reports: a unit's own, or all for officers; filter by movement, unit, state, period, late"""
        page = _movement_page(args) if _by_movement(args) else None
        if page is None:
            query = Report.objects(**current_principal().unit_filter()).exclude(*_NOT_LISTED)
            for name in ("movement_id", "unit_id", "state", "period", "late"):
                if name in args:
                    query = query.filter(**{name: args[name]})
            page = paginate(query.order_by("due", "id"), args)
        titles: dict[str, str | None] = {}
        page["items"] = [_view(d, titles) for d in page["items"]]
        return page


@blp.route("/<report_id>")
class ReportById(MethodView):
    @authorize(blp)
    @blp.etag
    @blp.response(200, ReportSchema)
    def get(self, report_id):
        """Một báo cáo, với các phiên bản và ý kiến xét duyệt / one report with its versions and reviews"""
        doc = use_cases.find(report_id, current_principal())
        blp.set_etag(_etag(doc))
        return _view(doc)


@blp.route("/<report_id>/draft")
class Draft(MethodView):
    @authorize(blp, *use_cases.WRITERS)
    @blp.etag
    @blp.arguments(DraftSchema)
    @blp.response(200, ReportSchema)
    @_conflicts
    def put(self, body, report_id):
        """Soạn báo cáo / write the draft: narrative, a value per criterion, self-assessment"""
        doc = use_cases.save_draft(report_id, body, current_principal(), lambda d: blp.check_etag(_etag(d)))
        blp.set_etag(_etag(doc))
        return _view(doc)


def _command(path: str, schema, roles: tuple[str, ...], action, summary: str):
    return command_route(
        blp,
        f"/<report_id>/{path}",
        endpoint=f"report_{path}",
        schema=schema,
        roles=roles,
        response=ReportSchema,
        view=_view,
        etag=_etag,
        action=action,
        summary=summary,
        conflict="Not allowed in the report's state (accepted, submitted, not yet open…)",
    )


_command(
    "submit",
    NoBodySchema,
    use_cases.SUBMITTERS,
    lambda rid, body, check: use_cases.submit(rid, current_principal(), check),
    "Nộp báo cáo / submit the draft as a new version (late if past due)",
)
_command(
    "accept",
    AcceptSchema,
    use_cases.REVIEWERS,
    lambda rid, body, check: use_cases.review(rid, "accepted", body, current_principal(), check),
    "Chấp nhận / accept the submitted version",
)
_command(
    "return",
    ReturnSchema,
    use_cases.REVIEWERS,
    lambda rid, body, check: use_cases.review(rid, "returned", body, current_principal(), check),
    "Trả lại / return with comments per item",
)


@blp.route("/<report_id>/diff")
class Diff(MethodView):
    @authorize(blp)
    @blp.arguments(DiffQuery, location="query")
    @blp.response(200, DiffSchema)
    def get(self, args, report_id):
        """So sánh hai phiên bản / what changed between two versions"""
        return use_cases.version_diff(use_cases.find(report_id, current_principal()), args["from_"], args["to"])


from tdkt_reports.entrypoints.api import attachments  # noqa: E402, F401
