"""Use cases on clusters and blocks: create, replace, set a year's term.

Each is one atomic write of the cluster's document with its event in the outbox. Every event
carries the cluster's full state: the topic is compacted, keyed by cluster id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tdkt.clock import local_today
from tdkt.errors import Conflict, NotFound
from tdkt.events.outbox import ConcurrentUpdate, save_aggregate
from tdkt.text import fold

from tdkt_registry.adapters.documents import ClusterDocument
from tdkt_registry.adapters.events import CLUSTER_EVENTS
from tdkt_registry.adapters.unit_store import UnitStore
from tdkt_registry.domain import clusters as rules
from tdkt_registry.domain.clusters import Cluster, Term
from tdkt_registry.service_layer.units import new_id


def to_cluster(doc: ClusterDocument) -> Cluster:
    return Cluster.from_dict({"id": doc.id, "name": doc.name, "kind": doc.kind, "description": doc.description, "member_ids": doc.member_ids, "terms": doc.terms})


def load(cluster_id: str) -> tuple[ClusterDocument, Cluster]:
    doc = ClusterDocument.objects(id=cluster_id).exclude("outbox").first()
    if doc is None:
        raise NotFound(f"Không có cụm/khối {cluster_id} / no cluster {cluster_id}")
    return doc, to_cluster(doc)


def _save(doc: ClusterDocument, cluster: Cluster, event: str) -> ClusterDocument:
    state = cluster.to_dict()
    doc.name, doc.name_folded, doc.kind, doc.description = cluster.name, fold(cluster.name), cluster.kind, cluster.description
    doc.member_ids, doc.terms = state["member_ids"], state["terms"]
    doc.record(CLUSTER_EVENTS[event], {"cluster": state})
    try:
        save_aggregate(doc)
    except ConcurrentUpdate:
        raise Conflict("Cụm/khối vừa được người khác sửa, tải lại rồi thử lại / the cluster changed meanwhile: reload and retry") from None
    return doc


def create_cluster(store: UnitStore, data: dict[str, Any], cluster_id: str | None = None) -> ClusterDocument:
    cluster = Cluster.from_dict({**data, "id": cluster_id or new_id()})
    rules.new(cluster, store.directory(), local_today())
    return _save(ClusterDocument(id=cluster.id), cluster, "registered")


def replace_cluster(store: UnitStore, cluster_id: str, data: dict[str, Any], check_version: Callable[[ClusterDocument], None]) -> ClusterDocument:
    doc, current = load(cluster_id)
    check_version(doc)
    cluster = rules.revise(current, data["name"], data.get("description"), data["member_ids"], store.directory(), local_today())
    return doc if cluster == current else _save(doc, cluster, "updated")


def set_term(store: UnitStore, cluster_id: str, year: int, data: dict[str, Any], check_version: Callable[[ClusterDocument], None]) -> ClusterDocument:
    doc, current = load(cluster_id)
    check_version(doc)
    term = Term.from_dict({**data, "year": year})
    cluster = rules.set_term(current, term, store.directory(), local_today())
    return doc if cluster == current else _save(doc, cluster, "updated")
