"""Emulation clusters (cụm thi đua, by geography) and blocks (khối thi đua, by sector): the
units that emulate together, and for each year the leader (cụm/khối trưởng), the deputy and
the covenant they signed (giao ước thi đua). Pure rules, no I/O.

The member list is today's membership. Past terms are history: they may name units that have
since left or merged away, so a change of members re-checks only the terms from this year on.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from tdkt.errors import Conflict, Invalid
from tdkt.text import nfc

from tdkt_registry.domain.directory import Directory
from tdkt_registry.domain.units import LegalBasis

KINDS = ("cluster", "block")  # cụm (theo địa bàn) / khối (theo ngành, lĩnh vực)
FIRST_YEAR, LAST_YEAR = 2000, 2100
MIN_MEMBERS = 2


@dataclass(frozen=True)
class Term:
    year: int
    leader_id: str
    deputy_id: str | None = None
    covenant: LegalBasis | None = None

    def to_dict(self) -> dict[str, Any]:
        covenant = self.covenant.to_dict() if self.covenant else None
        return {"year": self.year, "leader_id": self.leader_id, "deputy_id": self.deputy_id, "covenant": covenant}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Term:
        return cls(int(d["year"]), d["leader_id"], d.get("deputy_id"), LegalBasis.from_dict(d.get("covenant")))


@dataclass(frozen=True)
class Cluster:
    id: str
    name: str
    kind: str
    description: str | None = None
    member_ids: tuple[str, ...] = ()
    terms: tuple[Term, ...] = ()  # in year order

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "description": self.description,
            "member_ids": list(self.member_ids),
            "terms": [t.to_dict() for t in self.terms],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Cluster:
        terms = tuple(sorted((Term.from_dict(t) for t in d.get("terms") or ()), key=lambda t: t.year))
        return cls(d["id"], nfc(d["name"]), d["kind"], d.get("description"), tuple(d.get("member_ids") or ()), terms)


def _term_day(year: int, today: date) -> date:
    """The day a term's leader and deputy must be active: this year's terms as of today."""
    return today if year == today.year else date(year, 1, 1)


def _check_members(cluster: Cluster, directory: Directory, today: date) -> None:
    if not cluster.name:
        raise Invalid("name", "Tên không được để trống / the name is required")
    if cluster.kind not in KINDS:
        raise Invalid("kind", f"Loại phải là một trong {', '.join(KINDS)} / kind is one of {', '.join(KINDS)}")
    if len(cluster.member_ids) < MIN_MEMBERS:
        raise Invalid("member_ids", f"Cụm/khối cần ít nhất {MIN_MEMBERS} đơn vị / a cluster needs at least {MIN_MEMBERS} members")
    seen: set[str] = set()
    for i, unit_id in enumerate(cluster.member_ids):
        if unit_id in seen:
            raise Invalid(f"member_ids.{i}", f"Đơn vị {unit_id} bị trùng / unit {unit_id} is listed twice")
        seen.add(unit_id)
        unit = directory.get(unit_id)
        if unit is None:
            raise Invalid(f"member_ids.{i}", f"Không có đơn vị {unit_id} / no unit {unit_id}")
        if unit.at(today) is None:
            raise Invalid(f"member_ids.{i}", f"Đơn vị {unit_id} không còn hoạt động / unit {unit_id} is not active today")


def check_term(cluster: Cluster, term: Term, directory: Directory, today: date, prefix: str = "") -> Term:
    """`prefix` places the fields in the request: `terms.0.` when the term came in a list."""
    if not FIRST_YEAR <= term.year <= LAST_YEAR:
        raise Invalid(f"{prefix}year", f"Năm phải từ {FIRST_YEAR} đến {LAST_YEAR} / the year is between {FIRST_YEAR} and {LAST_YEAR}")
    if term.leader_id == term.deputy_id:
        raise Invalid(f"{prefix}deputy_id", "Cụm/khối phó phải khác cụm/khối trưởng / the deputy differs from the leader")
    day = _term_day(term.year, today)
    for name, unit_id in (("leader_id", term.leader_id), ("deputy_id", term.deputy_id)):
        if unit_id is None:
            continue
        if unit_id not in cluster.member_ids:
            raise Invalid(f"{prefix}{name}", f"Đơn vị {unit_id} không thuộc cụm/khối / unit {unit_id} is not a member")
        unit = directory.get(unit_id)
        if unit is None or unit.at(day) is None:
            raise Invalid(f"{prefix}{name}", f"Đơn vị {unit_id} không hoạt động vào ngày {day} / unit {unit_id} is not active on {day}")
    return term


def new(cluster: Cluster, directory: Directory, today: date) -> Cluster:
    _check_members(cluster, directory, today)
    years = [t.year for t in cluster.terms]
    for i, term in enumerate(cluster.terms):
        if years.index(term.year) != i:
            raise Invalid(f"terms.{i}.year", f"Năm {term.year} đã có nhiệm kỳ / year {term.year} has a term already")
        check_term(cluster, term, directory, today, f"terms.{i}.")
    return cluster


def revise(current: Cluster, name: str, description: str | None, member_ids: list[str], directory: Directory, today: date) -> Cluster:
    """The cluster with a new name, description and members; the kind and the terms stay."""
    proposed = replace(current, name=nfc(name), description=description, member_ids=tuple(member_ids))
    _check_members(proposed, directory, today)
    for term in current.terms:
        gone = [u for u in (term.leader_id, term.deputy_id) if u and u not in proposed.member_ids]
        if term.year >= today.year and gone:
            raise Conflict(
                f"Đơn vị {', '.join(gone)} đang giữ vai trò trong nhiệm kỳ {term.year}: đổi nhiệm kỳ trước / {', '.join(gone)} lead(s) the {term.year} term: change the term first",
                fields=["member_ids"],
            )
    return proposed


def set_term(cluster: Cluster, term: Term, directory: Directory, today: date) -> Cluster:
    """The cluster with `term` as its year's term, replacing any term of that year."""
    check_term(cluster, term, directory, today)
    terms = sorted([*(t for t in cluster.terms if t.year != term.year), term], key=lambda t: t.year)
    return replace(cluster, terms=tuple(terms))
