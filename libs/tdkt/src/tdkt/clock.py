"""The platform's calendar: dates are Vietnamese dates (Asia/Ho_Chi_Minh), whatever the server's zone.

A deadline "by 25/10" means the end of 25/10 in Vietnam; a server in UTC would otherwise turn
the page seven hours late.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def local_today() -> date:
    return datetime.now(TIMEZONE).date()
