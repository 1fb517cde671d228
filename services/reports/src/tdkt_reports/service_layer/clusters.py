"""Clusters (cụm thi đua) and blocks (khối thi đua), copied from the registry's events for ranking
units within them. The same pattern as `projections.py`: each copy keeps the `sequence` of the
last event applied and ignores anything older or equal, so re-deliveries and replays are no-ops.

Every applied event also moves `projection_meta["clusters"].events` on: the aggregation cache
reads that counter to know its clusters are out of date.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pymongo.errors import DuplicateKeyError
from tdkt.events.consumer import HandlerContext, Subscription
from tdkt.events.envelope import Event

CLUSTERS_TOPIC = "registry.clusters.v1"
CLUSTER_TYPES = [f"vn.tdkt.registry.cluster.{n}.v1" for n in ("registered", "updated")]
COLLECTION, META = "cluster_views", "projection_meta"


def on_cluster(event: Event, ctx: HandlerContext) -> None:
    cluster = ctx.data["cluster"]
    sequence = event.sequence or 0
    fields = {"name": cluster.get("name"), "kind": cluster.get("kind"), "member_ids": list(cluster.get("member_ids") or ())}
    previous = ctx.db[COLLECTION].find_one({"_id": event.subject}, {"seq": 1})
    if previous is not None and previous.get("seq", 0) >= sequence:
        return  # already applied (a re-delivery, a replay)
    try:
        if previous is None:
            ctx.db[COLLECTION].insert_one({"_id": event.subject, "seq": sequence, **fields})
        elif ctx.db[COLLECTION].update_one({"_id": event.subject, "seq": previous.get("seq", 0)}, {"$set": {"seq": sequence, **fields}}).matched_count == 0:
            return  # another copy of this consumer applied something newer meanwhile
    except DuplicateKeyError:
        return
    ctx.db[META].update_one(
        {"_id": "clusters"},
        {"$set": {"last_event_time": event.time.isoformat(), "last_event_id": event.id, "updated_at": datetime.now(UTC).isoformat()}, "$inc": {"events": 1}},
        upsert=True,
    )


def subscriptions() -> list[Subscription]:
    return [Subscription(t, CLUSTERS_TOPIC, on_cluster) for t in CLUSTER_TYPES]
