"""A movement's figures as files: an Excel workbook in the layout a Vietnamese office files and
signs (title block, the period, one row per unit with the criteria as columns grouped by content
area, totals, signature block; Times New Roman, A4 landscape), and a CSV for other programs.

Text a user typed (unit, movement, criterion and cluster names) may start with `=`, `+`, `-` or
`@`, which a spreadsheet would run as a formula (`=HYPERLINK(…)` sends a click elsewhere): every
such text gets a leading `'` in both files (`tdkt.exports.safe`, shared with the other services'
exports). Dates are dd/mm/yyyy.

The workbook is written in openpyxl's write-only mode (rows streamed, about half the time of the
normal mode for 3,000 rows); styles are named once per workbook and referred to by name.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from tdkt.exports import dmy, safe
from tdkt.text import fold

FONT = "Times New Roman"


@dataclass(frozen=True)
class Sheet:
    """What both files show: rows in the order printed, their totals, the day the figures are of."""

    movement: dict[str, Any]
    rows: list[dict[str, Any]]
    totals: dict[str, Any]
    as_of: date
    cluster: dict[str, Any] | None = None

    def columns(self) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
        """Criteria grouped by content area, in the movement's order (unknown areas last)."""
        areas = [*self.movement["content_areas"], {"key": None, "title": "Khác"}]
        known = {a["key"] for a in areas}
        groups = [(a, [c for c in self.movement["criteria"] if (c.get("area") if c.get("area") in known else None) == a["key"]]) for a in areas]
        return [(a, cs) for a, cs in groups if cs]


def _shown(value: Any) -> Any:
    if isinstance(value, bool):
        return "Có" if value else "Không"
    return safe(value)


def _total(criterion: dict[str, Any], figures: dict[str, Any]) -> Any:
    """A percentage is averaged, a yes/no counted, anything else summed."""
    kind = criterion.get("value_type", "number")
    return figures["average_value"] if kind == "percent" else figures["total_value"]


def _authority(name: str | None) -> str:
    """The organiser under "ỦY BAN NHÂN DÂN", without saying it twice: `UBND huyện X` → `HUYỆN X`."""
    name = (name or "").strip()
    for prefix in ("ubnd ", "uy ban nhan dan "):
        if fold(name).startswith(prefix):
            name = name[len(prefix) :]
    return name.upper()


# ---- Excel ----

THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
STYLES = {
    "t_bold": dict(font=Font(name=FONT, size=12, bold=True), alignment=Alignment(horizontal="center", vertical="center")),
    "t_motto": dict(font=Font(name=FONT, size=13, bold=True, underline="single"), alignment=Alignment(horizontal="center")),
    "t_plain": dict(font=Font(name=FONT, size=12), alignment=Alignment(horizontal="center", vertical="center", wrap_text=True)),
    "t_italic": dict(font=Font(name=FONT, size=12, italic=True), alignment=Alignment(horizontal="center")),
    "t_title": dict(font=Font(name=FONT, size=14, bold=True), alignment=Alignment(horizontal="center", vertical="center", wrap_text=True)),
    "t_left": dict(font=Font(name=FONT, size=12, italic=True), alignment=Alignment(horizontal="left")),
    "t_head": dict(
        font=Font(name=FONT, size=11, bold=True),
        border=BOX,
        alignment=Alignment(horizontal="center", vertical="center", wrap_text=True),
        fill=PatternFill("solid", fgColor="F2F2F2"),
    ),
    "t_num": dict(font=Font(name=FONT, size=10, italic=True), border=BOX, alignment=Alignment(horizontal="center")),
    "t_text": dict(font=Font(name=FONT, size=11), border=BOX, alignment=Alignment(vertical="center", wrap_text=True)),
    "t_center": dict(font=Font(name=FONT, size=11), border=BOX, alignment=Alignment(horizontal="center", vertical="center")),
    "t_value": dict(font=Font(name=FONT, size=11), border=BOX, alignment=Alignment(horizontal="right", vertical="center")),
    "t_score": dict(font=Font(name=FONT, size=11), border=BOX, alignment=Alignment(horizontal="right", vertical="center"), number_format="0.00"),
    "t_total": dict(font=Font(name=FONT, size=11, bold=True), border=BOX, alignment=Alignment(horizontal="right", vertical="center", wrap_text=True), number_format="#,##0.##"),
}


