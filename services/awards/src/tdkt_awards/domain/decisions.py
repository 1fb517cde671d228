"""Award decisions (quyết định khen thưởng): the awardees and their bonus, computed from the
catalogue in force on the decision date; immutable once issued; revoked only by a new act.

Bonus per awardee: coefficient × the base salary in force on the decision date, rounded up to
the next 10,000 đ, households × 1.5 (`domain.bonus`). The same person (or unit) with several
titles for the same period is paid the highest only; the others are listed with 0 đ and say why.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from tdkt.errors import Conflict, Invalid

from tdkt_awards.domain import bonus
from tdkt_awards.domain.catalogue import Catalogue

STATES = ("draft", "issued")


def price(catalogue: Catalogue, decision_date: date, awardees: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The awardees with their title's name, coefficient and amount (integers, đồng)."""
    salary = bonus.base_salary_on(decision_date, list(catalogue.base_salaries))
    priced = []
    for i, awardee in enumerate(awardees):
        title = catalogue.title(awardee["title_code"]) if awardee.get("title_code") else None
        if title is None:
            raise Invalid(f"awardees.{i}.title_code", "Cần mã danh hiệu/hình thức / a title or form code is required")
        if title.subject != awardee["subject"] and not (title.subject == "individual" and awardee["subject"] == "household"):
            raise Invalid(f"awardees.{i}.subject", f"{title.name} dành cho {title.subject}, không cho {awardee['subject']} / {title.code} is for a {title.subject}")
        money = 0 if title.coefficient is None else bonus.amount(title.coefficient, salary.amount, household=awardee["subject"] == "household")
        priced.append(
            {**awardee, "title_name": title.name, "coefficient": None if title.coefficient is None else str(title.coefficient), "amount": money, "note": awardee.get("note")}
        )
    _highest_only(priced)
    return priced


def _highest_only(priced: list[dict[str, Any]]) -> None:
    """Several titles for the same person or unit in the same period: only the highest is paid."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for awardee in priced:
        key = (awardee.get("person_key") or f"{awardee['subject']}:{awardee['name'].casefold()}:{awardee.get('unit_id') or ''}", awardee.get("period") or "")
        groups.setdefault(key, []).append(awardee)
    for members in groups.values():
        if len(members) > 1:
            paid = max(members, key=lambda a: a["amount"])
            for awardee in members:
                if awardee is not paid and awardee["amount"]:
                    awardee["amount"] = 0
                    awardee["note"] = f"Chỉ nhận mức thưởng cao nhất ({paid['title_name']}) / only the highest award of the period is paid"


def totals(priced: list[dict[str, Any]]) -> dict[str, Any]:
    individuals = [a for a in priced if a["subject"] == "individual"]
    direct = [a for a in individuals if a.get("direct_worker")]
    return {
        "awardees": len(priced),
        "total_amount": sum(a["amount"] for a in priced),
        "individuals": len(individuals),
        "direct_workers": len(direct),
        "direct_worker_share": round(len(direct) / len(individuals), 4) if individuals else None,
    }


def check_editable(state: str) -> None:
    if state != "draft":
        raise Conflict("Quyết định đã ban hành: không sửa được; chỉ có thể thu hồi bằng một quyết định mới / an issued decision cannot change; it can only be revoked by a new act")


def revocation(priced: list[dict[str, Any]], awardee_ids: list[str] | None, already: set[str]) -> tuple[list[dict[str, Any]], int]:
    """The awardees a revocation takes back (all when none named) and the money to recover."""
    by_id = {a["awardee_id"]: a for a in priced}
    wanted = awardee_ids or list(by_id)
    for i, awardee_id in enumerate(wanted):
        if awardee_id not in by_id:
            raise Invalid(f"awardee_ids.{i}", f"Không có người/tập thể {awardee_id} trong quyết định / no awardee {awardee_id} in this decision")
        if awardee_id in already:
            raise Conflict(f"Khen thưởng của {by_id[awardee_id]['name']} đã bị thu hồi / that award was revoked already", awardee_id=awardee_id)
    taken = [by_id[i] for i in wanted]
    return taken, sum(a["amount"] for a in taken)
