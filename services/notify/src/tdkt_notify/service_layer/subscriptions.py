"""Subscriptions and preferences: per unit or per user, which event types, which channel, immediate
or daily digest, quiet hours; and webhook subscribers (provincial systems, portals).

Who may manage what: a user their own; a unit's by the unit itself (`unit_head`) or by officers;
a webhook for all events (`scope: all`) only officers, integration or admin. A webhook's secret is
generated here, returned once in the creation's answer and never again."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from pymongo.database import Database
from tdkt.auth import Principal
from tdkt.errors import DomainError, Invalid, NotFound

from tdkt_notify import settings as notify_settings
from tdkt_notify.adapters.events import ROUTABLE
from tdkt_notify.service_layer.config import SUBSCRIPTIONS, bump

MANAGERS = ("tdkt_officer", "communications", "admin")
WIDE_WEBHOOKS = ("tdkt_officer", "integration", "admin")
HIDDEN = {"secret": 0}


class Forbidden(DomainError):
    status = 403
    slug = "forbidden"


def _owner(data: dict[str, Any], principal: Principal) -> str:
    if data["owner"] == "user":
        return f"user:{principal.subject}"
    unit_id = data.get("unit_id") or principal.unit_id
    if not unit_id:
        raise Invalid("unit_id", "Cần mã đơn vị / a unit is required")
    if unit_id != principal.unit_id and not principal.has_any(*MANAGERS):
        raise Forbidden("Chỉ đơn vị đó hoặc cán bộ TĐKT quản lý đăng ký của đơn vị / only the unit itself or an officer manages a unit's subscriptions")
    return f"unit:{unit_id}"


def _may_manage(subscription: dict[str, Any], principal: Principal) -> bool:
    owner = subscription["owner"]
    return owner == f"user:{principal.subject}" or owner == f"unit:{principal.unit_id}" or principal.has_any(*MANAGERS)


def create(db: Database, data: dict[str, Any], principal: Principal) -> dict[str, Any]:
    for i, event_type in enumerate(data["event_types"]):
        if event_type != "*" and event_type not in ROUTABLE:
            raise Invalid(f"event_types.{i}", f"Không có loại sự kiện {event_type!r} / unknown event type")
    doc: dict[str, Any] = {
        "_id": uuid.uuid4().hex,
        "owner": _owner(data, principal),
        "channel": data["channel"],
        "event_types": data["event_types"],
        "active": True,
        "created_by": principal.subject,
        "created_at": datetime.now(UTC),
    }
    if data["channel"] == "email":
        if data["owner"] == "user" and not data.get("email"):
            raise Invalid("email", "Cần địa chỉ email để nhận thư / an address is required for a user's email subscription")
        doc |= {"mode": data.get("mode", "immediate"), "quiet_hours": data.get("quiet_hours"), "email": data.get("email")}
    else:
        from tdkt_notify.adapters.webhooks import check_target

        if not data.get("url"):
            raise Invalid("url", "Cần địa chỉ nhận webhook / the webhook URL is required")
        check_target(data["url"], production=notify_settings.current().production)
        scope = data.get("scope", "own")
        if scope == "all" and not principal.has_any(*WIDE_WEBHOOKS):
            raise Forbidden("Webhook cho mọi sự kiện chỉ dành cho cán bộ TĐKT hoặc hệ thống tích hợp / only officers or integration accounts subscribe to every unit's events")
        doc |= {"url": data["url"], "scope": scope, "secret": secrets.token_urlsafe(32), "description": data.get("description")}
    db[SUBSCRIPTIONS].insert_one(doc)
    bump(db)
    return doc  # the one answer that carries the secret


def listing(db: Database, principal: Principal) -> list[dict[str, Any]]:
    found = [s for s in db[SUBSCRIPTIONS].find({"active": True}, HIDDEN) if _may_manage(s, principal)]
    return sorted(found, key=lambda s: s["created_at"], reverse=True)


def remove(db: Database, subscription_id: str, principal: Principal) -> None:
    found = db[SUBSCRIPTIONS].find_one({"_id": subscription_id, "active": True}, HIDDEN)
    if found is None or not _may_manage(found, principal):
        raise NotFound("Không có đăng ký này / no such subscription")
    db[SUBSCRIPTIONS].update_one({"_id": subscription_id}, {"$set": {"active": False, "removed_by": principal.subject, "removed_at": datetime.now(UTC)}})
    bump(db)


def view(doc: dict[str, Any], with_secret: bool = False) -> dict[str, Any]:
    shown = {k: v for k, v in doc.items() if k not in ("_id", "secret")} | {"id": doc["_id"]}
    if with_secret:
        shown["secret"] = doc["secret"]
    return shown
