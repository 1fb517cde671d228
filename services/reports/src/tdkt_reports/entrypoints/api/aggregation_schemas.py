"""What the aggregation API accepts and returns. Percentages are numbers from 0 to 150 (completion is
capped at 150 %: see `domain/aggregation.py`), rounded to 2 places; null when not applicable."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate as v
from tdkt.web.pagination import PageArgs

from tdkt_reports.service_layer.aggregation import SORTS

WEIGHTS = {"description": "Trọng số thay cho của phong trào / weights overriding the movement's, e.g. `giai-ngan:2,ocop:1` (others keep theirs)"}


class ExportQuery(ma.Schema):
    cluster_id = ma.fields.String(validate=v.Length(max=64), metadata={"description": "only this cluster's (or block's) members, ranked within it"})
    weights = ma.fields.String(validate=v.Length(max=2000), metadata=WEIGHTS)


class AggregationQuery(PageArgs, ExportQuery):
    sort = ma.fields.String(
        load_default="rank",
        validate=v.OneOf([*SORTS, *(f"-{s}" for s in SORTS)]),
        metadata={"description": "rank (within the cluster when `cluster_id` is given), score, name, punctuality or code; `-` first for descending"},
    )


class CellSchema(ma.Schema):
    value = ma.fields.Raw(allow_none=True, metadata={"description": "the latest accepted value (the final report's if accepted)"})
    target = ma.fields.Raw(allow_none=True, metadata={"description": "the movement's target"})
    registered_target = ma.fields.Raw(allow_none=True, metadata={"description": "the target the unit registered"})
    completion = ma.fields.Float(allow_none=True, metadata={"description": "% of the movement's target (direction-aware, capped at 150)"})
    completion_registered = ma.fields.Float(allow_none=True, metadata={"description": "% of the unit's registered target"})
    met = ma.fields.Boolean()


class ClusterSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String(allow_none=True)
    kind = ma.fields.String(allow_none=True, metadata={"description": "cluster (cụm) | block (khối)"})


class ClusterRankSchema(ClusterSchema):
    rank = ma.fields.Integer()
    of = ma.fields.Integer()


class RowSchema(ma.Schema):
    unit_id = ma.fields.String()
    name = ma.fields.String()
    code = ma.fields.String(allow_none=True)
    rank = ma.fields.Integer(metadata={"description": "among all participants"})
    cluster_rank = ma.fields.Integer(allow_none=True, metadata={"description": "within the cluster asked for"})
    clusters = ma.fields.List(ma.fields.Nested(ClusterRankSchema))
    score = ma.fields.Float(allow_none=True, metadata={"description": "weighted mean completion against the movement's targets, %"})
    score_registered = ma.fields.Float(allow_none=True, metadata={"description": "the same against the unit's registered targets, %"})
    areas = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Float(allow_none=True), metadata={"description": "weighted mean completion per content area, %"})
    criteria = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(CellSchema))
    punctuality = ma.fields.Float(allow_none=True, metadata={"description": "% of the periods due so far submitted on time"})
    periods_due = ma.fields.Integer()
    on_time = ma.fields.Integer()
    submitted = ma.fields.Integer()
    accepted = ma.fields.Integer()
    returned = ma.fields.Integer()
    late = ma.fields.Integer(metadata={"description": "periods submitted late"})
    final_accepted = ma.fields.Boolean()


class CriterionTotalsSchema(ma.Schema):
    reported = ma.fields.Integer()
    total_value = ma.fields.Float(allow_none=True)
    average_value = ma.fields.Float(allow_none=True)
    average_completion = ma.fields.Float(allow_none=True)
    met = ma.fields.Integer()


class TotalsSchema(ma.Schema):
    units = ma.fields.Integer()
    reported = ma.fields.Integer(metadata={"description": "units that submitted at least one report"})
    accepted = ma.fields.Integer(metadata={"description": "units with at least one accepted report"})
    late = ma.fields.Integer(metadata={"description": "units with at least one late report"})
    final_accepted = ma.fields.Integer()
    periods_due = ma.fields.Integer()
    on_time = ma.fields.Integer()
    average_score = ma.fields.Float(allow_none=True)
    average_score_registered = ma.fields.Float(allow_none=True)
    average_punctuality = ma.fields.Float(allow_none=True)
    criteria = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(CriterionTotalsSchema))
    areas = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Float(allow_none=True))


class MovementInfoSchema(ma.Schema):
    id = ma.fields.String()
    title = ma.fields.String(allow_none=True)
    organiser_name = ma.fields.String(allow_none=True)
    period_start = ma.fields.String(allow_none=True)
    period_end = ma.fields.String(allow_none=True)
    content_areas = ma.fields.List(ma.fields.Dict())
    criteria = ma.fields.List(ma.fields.Dict())


class AggregationSchema(ma.Schema):
    movement = ma.fields.Nested(MovementInfoSchema)
    computed_at = ma.fields.String(metadata={"description": "when these figures were computed (UTC)"})
    stale = ma.fields.Boolean(metadata={"description": "newer reports exist; fresher figures are being computed"})
    weights = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Float())
    cluster = ma.fields.Nested(ClusterSchema, allow_none=True)
    totals = ma.fields.Nested(TotalsSchema, metadata={"description": "of every participant, or of the cluster's members"})
    items = ma.fields.List(ma.fields.Nested(RowSchema))
    page = ma.fields.Integer()
    per_page = ma.fields.Integer()
    total = ma.fields.Integer()
    pages = ma.fields.Integer()


class PeriodSchema(ma.Schema):
    period = ma.fields.String()
    kind = ma.fields.String()
    due = ma.fields.String()
    state = ma.fields.String(metadata={"description": "submitted, accepted, returned, or not_submitted"})
    late = ma.fields.Boolean()
    overdue = ma.fields.Boolean(metadata={"description": "not submitted and past due"})
    version = ma.fields.Integer(allow_none=True)
    values = ma.fields.Dict()


class HistorySchema(ma.Schema):
    movement_id = ma.fields.String()
    unit_id = ma.fields.String()
    name = ma.fields.String(allow_none=True)
    code = ma.fields.String(allow_none=True)
    periods = ma.fields.List(ma.fields.Nested(PeriodSchema))
