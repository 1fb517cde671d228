"""The bonus ledger (sổ theo dõi tiền thưởng) of the finance office, kept from this service's own
decision events: one entry per awardee of an issued decision (+amount) and one per awardee taken
back by a revocation (−amount), in whole đồng.

Going through the topic instead of writing the entries beside the decision keeps issuing a single
write (the decision with its event) and lets the ledger be rebuilt by replaying the topic. Entry
ids are deterministic (`issue:{decision_id}:{awardee_id}`, `revoke:{revocation_id}:{awardee_id}`)
and entries are only ever inserted, so a re-delivered or replayed event is a no-op.

A revocation's payload names only the awardees' id, name, unit, title and amount: the rest
(reference, date, movement, subject…) is copied from the awardee's issue entry. Both events are
keyed by the decision id, so they are in one partition and the issue always comes first.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import date
from typing import Any

from pymongo.database import Database
from pymongo.errors import BulkWriteError
from tdkt.events.consumer import HandlerContext, Subscription
from tdkt.events.copies import mark_applied
from tdkt.events.envelope import Event
from tdkt.exports import dmy
from tdkt.text import sort_key

from tdkt_awards.adapters.events import AWARD_REVOKED, DECISION_ISSUED, DECISIONS_TOPIC

LEDGER, LEDGER_META = "ledger_entries", "ledger_meta"
GROUPINGS = ("decision", "movement", "unit", "year")
FILTERS = ("year", "unit_id", "movement_id", "decision_id")
DUPLICATE_KEY = 11000


class IssueNotInLedger(LookupError):
    """A revocation arrived before its decision's issue entry (that event was dead-lettered):
    the revocation is retried, then dead-lettered too, and re-driven once the issue is in."""


# ---------------------------------------------------------------- writing (the consumer)


def _insert(db: Database, entries: list[dict[str, Any]]) -> int:
    """Insert the entries that are not there yet; an entry already there is this very event
    handled before (same deterministic id), never a different fact, so it is left as it is."""
    if not entries:
        return 0
    try:
        inserted = len(db[LEDGER].insert_many(entries, ordered=False).inserted_ids)
    except BulkWriteError as exc:
        others = [e for e in exc.details["writeErrors"] if e.get("code") != DUPLICATE_KEY]
        if others:
            raise RuntimeError(f"writing ledger entries failed: {others[0].get('errmsg')}") from None
        inserted = exc.details.get("nInserted", 0)
    # after the insert, also when nothing was new (a retry after a crash between the two writes)
    db[LEDGER_META].update_one({"_id": "entries"}, {"$inc": {"generation": 1}}, upsert=True)
    return inserted


def _unit_name(awardee: dict[str, Any]) -> str | None:
    # A collective is its own unit: its name is the unit's when no unit is named beside it.
    return awardee.get("unit_name") or (awardee.get("name") if awardee.get("subject") == "collective" else None)


def issue_entry(decision: dict[str, Any], awardee: dict[str, Any]) -> dict[str, Any]:
    return {
        "_id": f"issue:{decision['id']}:{awardee['awardee_id']}",
        "kind": "issue",
        "decision_id": decision["id"],
        "number": decision["number"],
        "reference": decision.get("reference") or f"{decision['number']}/{decision['symbol']}",
        "issuer": decision["issuer"],
        "decision_date": decision["decision_date"],
        "year": date.fromisoformat(decision["decision_date"]).year,
        "movement_id": decision.get("movement_id"),
        "awardee_id": awardee["awardee_id"],
        "unit_id": awardee.get("unit_id"),
        "unit_name": _unit_name(awardee),
        "name": awardee["name"],
        "subject": awardee["subject"],
        "title_code": awardee["title_code"],
        "title_name": awardee.get("title_name"),
        "amount": int(awardee["amount"]),
        "revocation_id": None,
        "recorded_at": decision.get("issued_at"),
    }


def on_decision_issued(event: Event, ctx: HandlerContext) -> None:
    decision = ctx.data["decision"]
    _insert(ctx.db, [issue_entry(decision, a) for a in decision["awardees"]])
    mark_applied(ctx.db, "ledger", event)


def revoke_entry(issued: dict[str, Any], revocation: dict[str, Any], awardee: dict[str, Any]) -> dict[str, Any]:
    # `year` stays the decision's: a year's net is then what its decisions finally paid. When the
    # money came back is `recorded_at` (the revocation's time).
    return issued | {
        "_id": f"revoke:{revocation['id']}:{awardee['awardee_id']}",
        "kind": "revoke",
        "amount": -int(awardee["amount"]),
        "revocation_id": revocation["id"],
        "recorded_at": revocation.get("at"),
    }


def on_award_revoked(event: Event, ctx: HandlerContext) -> None:
    data, revocation = ctx.data, ctx.data["revocation"]
    ids = [f"issue:{data['decision_id']}:{a['awardee_id']}" for a in data["awardees"]]
    issued = {e["_id"]: e for e in ctx.db[LEDGER].find({"_id": {"$in": ids}})}
    missing = [i for i in ids if i not in issued]
    if missing:
        raise IssueNotInLedger(f"Chưa có bút toán khen thưởng {missing[0]} trong sổ / the issue entry {missing[0]} is not in the ledger yet")
    _insert(ctx.db, [revoke_entry(issued[i], revocation, a) for i, a in zip(ids, data["awardees"], strict=True)])
    mark_applied(ctx.db, "ledger", event)


def subscriptions() -> list[Subscription]:
    return [Subscription(DECISION_ISSUED.type, DECISIONS_TOPIC, on_decision_issued), Subscription(AWARD_REVOKED.type, DECISIONS_TOPIC, on_award_revoked)]


# ---------------------------------------------------------------- reading (the API, the workbook)


def entries(db: Database, filters: dict[str, Any]) -> list[dict[str, Any]]:
    """The entries matching the filters, in the order of the paper ledger: by decision date and
    reference, each decision's issues before its revocations, then by name.

    FerretDB (the dev store) uses an index for `_id` equality only and scans the collection for
    anything else: 8,000 entries take about a second. The ledger changes only when a decision is
    issued or revoked, so each process keeps every entry, in order, with the generation of
    `ledger_meta/entries` it read them at (read *before* the scan; `_insert` moves it on after
    writing), and filters in memory. The entries are shared: callers never change one."""
    wanted = {k: filters[k] for k in FILTERS if filters.get(k) is not None}
    return [e for e in _all_entries(db) if all(e.get(k) == v for k, v in wanted.items())]


_held: dict[tuple[int, str], tuple[int, list[dict[str, Any]]]] = {}
_held_lock = threading.Lock()


def _all_entries(db: Database) -> list[dict[str, Any]]:
    generation = (db[LEDGER_META].find_one({"_id": "entries"}) or {}).get("generation", 0)
    key = (id(db.client), db.name)
    with _held_lock:
        held = _held.get(key)
        if held is not None and held[0] == generation:
            return held[1]
        found = sorted(db[LEDGER].find({}), key=lambda e: (e["decision_date"], sort_key(e["issuer"]), e["number"], e["kind"] != "issue", sort_key(e["name"]), e["_id"]))
        _held[key] = (generation, found)
        return found


def _group(entry: dict[str, Any], group_by: str) -> tuple[str | None, str, tuple]:
    """(key, label, sort key) of the row an entry counts in."""
    if group_by == "decision":
        return (
            entry["decision_id"],
            f"{entry['reference']} ngày {dmy(entry['decision_date'])} ({entry['issuer']})",
            (entry["decision_date"], sort_key(entry["issuer"]), entry["number"]),
        )
    if group_by == "year":
        return str(entry["year"]), str(entry["year"]), (entry["year"],)
    if group_by == "movement":
        key = entry.get("movement_id")
        return key, key or "Không thuộc phong trào / outside any movement", (key is None, key or "")
    # unit: by id; an awardee named with its unit's name only is grouped by that name
    key = entry.get("unit_id") or entry.get("unit_name")
    label = entry.get("unit_name") or entry.get("unit_id") or "Không ghi đơn vị / no unit named"
    return key, label, (key is None, sort_key(label))


def totals(found: Iterable[dict[str, Any]], group_by: str) -> list[dict[str, Any]]:
    """Per group: awarded (issued amounts), recovered (revoked amounts, as a positive sum), net
    and the number of awards issued (revoked ones included), all integers."""
    rows: dict[str | None, dict[str, Any]] = {}
    order: dict[str | None, tuple] = {}
    for entry in found:
        key, label, sort = _group(entry, group_by)
        row = rows.setdefault(key, {"key": key, "label": label, "awarded": 0, "recovered": 0, "net": 0, "awardees": 0})
        order.setdefault(key, sort)
        if entry["kind"] == "issue":
            row["awarded"] += entry["amount"]
            row["awardees"] += 1
        else:
            row["recovered"] -= entry["amount"]
        row["net"] += entry["amount"]
    return [rows[k] for k in sorted(rows, key=lambda k: order[k])]


def overall(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {name: sum(r[name] for r in rows) for name in ("awarded", "recovered", "net", "awardees")}


def view(entry: dict[str, Any]) -> dict[str, Any]:
    return {("id" if k == "_id" else k): v for k, v in entry.items()}
