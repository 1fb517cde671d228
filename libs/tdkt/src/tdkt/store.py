"""The document store: one MongoDB database per service, reached through mongoengine.

Works unchanged on MongoDB and on FerretDB (the local stack's embedded store), so the code keeps
to the portable subset listed in `design/infrastructure.md`; on FerretDB's SQLite backend only
lookups by `_id` are indexed, which is why hot paths (outbox hints, event claims) go by `_id`.
"""

from __future__ import annotations

import re

import mongoengine
from pymongo.database import Database
from pymongo.errors import ConnectionFailure, PyMongoError

from tdkt.settings import MongoSettings

# Errors that mean "the store cannot be reached right now", as opposed to a bad request or a
# bug: the API answers 503 with Retry-After and workers wait and retry instead of giving up.
STORE_UNAVAILABLE: tuple[type[Exception], ...] = (ConnectionFailure,)


class StoreUnreachable(RuntimeError):
    pass


def connect_store(settings: MongoSettings, alias: str = "default") -> Database:
    """Register the mongoengine connection (lazily: no I/O here) and return its database."""
    mongoengine.disconnect(alias)
    mongoengine.connect(
        db=settings.database,
        host=settings.uri,
        alias=alias,
        serverSelectionTimeoutMS=settings.server_selection_timeout_ms,
        connectTimeoutMS=settings.server_selection_timeout_ms,
        tz_aware=True,
        uuidRepresentation="standard",
        connect=False,
    )
    return mongoengine.get_db(alias)


def ping(db: Database) -> None:
    db.client.admin.command("ping")


def check_store(db: Database, uri: str) -> None:
    """Fail fast with a sentence when the store does not answer at start."""
    try:
        ping(db)
    except PyMongoError as exc:
        raise StoreUnreachable(f"the document store at {redact(uri)} does not answer: {exc.__class__.__name__}: {exc}") from None


def redact(uri: str) -> str:
    """The URI without its password, for messages and logs."""
    if "@" not in uri:
        return uri
    scheme, rest = uri.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


def contains(field: str, text: str) -> dict:
    """A raw filter for "field contains this text", matched literally (the text is escaped, so
    user input cannot inject a pattern). Use it with `Model.objects(__raw__=...)`: mongoengine's
    own `__contains` compiles a Python regex whose `u` flag FerretDB refuses."""
    return {field: {"$regex": re.escape(text)}}
