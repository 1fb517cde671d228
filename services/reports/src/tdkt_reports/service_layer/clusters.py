"""Clusters (cụm thi đua) and blocks (khối thi đua), copied from the registry's events for ranking
units within them. Kept with `tdkt.events.copies`, as every projection.

Every applied event also moves `projection_meta["clusters"].events` on: the aggregation cache
reads that counter to know its clusters are out of date.
"""

from __future__ import annotations

from tdkt.events.consumer import HandlerContext, Subscription
from tdkt.events.copies import Stale, apply_copy, mark_applied
from tdkt.events.envelope import Event

CLUSTERS_TOPIC = "registry.clusters.v1"
CLUSTER_TYPES = [f"vn.tdkt.registry.cluster.{n}.v1" for n in ("registered", "updated")]
COLLECTION = "cluster_views"


def on_cluster(event: Event, ctx: HandlerContext) -> None:
    cluster = ctx.data["cluster"]
    fields = {"name": cluster.get("name"), "kind": cluster.get("kind"), "member_ids": list(cluster.get("member_ids") or ())}
    try:
        apply_copy(ctx.db, COLLECTION, event.subject, event.sequence or 0, fields)
    except Stale:
        return
    mark_applied(ctx.db, "clusters", event)


def subscriptions() -> list[Subscription]:
    return [Subscription(t, CLUSTERS_TOPIC, on_cluster) for t in CLUSTER_TYPES]
