"""Scores, ranks and totals of a movement's rows (`aggregation.base_row`) for one set of weights.
Pure: no I/O.

A table shares the rows that do not depend on the weights (built once per refresh) and keeps,
per unit, only what the weights change, as a tuple of plain values: (score, score against
registered targets, area averages, rank, cluster ranks) — tuples all the way down. Rows are put together for the page
being served. Why: a table for other weights is built per request, and 3,000 new row dicts
holding dicts stay tracked by Python's cycle collector — a few such tables pushed full
collections of the cached inputs (100–200 ms pauses) into one request in ten, while tuples and
dicts of plain values are untracked and cost the collector nothing.

Ranking: by score, ties broken by punctuality, then by name in Vietnamese order; within a
cluster, the members keep their overall order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from tdkt.text import sort_key

WEIGHTED = ("average_score", "average_score_registered", "areas")  # the totals that depend on the weights
MISSING = -1.0  # no score, no period due: after everyone who has one


def _pct(total: float, weight: float) -> float | None:
    return round(100 * total / weight, 2) if weight else None


def area_keys(criteria: list[dict[str, Any]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c.get("area") or "" for c in criteria))


def scorer(criteria: list[dict[str, Any]], weights: dict[str, float]) -> Callable[[dict[str, Any]], tuple]:
    """(score, score against registered targets, area averages in `area_keys` order) of a row;
    the plan is made once per set of weights, so a row costs one loop."""
    keys = area_keys(criteria)
    plan = [(c["key"], weights[c["key"]], keys.index(c.get("area") or ""), c.get("target") is not None or c.get("value_type") == "boolean") for c in criteria]

    def scored(row: dict[str, Any]) -> tuple:
        cells, ratios = row["criteria"], row["ratios"]
        total = weight = own_total = own_weight = 0.0
        areas = [0.0, 0.0] * len(keys)  # weighted sum, weight; per area
        for key, w, area, counted in plan:
            done, done_own = ratios[key]
            if counted:
                total, weight = total + w * (done or 0.0), weight + w
                areas[2 * area] += w * (done or 0.0)
                areas[2 * area + 1] += w
            if cells[key]["registered_target"] is not None:
                own_total, own_weight = own_total + w * (done_own or 0.0), own_weight + w
        return _pct(total, weight), _pct(own_total, own_weight), tuple(_pct(areas[2 * i], areas[2 * i + 1]) for i in range(len(keys)))

    return scored


@dataclass(frozen=True, eq=False)
class Table:
    """The figures of one movement for one set of weights. Published to request threads: never
    changed after it is built (copy-on-write)."""

    movement: dict[str, Any]
    weights: dict[str, float]
    order: tuple[str, ...]  # unit ids in rank order
    base: dict[str, dict[str, Any]]  # unit → its row without the weighted parts (shared between tables)
    scores: dict[str, tuple]  # unit → (score, score_registered, (area averages…), rank, ((cluster id, rank, of), …))
    clusters: dict[str, dict[str, Any]]  # id → {id, name, kind, member_ids}
    totals: dict[str, Any]

    def row(self, unit_id: str, cluster_id: str | None = None) -> dict[str, Any]:
        """The unit's full row (a new dict), with its rank in `cluster_id` if given."""
        score, own, areas, rank, ranks = self.scores[unit_id]
        clusters = [{"id": c, "name": self.clusters[c].get("name"), "kind": self.clusters[c].get("kind"), "rank": r, "of": n} for c, r, n in ranks]
        extra = {"cluster_rank": next((r for c, r, _n in ranks if c == cluster_id), None)} if cluster_id else {}
        by_area = {k: v for k, v in zip(area_keys(self.movement["criteria"]), areas, strict=True) if k}
        return self.base[unit_id] | {"score": score, "score_registered": own, "areas": by_area, "rank": rank, "clusters": clusters} | extra

    def sort_key(self, field: str) -> Callable[[str], Any]:
        if field == "name":
            return lambda u: sort_key(self.base[u]["name"])
        if field == "code":
            return lambda u: self.base[u].get("code") or ""
        if field in ("score", "score_registered", "rank"):
            index = ("score", "score_registered", "areas", "rank").index(field)
            return lambda u: MISSING if self.scores[u][index] is None else self.scores[u][index]
        return lambda u: MISSING if self.base[u].get(field) is None else self.base[u][field]


