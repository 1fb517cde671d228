"""The in-app inbox the department portals call. A user sees the messages of their own mailbox
(`user:<subject>`), of their unit's (`unit:<id>`) and of each of their roles' (`role:<name>`);
read marks are per user. Everything is read by `_id`: a mailbox is one document listing
`<time>|<message id>` entries, the read marks one document per user. A worker keeps what it read
of mailboxes (until their mark moves) and of messages (which never change)."""

from __future__ import annotations

import heapq
import threading
from collections import OrderedDict
from typing import Any

from pymongo.database import Database
from tdkt.auth import Principal
from tdkt.errors import NotFound

from tdkt_notify.service_layer.intake import MAILBOX_MARKS, MAILBOXES, MESSAGES

READS = "inbox_reads"
KEPT_MESSAGES = 5000  # a worker's memory: ~1 KB a message, so a few MB
KEPT_MAILBOXES = 32  # ~150 bytes an entry: a role's mailbox of 20,000 entries is 3 MB

_lock = threading.Lock()
_kept: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()  # (database, message id) → the message, least recently shown first
_mailboxes: OrderedDict[tuple[str, str], tuple[int, list[tuple[str, str]]]] = OrderedDict()  # (database, owner) → (mark, entries newest first)


def owners(principal: Principal) -> list[str]:
    found = [f"user:{principal.subject}"]
    if principal.unit_id:
        found.append(f"unit:{principal.unit_id}")
    found += [f"role:{r}" for r in sorted(principal.roles)]
    return found


def _entries(db: Database, principal: Principal) -> list[tuple[str, str]]:
    """(time, message id) of every message the caller sees, newest first. Message ids end with
    their owner, so no two mailboxes share an entry."""
    return list(heapq.merge(*(_mailbox(db, owner) for owner in owners(principal)), reverse=True))


def _mailbox(db: Database, owner: str) -> list[tuple[str, str]]:
    """A mailbox's entries, newest first, read again only when its mark has moved (a role's
    mailbox holds thousands of entries; its mark is a few bytes)."""
    key = (db.name, owner)  # a mark counts within its database (tests use many)
    mark = (db[MAILBOX_MARKS].find_one({"_id": owner}) or {}).get("n")
    with _lock:
        kept = _mailboxes.get(key)
        if kept is not None and mark is not None and kept[0] == mark:
            _mailboxes.move_to_end(key)
            return kept[1]
    entries = sorted((tuple(e.split("|", 1)) for e in (db[MAILBOXES].find_one({"_id": owner}) or {}).get("entries", ())), reverse=True)
    if mark is not None:  # mailboxes written before marks existed are read every time
        with _lock:
            _mailboxes[key] = (mark, entries)
            while len(_mailboxes) > KEPT_MAILBOXES:
                _mailboxes.popitem(last=False)
    return entries


def _read(db: Database, principal: Principal) -> set[str]:
    return set((db[READS].find_one({"_id": principal.subject}) or {}).get("ids", ()))


def listing(db: Database, principal: Principal, page: int, per_page: int, unread_only: bool) -> dict[str, Any]:
    entries, read = _entries(db, principal), _read(db, principal)  # once, for the page and the unread count
    unread = [e for e in entries if e[1] not in read]
    if unread_only:
        entries = unread
    chosen = entries[(page - 1) * per_page : page * per_page]
    items = [view(message, message["_id"] in read) for message in _messages(db, [message_id for _, message_id in chosen])]
    total = len(entries)
    return {"items": items, "page": page, "per_page": per_page, "total": total, "pages": (total + per_page - 1) // per_page, "unread": len(unread)}


def unread_count(db: Database, principal: Principal) -> int:
    read = _read(db, principal)
    return sum(1 for _, message_id in _entries(db, principal) if message_id not in read)


def _messages(db: Database, ids: list[str]) -> list[dict[str, Any]]:
    """The messages in the order asked, each read by `_id` once per worker: a message never
    changes after intake writes it (`$in` would scan the collection)."""
    found = []
    for message_id in ids:
        key = (db.name, message_id)
        with _lock:
            message = _kept.get(key)
            if message is not None:
                _kept.move_to_end(key)
        if message is None:
            message = db[MESSAGES].find_one({"_id": message_id})
            if message is None:
                continue  # as before: an entry without its message is left out
            with _lock:
                _kept[key] = message
                while len(_kept) > KEPT_MESSAGES:
                    _kept.popitem(last=False)
        found.append(message)
    return found


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
