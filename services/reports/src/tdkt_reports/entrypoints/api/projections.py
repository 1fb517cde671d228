"""/api/v1/projections — how far this service's copies of the registry have caught up.

Reads here are eventually consistent: a movement launched a moment ago may not have its periods
yet. This endpoint says how fresh each copy is and how far behind the consumer is, so a portal
can tell "not yet" from "not there".
"""

from __future__ import annotations

from datetime import UTC, datetime

import marshmallow as ma
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from tdkt.web.auth import authorize

blp = Blueprint("projections", __name__, url_prefix="/projections", description="Trạng thái dữ liệu sao chép / Projection status")
COPIES = {"units": "unit_views", "movements": "movement_views", "registrations": "registration_views", "clusters": "cluster_views"}


class ProjectionSchema(ma.Schema):
    name = ma.fields.String()
    documents = ma.fields.Integer()
    events_applied = ma.fields.Integer()
    last_event_time = ma.fields.String(allow_none=True)
    updated_at = ma.fields.String(allow_none=True)


class ConsumerStatusSchema(ma.Schema):
    group = ma.fields.String()
    total_lag = ma.fields.Integer(allow_none=True)
    heartbeat_age_s = ma.fields.Float(allow_none=True)


class StatusSchema(ma.Schema):
    projections = ma.fields.List(ma.fields.Nested(ProjectionSchema))
    consumers = ma.fields.List(ma.fields.Nested(ConsumerStatusSchema))
    behind = ma.fields.Boolean(metadata={"description": "true while a consumer has events waiting"})


@blp.route("")
class Status(MethodView):
    @authorize(blp)
    @blp.response(200, StatusSchema)
    def get(self):
        """Độ trễ của dữ liệu sao chép / how far behind the copies of the registry are"""
        db = current_app.extensions["tdkt"].db
        meta = {m["_id"]: m for m in db.projection_meta.find({})}
        projections = [
            {
                "name": name,
                "documents": db[collection].estimated_document_count(),
                "events_applied": meta.get(name, {}).get("events", 0),
                "last_event_time": meta.get(name, {}).get("last_event_time"),
                "updated_at": meta.get(name, {}).get("updated_at"),
            }
            for name, collection in COPIES.items()
        ]
        now = datetime.now(UTC)
        consumers = []
        for status in db.pipeline_status.find({"kind": "consumer"}):
            beat = status.get("heartbeat_at")
            beat = beat if beat is None or beat.tzinfo else beat.replace(tzinfo=UTC)
            consumers.append({"group": status.get("group"), "total_lag": status.get("total_lag"), "heartbeat_age_s": round((now - beat).total_seconds(), 1) if beat else None})
        return {"projections": projections, "consumers": consumers, "behind": any((c["total_lag"] or 0) > 0 for c in consumers)}