def rank(movement: dict[str, Any], base: dict[str, dict[str, Any]], clusters: list[dict[str, Any]], weights: dict[str, float], counts: dict[str, Any] | None = None) -> Table:
    """Score, order and rank the rows; `counts` are the totals that do not depend on the weights,
    when known already (another table of the same rows)."""
    score = scorer(movement["criteria"], weights)
    partial = {u: score(r) for u, r in base.items()}

    def order_key(u: str) -> tuple:
        s, punctuality = partial[u][0], base[u]["punctuality"]
        return (-(MISSING if s is None else s), -(MISSING if punctuality is None else punctuality), sort_key(base[u]["name"]), u)

    order = tuple(sorted(base, key=order_key))
    position = {u: i for i, u in enumerate(order, 1)}
    ranks: dict[str, tuple] = {}
    for cluster in sorted(clusters, key=lambda c: sort_key(c.get("name") or "")):
        members = sorted((u for u in cluster.get("member_ids") or () if u in base), key=position.__getitem__)
        for i, u in enumerate(members, 1):
            ranks[u] = (*ranks.get(u, ()), (cluster["id"], i, len(members)))
    scores = {u: (*partial[u], position[u], ranks.get(u, ())) for u in base}
    return Table(movement, weights, order, base, scores, {c["id"]: c for c in clusters}, _totals(movement, [base[u] for u in order], [scores[u] for u in order], counts))


def totals(table: Table, ids: Iterable[str]) -> dict[str, Any]:
    """The totals of some of the table's units (a cluster's members)."""
    ids = list(ids)
    return _totals(table.movement, [table.base[u] for u in ids], [table.scores[u] for u in ids])


def _avg(xs: Iterable[Any]) -> float | None:
    xs = [float(x) for x in xs if x is not None]
    return round(sum(xs) / len(xs), 2) if xs else None


def _totals(movement: dict[str, Any], rows: list[dict[str, Any]], scores: list[tuple], counts: dict[str, Any] | None = None) -> dict[str, Any]:
    keys = area_keys(movement["criteria"])
    weighted = {
        "average_score": _avg(s[0] for s in scores),
        "average_score_registered": _avg(s[1] for s in scores),
        "areas": {a["key"]: _avg(s[2][keys.index(a["key"])] for s in scores) if a["key"] in keys else None for a in movement["content_areas"]},
    }
    return (counts if counts is not None else count_totals(movement, rows)) | weighted


def count_totals(movement: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The totals that do not depend on the weights."""
    per_criterion = {}
    for c in movement["criteria"]:
        cells = [r["criteria"][c["key"]] for r in rows]
        values = [cell["value"] for cell in cells if cell["value"] is not None]
        per_criterion[c["key"]] = {
            "reported": len(values),
            "total_value": round(sum(float(v) for v in values), 2) if values else None,
            "average_value": _avg(values),
            "average_completion": _avg(cell["completion"] for cell in cells),
            "met": sum(1 for cell in cells if cell["met"]),
        }
    return {
        "units": len(rows),
        "reported": sum(1 for r in rows if r["submitted"]),
        "accepted": sum(1 for r in rows if r["accepted"]),
        "late": sum(1 for r in rows if r["late"]),
        "final_accepted": sum(1 for r in rows if r["final_accepted"]),
        "periods_due": sum(r["periods_due"] for r in rows),
        "on_time": sum(r["on_time"] for r in rows),
        "average_punctuality": _avg(r["punctuality"] for r in rows),
        "criteria": per_criterion,
    }
