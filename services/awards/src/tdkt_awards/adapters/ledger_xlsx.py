"""The bonus ledger as an Excel workbook for the finance office: one sheet of totals per grouping
(decision, movement, unit, year) and one sheet of every entry, Vietnamese headers.

Amounts are written as integers (whole đồng) with a thousands format, so the office can sum and
filter them; nothing is a formula. Every text cell goes through `tdkt.exports.safe`: a name typed
as `=HYPERLINK(…)` is shown as text, never run.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from tdkt.exports import dmy, safe

MONEY = "#,##0"
FONT = "Times New Roman"
TITLE = "SỔ THEO DÕI TIỀN THƯỞNG THI ĐUA, KHEN THƯỞNG"
SHEETS = {"decision": ("Theo quyết định", "Quyết định"), "movement": ("Theo phong trào", "Phong trào"), "unit": ("Theo đơn vị", "Đơn vị"), "year": ("Theo năm", "Năm")}
TOTAL_HEADERS = ["STT", None, "Mã", "Số lượt khen thưởng", "Tiền thưởng (đồng)", "Thu hồi (đồng)", "Còn lại (đồng)"]
ENTRY_HEADERS = [
    "STT",
    "Số, ký hiệu quyết định",
    "Ngày quyết định",
    "Cơ quan ban hành",
    "Năm",
    "Phong trào",
    "Mã đơn vị",
    "Đơn vị",
    "Cá nhân, tập thể",
    "Đối tượng",
    "Danh hiệu, hình thức",
    "Nghiệp vụ",
    "Số tiền (đồng)",
    "Mã thu hồi",
]
SUBJECTS = {"individual": "Cá nhân", "collective": "Tập thể", "household": "Hộ gia đình"}
KINDS = {"issue": "Khen thưởng", "revoke": "Thu hồi"}
FILTER_NAMES = {"year": "Năm", "unit_id": "Đơn vị", "movement_id": "Phong trào", "decision_id": "Quyết định"}


def _row(ws: Worksheet, values: Iterable[Any], money_from: int | None = None, bold: bool = False) -> None:
    """Append a row; text made safe, amounts (columns from `money_from`, 1-based) as integers."""
    ws.append([safe(v) for v in values])
    for cell in ws[ws.max_row]:
        cell.font = Font(name=FONT, size=11, bold=bold)
        if money_from is not None and cell.column >= money_from and isinstance(cell.value, int):
            cell.number_format = MONEY


def _heading(ws: Worksheet, filters: dict[str, Any], as_of: date, headers: list[str], widths: list[int]) -> None:
    shown = "; ".join(f"{FILTER_NAMES[k]}: {filters[k]}" for k in FILTER_NAMES if filters.get(k) is not None) or "Tất cả"
    _row(ws, [TITLE], bold=True)
    _row(ws, [f"Phạm vi: {shown}. Lập ngày {dmy(as_of)}."])
    ws.append([])
    _row(ws, headers, bold=True)
    for cell in ws[ws.max_row]:
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for i, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = f"A{ws.max_row + 1}"


def _totals_sheet(wb: Workbook, group_by: str, rows: list[dict[str, Any]], filters: dict[str, Any], as_of: date) -> None:
    name, label = SHEETS[group_by]
    ws = wb.create_sheet(name)
    _heading(ws, filters, as_of, [label if h is None else h for h in TOTAL_HEADERS], [6, 48, 20, 14, 18, 18, 18])
    for i, r in enumerate(rows, 1):
        _row(ws, [i, r["label"], r["key"] or "", r["awardees"], r["awarded"], r["recovered"], r["net"]], money_from=5)
    _row(ws, [None, "Tổng cộng", None, *(sum(r[k] for r in rows) for k in ("awardees", "awarded", "recovered", "net"))], money_from=5, bold=True)


def _entries_sheet(wb: Workbook, entries: list[dict[str, Any]], filters: dict[str, Any], as_of: date) -> None:
    ws = wb.create_sheet("Chi tiết")
    _heading(ws, filters, as_of, ENTRY_HEADERS, [6, 16, 14, 30, 8, 20, 14, 30, 30, 12, 30, 13, 16, 20])
    for i, e in enumerate(entries, 1):
        values = [i, e["reference"], dmy(e["decision_date"]), e["issuer"], e["year"], e.get("movement_id") or "", e.get("unit_id") or "", e.get("unit_name") or ""]
        values += [e["name"], SUBJECTS.get(e["subject"], e["subject"]), e.get("title_name") or e["title_code"], KINDS[e["kind"]], e["amount"], e.get("revocation_id") or ""]
        _row(ws, values, money_from=13)
    _row(ws, [None, "Tổng cộng", *[None] * 10, sum(e["amount"] for e in entries)], money_from=13, bold=True)


def render_ledger(entries: list[dict[str, Any]], totals: dict[str, list[dict[str, Any]]], filters: dict[str, Any], as_of: date) -> bytes:
    """`totals`: the rows of each grouping (`service_layer.ledger.totals`), in sheet order."""
    wb = Workbook()
    wb.remove(wb.active)
    for group_by, rows in totals.items():
        _totals_sheet(wb, group_by, rows, filters, as_of)
    _entries_sheet(wb, entries, filters, as_of)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
