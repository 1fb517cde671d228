"""The in-app inbox the department portals call. A user sees the messages of their own mailbox
(`user:<subject>`), of their unit's (`unit:<id>`) and of each of their roles' (`role:<name>`);
read marks are per user. Everything is read by `_id`: a mailbox is one document listing
`<time>|<message id>` entries, the read marks one document per user."""

from __future__ import annotations

from typing import Any

from pymongo.database import Database
from tdkt.auth import Principal
from tdkt.errors import NotFound

from tdkt_notify.service_layer.intake import MAILBOXES, MESSAGES

READS = "inbox_reads"


def owners(principal: Principal) -> list[str]:
    found = [f"user:{principal.subject}"]
    if principal.unit_id:
        found.append(f"unit:{principal.unit_id}")
    found += [f"role:{r}" for r in sorted(principal.roles)]
    return found


def _entries(db: Database, principal: Principal) -> list[tuple[str, str]]:
    entries: set[tuple[str, str]] = set()
    for owner in owners(principal):
        for entry in (db[MAILBOXES].find_one({"_id": owner}) or {}).get("entries", ()):
            created, message_id = entry.split("|", 1)
            entries.add((created, message_id))
    return sorted(entries, reverse=True)  # newest first


def _read(db: Database, principal: Principal) -> set[str]:
    return set((db[READS].find_one({"_id": principal.subject}) or {}).get("ids", ()))


def listing(db: Database, principal: Principal, page: int, per_page: int, unread_only: bool) -> dict[str, Any]:
    entries, read = _entries(db, principal), _read(db, principal)
    if unread_only:
        entries = [e for e in entries if e[1] not in read]
    chosen = entries[(page - 1) * per_page : page * per_page]
    items = []
    for _, message_id in chosen:
        message = db[MESSAGES].find_one({"_id": message_id})
        if message is not None:
            items.append(view(message, message_id in read))
    total = len(entries)
    return {"items": items, "page": page, "per_page": per_page, "total": total, "pages": (total + per_page - 1) // per_page, "unread": unread_count(db, principal)}


def unread_count(db: Database, principal: Principal) -> int:
    read = _read(db, principal)
    return sum(1 for _, message_id in _entries(db, principal) if message_id not in read)


def mark_read(db: Database, principal: Principal, message_id: str) -> dict[str, Any]:
    message = db[MESSAGES].find_one({"_id": message_id})
    if message is None or message["owner"] not in owners(principal):
        raise NotFound("Không có thông báo này / no such message")  # another's message is as absent
    db[READS].update_one({"_id": principal.subject}, {"$addToSet": {"ids": message_id}}, upsert=True)
    return view(message, True)


def mark_all_read(db: Database, principal: Principal) -> int:
    ids = [message_id for _, message_id in _entries(db, principal)]
    if ids:
        db[READS].update_one({"_id": principal.subject}, {"$addToSet": {"ids": {"$each": ids}}}, upsert=True)
    return len(ids)


def view(message: dict[str, Any], read: bool) -> dict[str, Any]:
    return {
        "id": message["_id"],
        "title": message["title"],
        "text": message["text"],
        "event_type": message["event_type"],
        "subject": message.get("subject"),
        "owner": message["owner"],
        "created_at": message["created_at"],
        "read": read,
    }
