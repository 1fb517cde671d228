"""A movement's figures per unit: completion of each criterion against the movement's target and
against the unit's own registered target, a weighted score, averages per content area,
punctuality, ranking overall and within each cluster, totals, and a unit's history. Pure: no I/O.

Completion (a ratio; the API shows it as a percentage, rounded to 2 places):
- higher is better: value / target;
- lower is better: target / value (target ≤ 2 incidents, 4 reported → 50 %; 1 reported → 200 %);
- both capped at CAP (150 %): doing better than asked counts, up to half again, so no single
  criterion carries the score — and target / value grows without bound as the value nears 0;
- a target of 0: met (100 %) when the value is 0. Higher-is-better values are never negative,
  so any value meets it; lower-is-better with a value above 0 missed a zero-tolerance target (0 %);
  lower-is-better with value 0 and a target above 0 did better than asked (CAP);
- yes/no criteria: 100 % when the answer is the target (yes, unless the target says no), else 0;
- no target: no completion, and the criterion stays out of the score;
- no accepted value: completion null, counted as 0 in the score (nothing shown, nothing achieved).

The value of a criterion is the latest *accepted* one: the final report's if it was accepted,
else the latest accepted interim report's (by due date).

Score (computed in `ranking.py`, with the ranks and totals): the weighted mean of the capped
completions over the criteria with a target (weights from the movement, overridable per
request); the score against registered targets likewise, over the criteria the unit registered
a target for. Punctuality: periods submitted on time over the periods due so far (deadline
passed, or submitted already — an early report counts, without putting a future period in the
denominator of those who have not reported yet).
Ranking: by score, ties broken by punctuality, then by name in Vietnamese order.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from tdkt.errors import Invalid

CAP = 1.5
SUBMITTED = ("submitted", "accepted", "returned")  # what Progress knows: states reached by submitting


def summary(view: dict[str, Any], organiser_name: str | None = None) -> dict[str, Any]:
    """What the figures need of a movement view, JSON-shaped (it is cached and snapshotted)."""
    return {
        "id": view.get("_id") or view.get("id"),
        "title": view.get("title"),
        "organiser_id": view.get("organiser_id"),
        "organiser_name": organiser_name,
        "period_start": view.get("period_start"),
        "period_end": view.get("period_end"),
        "content_areas": [{"key": a["key"], "title": a.get("title") or a["key"]} for a in view.get("content_areas") or ()],
        "criteria": [dict(c) for c in view.get("criteria") or ()],
        "schedule": {d["period"]: [d["due"], d["kind"]] for d in view.get("due_dates") or ()},
        "participant_ids": list(view.get("participant_ids") or ()),
    }


def completion(value: Any, target: Any, direction: str = "higher_is_better", value_type: str = "number") -> float | None:
    if value is None:
        return None
    if value_type == "boolean" or isinstance(value, bool):
        wanted = (direction != "lower_is_better") if target is None else bool(target)
        return 1.0 if bool(value) == wanted else 0.0
    if target is None:
        return None
    value, target = float(value), float(target)
    if direction == "lower_is_better":
        if value <= 0:
            return 1.0 if target <= 0 else CAP
        return 0.0 if target <= 0 else min(CAP, target / value)
    return 1.0 if target <= 0 else min(CAP, value / target)


def facts_of(periods: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What the figures need from a unit's Progress: the latest accepted value per criterion and
    each period's state and lateness (small enough to keep thousands of units in memory)."""
    accepted = sorted((e for e in periods.values() if e.get("state") == "accepted"), key=lambda e: (e.get("kind") == "final", e.get("due") or ""))
    values: dict[str, Any] = {}
    for entry in reversed(accepted):
        for key, item in (entry.get("values") or {}).items():
            if key not in values and isinstance(item, dict):
                values[key] = item.get("value")
    return {"values": values, "periods": {key: [e.get("state"), bool(e.get("late"))] for key, e in periods.items()}}


