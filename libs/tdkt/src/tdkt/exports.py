"""What every service's file exports (Excel, CSV) need, whatever their layout.

Text a user typed (a unit's, a movement's, a person's name) may start with `=`, `+`, `-` or `@`,
which a spreadsheet would run as a formula (`=HYPERLINK(…)` sends a click elsewhere): every such
text is written with a leading `'`, so it is shown as typed and never evaluated. Dates are
dd/mm/yyyy, as Vietnamese offices write them.

No spreadsheet library here: the layouts (and openpyxl) belong to the services that export.
"""

from __future__ import annotations

from datetime import date
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # the last two as OWASP advises for CSV


def safe(value: Any) -> Any:
    """A cell's value with formula injection neutralised; numbers, dates and None unchanged."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def dmy(iso: str | date | None) -> str:
    if not iso:
        return ""
    return (iso if isinstance(iso, date) else date.fromisoformat(iso)).strftime("%d/%m/%Y")
