"""The authorization matrix: the table (`authz_matrix.yaml`) read into rows, the cases every row is
tried with, and the status each case must get.

A case is a caller: each role with a token of the resource's own unit (`role@own`), each role
from another unit (`role@other`, for unit-scoped rows only), no token, and tokens that must never
be accepted (BAD_TOKENS). What a row declares and what follows from it:

- `roles`: who may call (`any` = every authenticated caller; group names expand, see `groups:`).
  An allowed caller gets `ok`; a caller without one of the roles gets 403.
- `scope`: `none` (no unit in play), `unit` (the resource belongs to a unit: another unit's
  caller gets 404, as if it did not exist, unless their role sees every unit), `own` (only the
  owning unit ever sees it: drafts, mailboxes, so 404 for everyone else), `list` (a list filtered
  by unit: another unit's caller gets `ok` without the own unit's resource `hides` in it).
  `other` overrides the other-unit status per role or per `wide`/`narrow`.
- `access`: `token` (default), `public` (every case gets `ok`, tokens ignored) or `service`
  (machine callers with their own HMAC signature: every bearer token gets 401).
- Every write carries a stale `If-Match`, so an allowed write stops at the version check (412)
  once permission and unit scope are passed, and changes nothing; `ok: 422` rows send a body that
  fails validation, which the permission check precedes.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from tdkt.auth import ROLES, WIDE_SIGHT_ROLES

TABLE = Path(__file__).with_name("authz_matrix.yaml")
SERVICES = ("registry", "reports", "awards", "notify")
BAD_TOKENS = ("expired", "wrong_audience", "wrong_issuer", "tampered", "alg_none", "hs256_public_key")
NARROW_ROLES = frozenset(ROLES) - WIDE_SIGHT_ROLES
SCOPES = ("none", "unit", "own", "list")
ACCESS = ("token", "public", "service")
KNOWN_KEYS = {"route", "roles", "scope", "ok", "other", "access", "ids", "query", "body", "upload", "hides", "hides_from"}


@dataclass(frozen=True)
class Row:
    service: str
    method: str
    path: str  # the template, `{param}` per path parameter
    roles: frozenset[str]
    ok: int
    scope: str = "none"
    access: str = "token"
    other: dict[str, int] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    query: str | None = None
    body: Any = None
    upload: dict[str, str] | None = None
    hides: str | None = None
    hides_from: str = "narrow"  # or "all": even wide-sight roles of another unit must not see it

    @property
    def route(self) -> str:
        return f"{self.method} {self.path}"

    def params(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)


def _roles(value: Any, groups: dict[str, list[str]]) -> frozenset[str]:
    if value == "any":
        return frozenset(ROLES)
    names = [value] if isinstance(value, str) else list(value or ())
    found: set[str] = set()
    for name in names:
        found |= set(_roles(groups[name], groups)) if name in groups else {name}
    unknown = found - set(ROLES)
    assert not unknown, f"the table names unknown roles {sorted(unknown)}"
    return frozenset(found)


def _other(value: dict[str, int], groups: dict[str, list[str]]) -> dict[str, int]:
    """`other:` keyed by role, group, `wide` or `narrow`; groups expand to their roles."""
    found: dict[str, int] = {}
    for name, status in value.items():
        for role in [name] if name in ("wide", "narrow") else sorted(_roles(name, groups)):
            found[role] = status
    return found


def load_rows(path: Path = TABLE) -> list[Row]:
    table = yaml.safe_load(path.read_text(encoding="utf-8"))
    groups = table.get("groups") or {}
    rows = []
    for service in SERVICES:
        for entry in table[service]:
            assert set(entry) <= KNOWN_KEYS, f"{service} {entry.get('route')}: unknown keys {sorted(set(entry) - KNOWN_KEYS)}"
            method, route_path = entry["route"].split(" ", 1)
            access = entry.get("access", "token")
            scope = entry.get("scope", "none")
            assert access in ACCESS and scope in SCOPES, entry
            roles = frozenset() if access != "token" else _roles(entry["roles"], groups)
            rows.append(
                Row(
                    service=service,
                    method=method,
                    path=route_path,
                    roles=roles,
                    ok=entry["ok"],
                    scope=scope,
                    access=access,
                    other=_other(entry.get("other") or {}, groups),
                    ids=entry.get("ids") or {},
                    query=entry.get("query"),
                    body=entry.get("body"),
                    upload=entry.get("upload"),
                    hides=entry.get("hides"),
                    hides_from=entry.get("hides_from", "narrow"),
                )
            )
    routes = [(r.service, r.route) for r in rows]
    duplicated = sorted({r for r in routes if routes.count(r) > 1})
    assert not duplicated, f"rows listed twice: {duplicated}"
    return rows


def cases(row: Row) -> list[str]:
    found = [f"{role}@own" for role in ROLES]
    if row.scope != "none" and row.access == "token":
        found += [f"{role}@other" for role in ROLES]
    return [*found, "no_token", *BAD_TOKENS]


def expected(row: Row, case: str) -> int:
    if row.access == "public":
        return row.ok
    if row.access == "service" or "@" not in case:
        return 401
    role, where = case.split("@")
    if role not in row.roles:
        return 403
    if where == "own" or row.scope == "none":
        return row.ok
    breadth = "wide" if role in WIDE_SIGHT_ROLES else "narrow"
    if role in row.other or breadth in row.other:
        return row.other.get(role, row.other.get(breadth))
    if row.scope == "own" or (row.scope == "unit" and breadth == "narrow"):
        return 404
    return row.ok  # a wide-sight role, or a filtered list


def must_hide(row: Row, case: str) -> bool:
    """Whether this caller's answer must not show the own unit's `hides` resource."""
    if not row.hides or not case.endswith("@other"):
        return False
    return row.hides_from == "all" or case.split("@")[0] not in WIDE_SIGHT_ROLES


class Outcomes:
    """What every request got, for the summary printed at the end of the run."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, int, int]] = []

    def add(self, service: str, route: str, case: str, want: int, got: int) -> None:
        self.rows.append((service, route, case, want, got))

    def summary(self) -> str:
        lines = ["authorization matrix: service   routes  requests  mismatches  statuses"]
        for service in (*SERVICES, "all"):
            mine = [r for r in self.rows if service in ("all", r[0])]
            if not mine:
                continue
            statuses = Counter(r[4] for r in mine)
            shown = " ".join(f"{status}:{count}" for status, count in sorted(statuses.items()))
            lines.append(f"  {service:<10} {len({r[:2] for r in mine}):>7} {len(mine):>9} {sum(r[3] != r[4] for r in mine):>11}  {shown}")
        by_case = Counter((r[2].split("@")[-1] if "@" in r[2] else r[2], r[4]) for r in self.rows)
        lines.append("  by case: " + ", ".join(f"{case}→{status}×{n}" for (case, status), n in sorted(by_case.items())))
        return "\n".join(lines)
