"""/api/v1/movements/<id>/… — a movement's figures: per unit and criterion completion, score, rank
overall and within clusters, punctuality, totals; a unit's history; Excel and CSV exports.

Officers and other wide-sight roles see every unit; a unit sees the totals and its own row.
Figures are served from memory and may lag the latest reports by a refresh (`stale`,
`computed_at`); exports wait for fresh figures.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from tdkt.clock import TIMEZONE
from tdkt.text import fold
from tdkt.web.auth import authorize, current_principal
from tdkt.web.pagination import paginate_list

from tdkt_reports.adapters import exports
from tdkt_reports.entrypoints.api.aggregation_schemas import AggregationQuery, AggregationSchema, ExportQuery, HistorySchema
from tdkt_reports.service_layer import aggregation as use_cases

blp = Blueprint("aggregation", __name__, url_prefix="/movements", description="Tổng hợp kết quả thi đua / Movement figures and exports")
EXPORTERS = ("tdkt_officer", "admin")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BINARY = {"type": "string", "format": "binary"}


def _db():
    return current_app.extensions["tdkt"].db


@blp.route("/<movement_id>/aggregation")
class Aggregation(MethodView):
    @authorize(blp)
    @blp.arguments(AggregationQuery, location="query")
    @blp.response(200, AggregationSchema)
    def get(self, args, movement_id):
        """Tổng hợp kết quả / each unit's completion per criterion and area, score, rank (overall and in its clusters), punctuality; totals"""
        current = use_cases.view(_db(), movement_id, args.get("weights"))
        ids, totals, cluster = use_cases.selection(current, current_principal(), args.get("cluster_id"), args["sort"])
        page = paginate_list(ids, args)
        page["items"] = [current.table.row(u, args.get("cluster_id")) for u in page["items"]]
        return page | {
            "movement": current.table.movement,
            "computed_at": current.computed_at.isoformat(timespec="seconds"),
            "stale": current.stale,
            "weights": current.table.weights,
            "cluster": cluster,
            "totals": totals,
        }


@blp.route("/<movement_id>/units/<unit_id>/history")
class History(MethodView):
    @authorize(blp)
    @blp.response(200, HistorySchema)
    def get(self, movement_id, unit_id):
        """Lịch sử báo cáo của đơn vị / a unit's periods: state, lateness and values of each"""
        return use_cases.unit_history(_db(), movement_id, unit_id, current_principal())


def _export(movement_id: str, args: dict, render, suffix: str, mimetype: str) -> Response:
    current = use_cases.view(_db(), movement_id, args.get("weights"), fresh=True)
    ids, totals, cluster = use_cases.selection(current, current_principal(), args.get("cluster_id"))
    as_of = current.computed_at.astimezone(TIMEZONE).date()
    data = render(exports.Sheet(current.table.movement, [current.table.row(u, args.get("cluster_id")) for u in ids], totals, as_of, cluster))
    name = f"tong-hop-{re.sub(r'[^a-z0-9]+', '-', fold(current.table.movement.get('title') or movement_id))[:60].strip('-')}-{as_of:%Y%m%d}.{suffix}"
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blp.route("/<movement_id>/export.xlsx")
class ExportXlsx(MethodView):
    @authorize(blp, *EXPORTERS)
    @blp.arguments(ExportQuery, location="query")
    @blp.doc(responses={"200": {"description": "The workbook: title block, one row per unit, totals, signature block", "content": {XLSX: {"schema": BINARY}}}})
    def get(self, args, movement_id):
        """Xuất Excel / the figures as the signed summary table (bảng tổng hợp), A4 landscape"""
        return _export(movement_id, args, exports.to_xlsx, "xlsx", XLSX)


@blp.route("/<movement_id>/export.csv")
class ExportCsv(MethodView):
    @authorize(blp, *EXPORTERS)
    @blp.arguments(ExportQuery, location="query")
    @blp.doc(responses={"200": {"description": "UTF-8 with a BOM, one header row, one row per unit", "content": {"text/csv": {"schema": BINARY}}}})
    def get(self, args, movement_id):
        """Xuất CSV / the figures as CSV, one row per unit"""
        return _export(movement_id, args, exports.to_csv, "csv", "text/csv; charset=utf-8")
