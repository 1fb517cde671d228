"""The data that steers routing — rules, template overrides, subscriptions — read by the
consumer for every event, and changed rarely through the API. Each process keeps them in memory
and re-reads them when `notify_meta/config`'s `version` moved (one read by `_id` per event: the
only kind of read FerretDB answers from an index). Every change bumps the version."""

from __future__ import annotations

import json
import threading
from importlib import resources
from typing import Any

from pymongo.database import Database

from tdkt_notify.domain import templates

ROUTES, TEMPLATES, SUBSCRIPTIONS, META = "routes", "template_overrides", "subscriptions", "notify_meta"


def default_routes() -> dict[str, dict[str, Any]]:
    return json.loads((resources.files("tdkt_notify") / "seed" / "routes-default.json").read_text(encoding="utf-8"))


def seed_routes(db: Database) -> int:
    """Insert the default rule of every event type that has none (an edited rule is kept)."""
    added = 0
    for event_type, rule in default_routes().items():
        if db[ROUTES].find_one({"_id": event_type}, {"_id": 1}) is None:
            db[ROUTES].insert_one({"_id": event_type, **rule})
            added += 1
    if added:
        bump(db)
    return added


def bump(db: Database) -> None:
    db[META].update_one({"_id": "config"}, {"$inc": {"version": 1}}, upsert=True)


class Config:
    """A consistent in-memory copy of rules, templates and subscriptions."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: tuple[str, int] | None = None
        self.routes: dict[str, dict[str, Any]] = {}
        self.overrides: dict[str, dict[str, str]] = {}
        self.subscriptions: list[dict[str, Any]] = []

    def fresh(self, db: Database) -> Config:
        version = (db.name, (db[META].find_one({"_id": "config"}) or {}).get("version", 0))  # per database: tests use many
        with self._lock:
            if version != self._version:
                self.routes = {d.pop("_id"): d for d in db[ROUTES].find({})}
                self.overrides = {d.pop("_id"): d for d in db[TEMPLATES].find({})}
                self.subscriptions = [s for s in db[SUBSCRIPTIONS].find({}) if s.get("active", True)]
                self._version = version
        return self

    def template(self, name: str) -> dict[str, str]:
        return self.overrides.get(name) or templates.shipped(name)

    def subscriptions_of(self, owner: str, channel: str, event_type: str) -> list[dict[str, Any]]:
        return [s for s in self.subscriptions if s["owner"] == owner and s["channel"] == channel and matches(s, event_type)]

    def webhooks_for(self, event_type: str) -> list[dict[str, Any]]:
        return [s for s in self.subscriptions if s["channel"] == "webhook" and matches(s, event_type)]


def matches(subscription: dict[str, Any], event_type: str) -> bool:
    wanted = subscription.get("event_types") or ["*"]
    return "*" in wanted or event_type in wanted


CONFIG = Config()
