"""What every service's file exports (Excel, CSV) need, whatever their layout.

Text a user typed (a unit's, a movement's, a person's name) may start with `=`, `+`, `-` or `@`,
which a spreadsheet would run as a formula (`=HYPERLINK(…)` sends a click elsewhere): every such
text is written with a leading `'`, so it is shown as typed and never evaluated. Dates are
dd/mm/yyyy, as Vietnamese offices write them. Control characters an XML cell cannot hold (all
below U+0020 but tab, newline and carriage return) are dropped: openpyxl refuses them, and one
typed into a name or a filter would otherwise fail the whole export with a 500.

No spreadsheet library here: the layouts (and openpyxl) belong to the services that export.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # the last two as OWASP advises for CSV
NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # the same set as openpyxl's ILLEGAL_CHARACTERS_RE


def safe(value: Any) -> Any:
    """A cell's value with formula injection neutralised and the characters no cell can hold
    dropped; numbers, dates and None unchanged."""
    if not isinstance(value, str):
        return value
    value = NOT_IN_XML.sub("", value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def dmy(iso: str | date | None) -> str:
    if not iso:
        return ""
    return (iso if isinstance(iso, date) else date.fromisoformat(iso)).strftime("%d/%m/%Y")
