"""Routing rules as data: an event type → its audiences → the channels they are told by.

A rule (one per event type, `seed/routes-default.json`, editable through `/api/v1/routes`):

    {"audiences": [{"kind": "unit", "from": "report.unit_id"}, {"kind": "role", "role": "tdkt_officer"}],
     "channels": ["email", "inbox"], "template": "report_due_soon", "digestible": true, "enabled": true}

Audience kinds:
- `unit`            the unit(s) named at a path of the payload (`decision.awardees[*].unit_id`)
- `parent_of`       the parent unit of the unit(s) at a path (from the registry's copy)
- `participants`    the participants of a movement: unit ids at a path (`movement.participant_ids`)
- `role`            everyone holding a role (`tdkt_officer`, `council_member`, …): their inbox,
                    and the role's mailbox address when one is configured
- `public`          the public announcements list

Channels: `email`, `inbox`, `webhook` (webhook subscribers whose scope matches), and for `public`
the announcement. Recipients are keys: `unit:<id>`, `role:<name>`, `webhook:<subscription id>`,
`public`. Pure functions: the caller passes the lookups.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from tdkt.errors import Invalid

AUDIENCE_KINDS = ("unit", "parent_of", "participants", "role", "public")
CHANNELS = ("email", "inbox", "webhook")
ROLES = ("unit_reporter", "unit_head", "tdkt_officer", "council_member", "council_chair", "chairman", "finance_officer", "communications", "integration", "admin")


@dataclass(frozen=True)
class Recipient:
    key: str  # unit:<id> | role:<name> | public
    unit_id: str | None = None

    @property
    def kind(self) -> str:
        return self.key.split(":", 1)[0]


def values_at(data: Any, path: str) -> list[Any]:
    """Every value at a dotted path; `[*]` walks a list: `decision.awardees[*].unit_id`."""
    current = [data]
    for part in path.split("."):
        each = part.endswith("[*]")
        name = part[:-3] if each else part
        found = []
        for item in current:
            value = item.get(name) if isinstance(item, dict) else None
            if value is None:
                continue
            if not each:
                found.append(value)
            elif isinstance(value, list):
                found.extend(v for v in value if v is not None)
        current = found
    flat: list[Any] = []
    for value in current:
        flat.extend(value if isinstance(value, list) else [value])
    return flat


def recipients(rule: dict[str, Any], payload: dict[str, Any], parent_of: Callable[[str], str | None]) -> list[Recipient]:
    """The distinct recipients of one event by its rule, in a stable order."""
    found: dict[str, Recipient] = {}
    for audience in rule.get("audiences") or ():
        kind = audience["kind"]
        if kind in ("unit", "participants"):
            units: Iterable[str] = (str(u) for u in values_at(payload, audience["from"]))
        elif kind == "parent_of":
            units = (p for p in (parent_of(str(u)) for u in values_at(payload, audience["from"])) if p)
        elif kind == "role":
            found.setdefault(f"role:{audience['role']}", Recipient(f"role:{audience['role']}"))
            continue
        else:
            found.setdefault("public", Recipient("public"))
            continue
        for unit_id in units:
            found.setdefault(f"unit:{unit_id}", Recipient(f"unit:{unit_id}", unit_id))
    return list(found.values())


def check_rule(rule: dict[str, Any], templates: set[str]) -> None:
    """A rule an operator edits: 422 naming the part that is wrong."""
    for i, audience in enumerate(rule.get("audiences") or ()):
        kind = audience.get("kind")
        if kind not in AUDIENCE_KINDS:
            raise Invalid(f"audiences.{i}.kind", f"Một trong / one of: {', '.join(AUDIENCE_KINDS)}")
        if kind in ("unit", "parent_of", "participants") and not audience.get("from"):
            raise Invalid(f"audiences.{i}.from", "Cần đường dẫn tới mã đơn vị trong sự kiện / a path to the unit ids in the event is required")
        if kind == "role" and audience.get("role") not in ROLES:
            raise Invalid(f"audiences.{i}.role", f"Một trong / one of: {', '.join(ROLES)}")
    for i, channel in enumerate(rule.get("channels") or ()):
        if channel not in CHANNELS:
            raise Invalid(f"channels.{i}", f"Một trong / one of: {', '.join(CHANNELS)}")
    if rule.get("template") not in templates:
        raise Invalid("template", f"Không có mẫu {rule.get('template')!r} / no template {rule.get('template')!r}")
