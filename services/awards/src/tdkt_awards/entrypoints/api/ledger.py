"""/api/v1/ledger… — the bonus ledger (sổ theo dõi tiền thưởng) for the finance office: every
amount awarded by an issued decision and every amount to recover by a revocation, in whole đồng;
totals per decision, movement, unit or year; the same as an Excel workbook.

The ledger is kept by the consumer from the decision events (`service_layer/ledger.py`), so it
may lag an issue or a revocation by the consumer's delay.
"""

from __future__ import annotations

from urllib.parse import quote

import marshmallow as ma
from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate as v
from tdkt.clock import local_today
from tdkt.web.auth import authorize
from tdkt.web.pagination import PageArgs, page_of, paginate_list

from tdkt_awards.adapters.ledger_xlsx import render_ledger
from tdkt_awards.service_layer import ledger as use_cases

blp = Blueprint("ledger", __name__, url_prefix="", description="Sổ theo dõi tiền thưởng / The bonus ledger")
READERS = ("finance_officer", "tdkt_officer", "admin", "chairman")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Query strings usually drop unknown arguments; here a misspelt filter (`yaer=2026`) would give
# every year's money as if filtered, so an unknown argument is a 422 naming it.
STRICT = {"location": "query", "unknown": ma.RAISE}


class LedgerFilter(ma.Schema):
    year = ma.fields.Integer(validate=v.Range(min=1945, max=2200), metadata={"description": "năm của quyết định / the decision's year"})
    unit_id = ma.fields.String(validate=v.Length(min=1, max=64))
    movement_id = ma.fields.String(validate=v.Length(min=1, max=100))
    decision_id = ma.fields.String(validate=v.Length(min=1, max=64))


class EntryQuery(PageArgs, LedgerFilter):
    pass


class TotalsQuery(LedgerFilter):
    group_by = ma.fields.String(load_default="decision", validate=v.OneOf(use_cases.GROUPINGS), metadata={"description": "decision | movement | unit | year"})


class EntrySchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "issue:3f2a…:9b1c…", "description": "issue:{decision_id}:{awardee_id} or revoke:{revocation_id}:{awardee_id}"})
    kind = ma.fields.String(metadata={"description": "issue (+amount) | revoke (−amount)"})
    decision_id = ma.fields.String()
    number = ma.fields.Integer()
    reference = ma.fields.String(metadata={"example": "12/QĐ-UBND"})
    issuer = ma.fields.String()
    decision_date = ma.fields.String()
    year = ma.fields.Integer()
    movement_id = ma.fields.String(allow_none=True)
    awardee_id = ma.fields.String()
    unit_id = ma.fields.String(allow_none=True)
    unit_name = ma.fields.String(allow_none=True)
    name = ma.fields.String()
    subject = ma.fields.String()
    title_code = ma.fields.String()
    title_name = ma.fields.String(allow_none=True)
    amount = ma.fields.Integer(metadata={"description": "đồng; negative for a revocation"})
    revocation_id = ma.fields.String(allow_none=True)
    recorded_at = ma.fields.String(allow_none=True, metadata={"description": "when issued, or when revoked"})


class TotalsRowSchema(ma.Schema):
    key = ma.fields.String(allow_none=True, metadata={"description": "the decision id, movement id, unit id (or name) or year; null: none named"})
    label = ma.fields.String()
    awarded = ma.fields.Integer(metadata={"description": "đồng"})
    recovered = ma.fields.Integer(metadata={"description": "đồng, to recover by revocations"})
    net = ma.fields.Integer(metadata={"description": "awarded − recovered, đồng"})
    awardees = ma.fields.Integer(metadata={"description": "awards issued (revoked ones included)"})


class OverallSchema(ma.Schema):
    awarded = ma.fields.Integer()
    recovered = ma.fields.Integer()
    net = ma.fields.Integer()
    awardees = ma.fields.Integer()


class TotalsSchema(ma.Schema):
    group_by = ma.fields.String()
    rows = ma.fields.List(ma.fields.Nested(TotalsRowSchema))
    overall = ma.fields.Nested(OverallSchema)


def _db():
    return current_app.extensions["tdkt"].db


@blp.route("/ledger/entries")
class Entries(MethodView):
    @authorize(blp, *READERS)
    @blp.arguments(EntryQuery, **STRICT)
    @blp.response(200, page_of(EntrySchema))
    def get(self, args):
        """Bút toán / the ledger's entries, by decision date and number"""
        page = paginate_list(use_cases.entries(_db(), args), args)
        page["items"] = [use_cases.view(e) for e in page["items"]]
        return page


@blp.route("/ledger/totals")
class Totals(MethodView):
    @authorize(blp, *READERS)
    @blp.arguments(TotalsQuery, **STRICT)
    @blp.response(200, TotalsSchema)
    def get(self, args):
        """Tổng hợp / awarded, recovered and net per decision, movement, unit or year"""
        rows = use_cases.totals(use_cases.entries(_db(), args), args["group_by"])
        return {"group_by": args["group_by"], "rows": rows, "overall": use_cases.overall(rows)}


@blp.route("/ledger.xlsx")
class LedgerWorkbook(MethodView):
    @authorize(blp, *READERS)
    @blp.arguments(LedgerFilter, **STRICT)
    @blp.doc(
        responses={
            "200": {
                "description": "One sheet of totals per decision, movement, unit and year; one of every entry",
                "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    )
    def get(self, args):
        """Xuất Excel / the ledger as a workbook (amounts as whole đồng)"""
        found = use_cases.entries(_db(), args)
        today = local_today()
        data = render_ledger(found, {g: use_cases.totals(found, g) for g in use_cases.GROUPINGS}, args, today)
        name = f"so-tien-thuong-{args['year'] if args.get('year') else 'tat-ca'}-{today:%Y%m%d}.xlsx"
        response = Response(data, mimetype=XLSX)
        response.headers["Content-Disposition"] = f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"
        response.headers["Cache-Control"] = "private, no-store"
        return response
