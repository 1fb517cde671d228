"""Working days in Vietnam: weekends and public holidays (the `holidays` package's Vietnam
calendar, Tết included) are not counted; deadlines such as "appraisal within 20 working days"
and "returned within 5 working days" are counted with it. Extra days off and make-up working
Saturdays that the Government announces each year are data (`extra_days_off`, `extra_working_days`)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("VN", years=[year]).keys())


def is_working_day(day: date, extra_days_off: frozenset[date] = frozenset(), extra_working_days: frozenset[date] = frozenset()) -> bool:
    if day in extra_working_days:
        return True
    return day.weekday() < 5 and day not in _holidays(day.year) and day not in extra_days_off


def add_working_days(start: date, days: int, **extra) -> date:
    """The date `days` working days after `start` (the day of receipt does not count)."""
    day, counted = start, 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day, **extra):
            counted += 1
    return day


def working_days_between(start: date, end: date, **extra) -> int:
    """Working days after `start` up to and including `end` (0 when end ≤ start)."""
    day, counted = start, 0
    while day < end:
        day += timedelta(days=1)
        counted += is_working_day(day, **extra)
    return counted