def to_xlsx(sheet: Sheet) -> bytes:
    wb = Workbook(write_only=True)
    for name, spec in STYLES.items():
        wb.add_named_style(NamedStyle(name=name, **spec))
    ws = wb.create_sheet("Tổng hợp")
    groups = sheet.columns()
    criteria = [c for _a, cs in groups for c in cs]
    width = 2 + len(criteria) + 3
    right = max(3, width - 3)  # the right-hand half of the title block; the left one is A:B
    written = [0]  # rows so far (write-only: rows are appended in order)
    top = 10 + bool(sheet.cluster)  # the first header row, under the title block
    # Write-only mode writes the widths and the frozen panes with the first row: set them first.
    for c, w in {1: 6, 2: 34, **{k: 14 for k in range(3, width - 2)}, width - 2: 10, width - 1: 9, width: 11}.items():
        ws.column_dimensions[get_column_letter(c)].width = w
    ws.freeze_panes = f"C{top + 4}"

    def cell(value: Any, style: str) -> WriteOnlyCell:
        c = WriteOnlyCell(ws, value=safe(value))
        c.style = style
        return c

    def merge(first_col: int, last_col: int, first_row: int, last_row: int | None = None) -> None:
        ws.merged_cells.add(f"{get_column_letter(first_col)}{first_row}:{get_column_letter(last_col)}{last_row or first_row}")

    def put(cells: list[Any]) -> int:
        ws.append(cells)
        written[0] += 1
        return written[0]

    def line(left: tuple[Any, str] | None = None, other: tuple[Any, str] | None = None, span: bool = False) -> None:
        cells: list[Any] = [cell(*left) if left else None]
        if other:
            cells += [None] * (right - 2) + [cell(*other)]
        row = put(cells)
        if left:
            merge(1, width if span else 2, row)
        if other:
            merge(right, width, row)

    movement = sheet.movement
    line(("ỦY BAN NHÂN DÂN", "t_plain"), ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "t_bold"))
    line((_authority(movement.get("organiser_name")) or "……………………", "t_bold"), ("Độc lập – Tự do – Hạnh phúc", "t_motto"))
    line(None, (f"……, ngày {sheet.as_of:%d} tháng {sheet.as_of:%m} năm {sheet.as_of:%Y}", "t_italic"))
    line()
    line(("BẢNG TỔNG HỢP KẾT QUẢ THỰC HIỆN PHONG TRÀO THI ĐUA", "t_title"), span=True)
    line((movement.get("title") or "", "t_title"), span=True)
    line((f"Thời gian: {dmy(movement.get('period_start'))} – {dmy(movement.get('period_end'))}", "t_plain"), span=True)
    if sheet.cluster:
        line((f"{'Khối' if sheet.cluster.get('kind') == 'block' else 'Cụm'} thi đua: {sheet.cluster.get('name')}", "t_plain"), span=True)
    line((f"Tính đến ngày {dmy(sheet.as_of)}", "t_italic"), span=True)
    line()

    # Four header rows: content areas, criteria, unit of measure and target, column numbers.
    assert written[0] + 1 == top, "the title block changed: move `top`"

    def blank(n: int) -> list[WriteOnlyCell]:
        return [cell(None, "t_head") for _ in range(n)]  # borders under merged headers

    heads: list[list[Any]] = [[cell("STT", "t_head"), cell("Đơn vị", "t_head")], blank(2), blank(2)]
    col = 3
    for area, cs in groups:
        heads[0] += [cell(area.get("title"), "t_head"), *blank(len(cs) - 1)]
        if len(cs) > 1:
            merge(col, col + len(cs) - 1, top)
        for c in cs:
            target = "" if c.get("target") is None else f"\nChỉ tiêu: {_shown(c['target'])}"
            heads[1].append(cell(c.get("name"), "t_head"))
            heads[2].append(cell(f"ĐVT: {c.get('unit_of_measure') or ''}{target}", "t_head"))
        col += len(cs)
    heads[0] += [cell(t, "t_head") for t in ("Điểm (%)", "Xếp hạng", "Đúng hạn (%)")]
    heads[1] += blank(3)
    heads[2] += blank(3)
    for c in (1, 2, width - 2, width - 1, width):
        merge(c, c, top, top + 2)
    for h in heads:
        put(h)
    put([cell(f"({i})", "t_num") for i in range(1, width + 1)])
    ws.row_dimensions[top + 1].height = 48
    ws.row_dimensions[top + 2].height = 32

    rank_field = "cluster_rank" if sheet.cluster else "rank"
    for i, r in enumerate(sheet.rows, 1):
        values = [cell(_shown(r["criteria"][c["key"]]["value"]), "t_value") for c in criteria]
        put([cell(i, "t_center"), cell(r["name"], "t_text"), *values, cell(r.get("score"), "t_score"), cell(r.get(rank_field), "t_center"), cell(r.get("punctuality"), "t_score")])
    t = sheet.totals
    sums = [cell(_total(c, t["criteria"][c["key"]]), "t_total") for c in criteria]
    put(
        [
            cell(None, "t_total"),
            cell(f"Tổng cộng / bình quân ({t['units']} đơn vị)", "t_total"),
            *sums,
            cell(t["average_score"], "t_total"),
            cell(None, "t_total"),
            cell(t["average_punctuality"], "t_total"),
        ]
    )
    line((f"Đã báo cáo: {t['reported']} đơn vị; có báo cáo được chấp nhận: {t['accepted']}; có báo cáo nộp muộn: {t['late']}.", "t_left"), span=True)
    line()
    line(("NGƯỜI LẬP BIỂU", "t_bold"), ("THỦ TRƯỞNG ĐƠN VỊ", "t_bold"))
    line(("(Ký, ghi rõ họ tên)", "t_italic"), ("(Ký, ghi rõ họ tên)", "t_italic"))

    ws.print_title_rows = f"{top}:{top + 3}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ---- CSV ----


def to_csv(sheet: Sheet) -> bytes:
    """One header row, one row per unit; UTF-8 with a BOM, so Excel shows the diacritics."""
    criteria = [c for _a, cs in sheet.columns() for c in cs]
    rank_field = "cluster_rank" if sheet.cluster else "rank"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        ["STT", "Mã đơn vị", "Đơn vị", *(safe(f"{c.get('name')} ({c.get('unit_of_measure') or ''})") for c in criteria)]
        + ["Điểm (%)", "Điểm theo chỉ tiêu đăng ký (%)", "Xếp hạng", "Đúng hạn (%)", "Kỳ nộp muộn", "Tính đến ngày"]
    )
    as_of = dmy(sheet.as_of)
    for i, r in enumerate(sheet.rows, 1):
        values = ["" if r["criteria"][c["key"]]["value"] is None else _shown(r["criteria"][c["key"]]["value"]) for c in criteria]
        optional = ["" if r.get(k) is None else r[k] for k in ("score", "score_registered", rank_field, "punctuality")]
        writer.writerow([i, safe(r.get("code") or ""), safe(r["name"]), *values, *optional, r["late"], as_of])
    return out.getvalue().encode("utf-8-sig")
