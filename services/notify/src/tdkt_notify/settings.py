"""Notify's own settings (beside the platform's, `tdkt.settings`); read once, validated together.

NOTIFY_PORTAL_URL        where links in messages point (default http://localhost:8004/api/v1)
NOTIFY_ROLE_EMAILS       JSON {role: address}: the mailbox of a role (e.g. the standing body's);
                         roles without one are told in the in-app inbox only (default {})
NOTIFY_RETRY_BASE_S      the first retry's upper bound; doubles each attempt, with full jitter (2)
NOTIFY_RETRY_FOR_S       how long a failing webhook or email is retried before it is dead (86400)
NOTIFY_DIGEST_HOUR       local hour (Asia/Ho_Chi_Minh) after which yesterday's digests go out (7)
NOTIFY_WEBHOOK_TIMEOUT_S one webhook attempt's timeout (5)
NOTIFY_DISPATCH_WORKERS  deliveries in flight at once (16); one receiver holds one at a time
NOTIFY_CLAIM_S           a dispatcher's hold on a delivery it is sending (60): a killed one's
                         deliveries are taken over after that; longer than any attempt
TDKT_ENV=production      webhook targets must be https and public (no loopback/private ranges)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache

from tdkt.settings import SettingsError


@dataclass(frozen=True)
class NotifySettings:
    portal_url: str = "http://localhost:8004/api/v1"
    role_emails: dict[str, str] = field(default_factory=dict)
    retry_for_s: float = 86400.0
    retry_base_s: float = 2.0
    digest_hour: int = 7
    webhook_timeout_s: float = 5.0
    dispatch_workers: int = 16
    claim_s: float = 60.0
    production: bool = False


def load(environ: dict[str, str] | None = None) -> NotifySettings:
    env = os.environ if environ is None else environ
    errors = []

    def number(name: str, default: float, low: float, high: float) -> float:
        try:
            value = float(env.get(name, default))
        except ValueError:
            errors.append(f"{name}: not a number")
            return default
        if not low <= value <= high:
            errors.append(f"{name}: must be between {low:g} and {high:g}")
        return value

    try:
        roles = json.loads(env.get("NOTIFY_ROLE_EMAILS") or "{}")
        if not isinstance(roles, dict) or not all(isinstance(v, str) and "@" in v for v in roles.values()):
            raise ValueError
    except ValueError:
        errors.append('NOTIFY_ROLE_EMAILS: a JSON object {"role": "address@…"}')
        roles = {}
    settings = NotifySettings(
        portal_url=env.get("NOTIFY_PORTAL_URL", "http://localhost:8004/api/v1").rstrip("/"),
        role_emails=roles,
        retry_for_s=number("NOTIFY_RETRY_FOR_S", 86400, 1, 30 * 86400),
        retry_base_s=number("NOTIFY_RETRY_BASE_S", 2, 0.001, 3600),
        digest_hour=int(number("NOTIFY_DIGEST_HOUR", 7, 0, 23)),
        webhook_timeout_s=number("NOTIFY_WEBHOOK_TIMEOUT_S", 5, 0.1, 120),
        dispatch_workers=int(number("NOTIFY_DISPATCH_WORKERS", 16, 1, 256)),
        claim_s=number("NOTIFY_CLAIM_S", 60, 1, 3600),
        production=env.get("TDKT_ENV") == "production",
    )
    if errors:
        raise SettingsError("invalid environment: " + " | ".join(errors))
    return settings


@lru_cache(maxsize=1)
def current() -> NotifySettings:
    return load()
