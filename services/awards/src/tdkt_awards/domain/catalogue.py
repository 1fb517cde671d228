"""The rule catalogue: titles and forms, their criteria, council rules, bonus coefficients, base
salaries by date, quotas — as data, versioned by issuing authority, legal basis and effective
date. The law delegates the detailed criteria to provinces and changes (Decree 98/2023 →
152/2025), so nothing here is a constant in code: the shipped defaults
(`seed/catalogue-default.json`, from `design/domain.md`) are one version an operator edits.

A version is `draft` (editable) until activated; the version in force for an issuer on a date
is the active one with the latest `effective_from` not after that date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from tdkt.errors import Invalid

from tdkt_awards.domain.bonus import BaseSalary

SUBJECTS = ("individual", "collective", "household")
AWARD_TYPES = ("merit", "sudden", "movement", "dedication", "seniority", "foreign")  # công trạng, đột xuất, phong trào/chuyên đề, cống hiến, niên hạn, đối ngoại
KINDS = ("title", "form")  # danh hiệu thi đua / hình thức khen thưởng
CONFERRERS = ("commune_chair", "provincial_chair", "prime_minister", "president", "minister")
# Criteria the platform can check by itself; anything else is `text`, judged by the appraiser.
RULE_KINDS = {
    "performance_at_least": ("rating",),  # "hoàn thành tốt nhiệm vụ trở lên": good | excellent
    "holds_title": ("title",),  # e.g. CSTĐCS needs LĐTT in the same year
    "consecutive_titles": ("title", "years"),  # CSTĐ tỉnh: 3 consecutive CSTĐCS
    "initiative_recognised": (),
    "share_of_members_with_title": ("title", "share"),  # TTLĐXS / TTLĐTT: ≥ 70 % LĐTT
    "all_members_complete_tasks": (),
    "at_least_one_member_with_title": ("title",),
    "no_member_disciplined": (),
    "unit_reports_accepted": (),  # the unit reported in the movement and was accepted
    "text": ("text",),
}
RATINGS = ("completed", "good", "excellent")


@dataclass(frozen=True)
class Title:
    code: str
    name: str
    kind: str
    subject: str
    award_type: str
    conferred_by: str
    coefficient: Decimal | None  # None: carries no money
    ballot: bool = False  # secret ballot in the council
    threshold: Decimal | None = None  # share of the council's total membership needed
    counts_toward_merit: bool = True  # sudden and thematic awards do not (Decree 152 Art 4)
    criteria: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Catalogue:
    titles: tuple[Title, ...]
    base_salaries: tuple[BaseSalary, ...]
    council: dict[str, Any]  # quorum_share, award_session_present_share, chair_casting_vote
    quotas: dict[str, Any]  # enabled (default False), rules

    def title(self, code: str) -> Title:
        for title in self.titles:
            if title.code == code:
                return title
        raise Invalid("title", f"Danh mục không có danh hiệu/hình thức {code!r} / the catalogue has no title or form {code!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "titles": [
                {
                    "code": t.code,
                    "name": t.name,
                    "kind": t.kind,
                    "subject": t.subject,
                    "award_type": t.award_type,
                    "conferred_by": t.conferred_by,
                    "coefficient": None if t.coefficient is None else str(t.coefficient),
                    "ballot": t.ballot,
                    "threshold": None if t.threshold is None else str(t.threshold),
                    "counts_toward_merit": t.counts_toward_merit,
                    "criteria": list(t.criteria),
                }
                for t in self.titles
            ],
            "base_salaries": [{"since": s.since.isoformat(), "amount": s.amount} for s in self.base_salaries],
            "council": dict(self.council),
            "quotas": dict(self.quotas),
        }


def _decimal(value: Any, field: str, low: Decimal, high: Decimal) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise Invalid(field, f"Cần một số thập phân / a decimal number is expected, got {value!r}") from None
    if not low <= number <= high:
        raise Invalid(field, f"Phải từ {low} đến {high} / must be between {low} and {high}")
    return number


def _check_shape(content: Any) -> None:
    """The lists are lists of objects, the objects objects, and no key anywhere starts with `$` or
    holds a `.`: criteria, council and quotas are stored as given, and the store refuses such keys
    (a 500 otherwise), or reads them as operators and paths."""
    if not isinstance(content, dict):
        raise Invalid("content", "Cần một đối tượng / an object is expected")
    for name in ("titles", "base_salaries"):
        items = content.get(name)
        if items is not None and (not isinstance(items, list) or not all(isinstance(x, dict) for x in items)):
            raise Invalid(name, "Cần một danh sách đối tượng / a list of objects is expected")
    for i, title in enumerate(content.get("titles") or ()):
        rules = title.get("criteria")
        if rules is not None and (not isinstance(rules, list) or not all(isinstance(x, dict) for x in rules)):
            raise Invalid(f"titles.{i}.criteria", "Cần một danh sách đối tượng / a list of objects is expected")
    for name in ("council", "quotas"):
        if content.get(name) is not None and not isinstance(content[name], dict):
            raise Invalid(name, "Cần một đối tượng / an object is expected")

    def keys(value: Any, at: str) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if not isinstance(key, str) or not key or key.startswith("$") or "." in key:
                    raise Invalid(at or "content", f"Tên trường không hợp lệ {key!r} (không rỗng, không bắt đầu bằng $, không chứa .) / invalid key {key!r}")
                keys(inner, f"{at}.{key}" if at else key)
        elif isinstance(value, list):
            for n, inner in enumerate(value):
                keys(inner, f"{at}.{n}")

    keys(content, "")


def parse(content: dict[str, Any]) -> Catalogue:
    """Validate a catalogue's content; 422 naming the offending field (e.g. `titles.3.coefficient`)."""
    _check_shape(content)
    titles, codes = [], set()
    for i, raw in enumerate(content.get("titles") or ()):
        at = f"titles.{i}"
        code = raw.get("code") or ""
        if not code or code in codes:
            raise Invalid(f"{at}.code", f"Mã trống hoặc trùng / empty or duplicate code {code!r}")
        codes.add(code)
        for name, allowed in (("kind", KINDS), ("subject", SUBJECTS), ("award_type", AWARD_TYPES), ("conferred_by", CONFERRERS)):
            if raw.get(name) not in allowed:
                raise Invalid(f"{at}.{name}", f"Giá trị không hợp lệ / must be one of: {', '.join(allowed)}")
        for j, rule in enumerate(raw.get("criteria") or ()):
            params = RULE_KINDS.get(rule.get("kind"))
            if params is None:
                raise Invalid(f"{at}.criteria.{j}.kind", f"Loại tiêu chí không hợp lệ / criterion kind must be one of: {', '.join(RULE_KINDS)}")
            missing = [p for p in params if rule.get(p) in (None, "")]
            if missing:
                raise Invalid(f"{at}.criteria.{j}.{missing[0]}", "Thiếu tham số của tiêu chí / the criterion needs this parameter")
            if rule["kind"] == "performance_at_least" and rule["rating"] not in RATINGS:
                raise Invalid(f"{at}.criteria.{j}.rating", f"Một trong / one of: {', '.join(RATINGS)}")
        coefficient = raw.get("coefficient")
        threshold = raw.get("threshold")
        titles.append(
            Title(
                code=code,
                name=raw.get("name") or code,
                kind=raw["kind"],
                subject=raw["subject"],
                award_type=raw["award_type"],
                conferred_by=raw["conferred_by"],
                coefficient=None if coefficient is None else _decimal(coefficient, f"{at}.coefficient", Decimal(0), Decimal(100)),
                ballot=bool(raw.get("ballot")),
                threshold=None if threshold is None else _decimal(threshold, f"{at}.threshold", Decimal("0.5"), Decimal(1)),
                counts_toward_merit=bool(raw.get("counts_toward_merit", True)),
                criteria=tuple(raw.get("criteria") or ()),
            )
        )
    for i, t in enumerate(titles):  # a rule that names another title must name one of this catalogue
        for j, rule in enumerate(t.criteria):
            if rule.get("title") and rule["title"] not in codes:
                raise Invalid(f"titles.{i}.criteria.{j}.title", f"Không có danh hiệu {rule['title']!r} trong danh mục / no title {rule['title']!r} in this catalogue")
    salaries = []
    for i, raw in enumerate(content.get("base_salaries") or ()):
        try:
            since = date.fromisoformat(raw["since"])
        except (KeyError, TypeError, ValueError):
            raise Invalid(f"base_salaries.{i}.since", "Ngày không hợp lệ (YYYY-MM-DD) / not a date (YYYY-MM-DD)") from None
        if not isinstance(raw.get("amount"), int) or raw["amount"] <= 0:
            raise Invalid(f"base_salaries.{i}.amount", "Mức lương cơ sở là số nguyên đồng dương / the base salary is a positive whole number of đồng")
        salaries.append(BaseSalary(since, raw["amount"]))
    if len({s.since for s in salaries}) != len(salaries):
        raise Invalid("base_salaries", "Hai mức lương cơ sở cùng ngày / two base salaries start on the same day")
    council = dict(content.get("council") or {})
    for name in ("quorum_share", "award_session_present_share"):
        if name in council:
            council[name] = str(_decimal(council[name], f"council.{name}", Decimal("0.5"), Decimal(1)))
    quotas = {"enabled": False, "rules": []} | dict(content.get("quotas") or {})
    return Catalogue(tuple(titles), tuple(sorted(salaries, key=lambda s: s.since)), council, quotas)
