"""Bonus money (Decree 152/2025 Art 49–54): coefficient × the base salary in force on the
decision date, rounded up to the next 10,000 đ; households get 1.5 × the individual amount; for
several titles in the same period only the highest is paid. Money is whole đồng: Decimal in,
int out, never a float."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal

from tdkt.errors import Invalid

ROUND_TO = 10_000
HOUSEHOLD_FACTOR = Decimal("1.5")


def round_up(amount: Decimal) -> int:
    return int((amount / ROUND_TO).to_integral_value(rounding=ROUND_CEILING)) * ROUND_TO


def amount(coefficient: Decimal | str, base_salary: int, household: bool = False) -> int:
    """`amount("0.3", 2_530_000)` → 760,000 (759,000 rounded up)."""
    individual = round_up(Decimal(str(coefficient)) * base_salary)
    return round_up(individual * HOUSEHOLD_FACTOR) if household else individual


@dataclass(frozen=True)
class BaseSalary:
    since: date
    amount: int


def base_salary_on(day: date, table: list[BaseSalary]) -> BaseSalary:
    """The base salary in force on `day` (the latest `since` not after it)."""
    in_force = [s for s in table if s.since <= day]
    if not in_force:
        raise Invalid("date", f"Không có mức lương cơ sở áp dụng cho ngày {day:%d/%m/%Y} / no base salary is in force on {day}")
    return max(in_force, key=lambda s: s.since)


def highest_only(amounts: dict[str, int]) -> tuple[str, int]:
    """Several titles in the same period: only the highest is paid (title code, amount)."""
    if not amounts:
        raise ValueError("no amounts")
    return max(amounts.items(), key=lambda item: item[1])
