"""Where the relay and the consumer say how far behind they are (`pipeline_status`), read by the
API's /readyz and /metrics. Status is for operators: failing to write it never stops the work."""

from __future__ import annotations

from pymongo.database import Database
from pymongo.errors import PyMongoError

from tdkt.logs import get_logger

STATUS = "pipeline_status"
log = get_logger(__name__)


def write_status(db: Database, name: str, doc: dict) -> None:
    try:
        db[STATUS].replace_one({"_id": name}, doc, upsert=True)
    except PyMongoError as exc:
        log.warning("could not write pipeline status", error=str(exc))