def parse_weights(text: str | None, criteria: list[dict[str, Any]]) -> dict[str, float]:
    """The movement's weights, with `key:2,key2:1` overriding some of them."""
    weights = {c["key"]: float(1 if c.get("weight") is None else c["weight"]) for c in criteria}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        key, _, number = part.partition(":")
        if key not in weights:
            raise Invalid("weights", f"Phong trào không có tiêu chí {key!r} / the movement has no criterion {key!r}", location="query")
        try:
            weights[key] = float(number)
        except ValueError:
            raise Invalid("weights", f"Trọng số phải là số: {part!r} / a weight is a number, as in key:2", location="query") from None
        if not 0 <= weights[key] <= 1000:
            raise Invalid("weights", "Trọng số từ 0 đến 1000 / a weight is between 0 and 1000", location="query")
    if not any(weights.values()):
        raise Invalid("weights", "Cần ít nhất một trọng số khác 0 / at least one weight must be above 0", location="query")
    return weights


def _pct(ratio: float | None) -> float | None:
    return None if ratio is None else round(ratio * 100, 2)


def base_row(movement: dict[str, Any], today: date, unit: dict[str, Any], facts: dict[str, Any], targets: dict[str, Any]) -> dict[str, Any]:
    """A unit's row without the weighted parts: completions, counts, punctuality."""
    values, periods = facts.get("values") or {}, facts.get("periods") or {}
    cells, ratios = {}, {}
    for c in movement["criteria"]:
        value, own = values.get(c["key"]), targets.get(c["key"])
        kind, direction = c.get("value_type", "number"), c.get("direction", "higher_is_better")
        done, done_own = completion(value, c.get("target"), direction, kind), completion(value, own, direction, kind) if own is not None else None
        cells[c["key"]] = {
            "value": value,
            "target": c.get("target"),
            "registered_target": own,
            "completion": _pct(done),
            "completion_registered": _pct(done_own),
            "met": done is not None and done >= 1,
        }
        ratios[c["key"]] = (done, done_own)  # unrounded, for the scores
    today_iso = today.isoformat()
    counted = [k for k, (due, _kind) in movement["schedule"].items() if due < today_iso or (periods.get(k) or [None])[0] in SUBMITTED]
    on_time = sum(1 for k in counted if k in periods and periods[k][0] in SUBMITTED and not periods[k][1])
    states = [s for s, _late in periods.values()]
    return {
        "unit_id": unit["id"],
        "name": unit.get("name") or unit["id"],
        "code": unit.get("code"),
        "criteria": cells,
        "ratios": ratios,
        "periods_due": len(counted),
        "on_time": on_time,
        "punctuality": _pct(on_time / len(counted)) if counted else None,
        "submitted": sum(1 for s in states if s in SUBMITTED),
        "accepted": states.count("accepted"),
        "returned": states.count("returned"),
        "late": sum(1 for _s, late in periods.values() if late),
        "final_accepted": any((periods.get(k) or [None])[0] == "accepted" for k, (_due, kind) in movement["schedule"].items() if kind == "final"),
    }


def history(movement: dict[str, Any], periods: dict[str, dict[str, Any]], today: date) -> list[dict[str, Any]]:
    """A unit's periods in due order: state (`not_submitted` when nothing reached the reviewer),
    lateness, the version last submitted and its values."""
    scheduled = {k: (due, kind) for k, (due, kind) in movement["schedule"].items()}  # a copy: the movement is shared
    for key, entry in periods.items():
        scheduled.setdefault(key, (entry.get("due") or "", entry.get("kind") or "interim"))  # dropped from the schedule since
    out = []
    for key, (due, kind) in sorted(scheduled.items(), key=lambda kv: (kv[1][0], kv[0])):
        entry = periods.get(key) or {}
        state = entry.get("state") or "not_submitted"
        out.append(
            {
                "period": key,
                "kind": kind,
                "due": due,
                "state": state,
                "late": bool(entry.get("late")),
                "overdue": state == "not_submitted" and due < today.isoformat(),
                "version": entry.get("version"),
                "values": {k: v.get("value") for k, v in (entry.get("values") or {}).items() if isinstance(v, dict)},
            }
        )
    return out
