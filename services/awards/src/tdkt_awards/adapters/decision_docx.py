"""An award decision (quyết định khen thưởng) as a .docx, laid out as Nghị định 30/2020/NĐ-CP asks.

`render_decision(decision) -> bytes`. A4 portrait, margins 2 cm top/bottom, 3 cm left, 2 cm right,
Times New Roman (13–14 pt; the national name 12 pt and the "Nơi nhận" block 12/11 pt, as the decree allows). Every string from
the input is written as plain text: nothing is evaluated, and characters XML cannot carry are
dropped rather than failing the whole document. Money is written with dots between thousands.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph

FONT = "Times New Roman"
BODY_PT = 14
HEADER_PT = 13
MOTTO_PT = 12  # the national name: NĐ 30 allows 12–13 pt, and at 13 pt bold it does not fit on one line
TABLE_PT = 13
TEXT_WIDTH_CM = 21.0 - 3.0 - 2.0

SUBJECT_WORDS = {"collective": "tập thể", "individual": "cá nhân", "household": "hộ gia đình"}

# Characters XML 1.0 cannot hold (control characters other than tab/newline/CR, surrogates, U+FFFE/F).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def render_decision(decision: dict[str, Any]) -> bytes:
    """The decision as the bytes of a .docx file."""
    d = _Decision(decision)
    doc = Document()
    _page_and_fonts(doc)
    _header(doc, d)
    _title(doc, d)
    _preamble(doc, d)
    _articles(doc, d)
    _signature(doc, d)
    _annex(doc, d)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def money(amount: int) -> str:
    """1234000 -> '1.234.000' (Vietnamese thousands separator)."""
    return f"{amount:,}".replace(",", ".")


def date_words(value: date) -> str:
    """'ngày 05 tháng 3 năm 2024': days below 10 and months 1 and 2 get a leading 0 (NĐ 30/2020)."""
    month = f"{value.month:02d}" if value.month <= 2 else str(value.month)
    return f"ngày {value.day:02d} tháng {month} năm {value.year}"


class _Decision:
    """The input, checked and normalised once."""

    def __init__(self, raw: dict[str, Any]):
        self.number = _int(raw.get("number"), "number")
        self.symbol = _clean(raw.get("symbol") or "QĐ-UBND")
        self.issuer = _clean(raw["issuer_name"])
        self.place = _clean(raw["place"])
        self.date = _parse_date(raw["date"])
        self.subject = _clean(raw["subject"])
        self.legal_bases = [_clean(b) for b in raw.get("legal_bases") or []]
        self.proposed_by = _clean(raw.get("proposed_by") or "")
        self.funding_source = _clean(raw.get("funding_source") or "")
        self.recipients = [_clean(r) for r in raw.get("recipients") or []]
        self.signer_title = _clean(raw.get("signer_title") or "CHỦ TỊCH")
        self.signed_by = _clean(raw.get("signed_by") or "")
        self.awardees = [self._awardee(i, a) for i, a in enumerate(raw.get("awardees") or [])]
        total = sum(a["amount"] for a in self.awardees)
        self.total_amount = _int(raw.get("total_amount", total), "total_amount")
        if self.total_amount != total:
            raise ValueError(f"total_amount {self.total_amount} is not the sum of the awardees' amounts ({total})")

    @staticmethod
    def _awardee(i: int, raw: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": _clean(raw.get("name") or ""),
            "position": _clean(raw.get("position") or ""),
            "unit_name": _clean(raw.get("unit_name") or ""),
            "title_name": _clean(raw.get("title_name") or ""),
            "amount": _int(raw.get("amount") or 0, f"awardees.{i}.amount"),
            "subject": raw.get("subject") or "individual",
        }

    @property
    def number_line(self) -> str:
        return f"Số: {self.number:02d}/{self.symbol}"

    @property
    def issuer_upper(self) -> str:
        return self.issuer.upper()

    @property
    def reference(self) -> str:
        """'số 12/QĐ-UBND ngày 05 tháng 3 năm 2024', as the annex and other acts cite this one."""
        return f"số {self.number:02d}/{self.symbol} {date_words(self.date)}"


def _int(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{field} must be a non-negative integer, not {value!r}")
    return value


def _clean(value: Any) -> str:
    return _NOT_XML.sub("", str(value)).strip()


def _parse_date(value: Any) -> date:
    if isinstance(value, date):
        return value if type(value) is date else value.date()
    return date.fromisoformat(str(value)[:10])


# Elements that follow w:pBdr in w:pPr (ECMA-376 CT_PPrBase order), so the border goes before them.
_PPR_AFTER_PBDR = tuple(
    f"w:{tag}"
    for tag in (
        "shd tabs suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE autoSpaceDN bidi adjustRightInd snapToGrid "
        "spacing ind contextualSpacing mirrorIndents suppressOverlap jc textDirection textAlignment textboxTightWrap outlineLvl divId cnfStyle "
        "rPr sectPr pPrChange"
    ).split()
)


# --- layout helpers -------------------------------------------------------------------------


def _page_and_fonts(doc: Any) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin = section.bottom_margin = Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(2)
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(BODY_PT)
    rfonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), FONT)
    fmt = normal.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.line_spacing = 1.0
    doc.core_properties.language = "vi-VN"


def _para(container: Any, text: str = "", *, bold: bool = False, italic: bool = False, size: int | None = None, align: Any = WD_ALIGN_PARAGRAPH.CENTER) -> Paragraph:
    """A paragraph holding `text` as one run; in a fresh table cell the empty first paragraph is reused."""
    paragraphs = getattr(container, "paragraphs", None)
    if hasattr(container, "_tc") and len(paragraphs) == 1 and not paragraphs[0].text and not paragraphs[0].runs:
        p = paragraphs[0]
    else:
        p = container.add_paragraph()
    p.alignment = align
    if text:
        _run(p, text, bold=bold, italic=italic, size=size)
    return p


def _run(p: Paragraph, text: str, *, bold: bool = False, italic: bool = False, size: int | None = None) -> None:
    run = p.add_run(text)
    run.bold, run.italic = bold or None, italic or None
    if size:
        run.font.size = Pt(size)


def _body(doc: Any, text: str = "", *, italic: bool = False, lead: str | None = None) -> Paragraph:
    """A justified body paragraph with a first-line indent; `lead` (e.g. 'Điều 1.') is bold."""
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    fmt = p.paragraph_format
    fmt.first_line_indent = Cm(1)
    fmt.space_before, fmt.space_after = Pt(6), Pt(0)
    if lead:
        _run(p, lead + " ", bold=True)
    _run(p, text, italic=italic)
    return p


def _short_rule(cell: Any, width_cm: float, rule_cm: float) -> None:
    """A short horizontal line centred in a header cell."""
    p = cell.add_paragraph()
    p.paragraph_format.space_after = Pt(6)
    _rule_under(p, width_cm, rule_cm)


def _rule_under(p: Paragraph, width_cm: float, rule_cm: float) -> None:
    """Turn an empty paragraph into a short centred line: a bottom border between wide indents."""
    side = max((width_cm - rule_cm) / 2, 0)
    p.paragraph_format.left_indent = p.paragraph_format.right_indent = Cm(side)
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    p._p.get_or_add_pPr().insert_element_before(borders, *_PPR_AFTER_PBDR)


def _table(doc: Any, rows: int, widths_cm: Iterable[float], *, borders: bool) -> Table:
    widths = list(widths_cm)
    table = doc.add_table(rows=rows, cols=len(widths))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    if borders:
        table.style = doc.styles["Table Grid"]
    else:
        _no_borders(table)
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = Cm(width)
    grid = table._tbl.tblGrid
    for col, width in zip(grid.findall(qn("w:gridCol")), widths, strict=True):
        col.set(qn("w:w"), str(int(Cm(width).twips)))
    return table


def _no_borders(table: Table) -> None:
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    tbl_pr.insert_element_before(borders, "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription", "w:tblPrChange")


# --- the parts of the decision -------------------------------------------------------------

LEFT_CM, RIGHT_CM = 5.5, TEXT_WIDTH_CM - 5.5


def _header(doc: Any, d: _Decision) -> None:
    table = _table(doc, 1, (LEFT_CM, RIGHT_CM), borders=False)
    left, right = table.rows[0].cells
    _para(left, "ỦY BAN NHÂN DÂN", bold=True, size=HEADER_PT)
    _para(left, d.issuer_upper, bold=True, size=HEADER_PT)
    _short_rule(left, LEFT_CM, 2.0)
    _para(left, d.number_line, size=HEADER_PT)
    _para(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True, size=MOTTO_PT)
    _para(right, "Độc lập - Tự do - Hạnh phúc", bold=True, size=BODY_PT)
    _short_rule(right, RIGHT_CM, 5.5)
    _para(right, f"{d.place}, {date_words(d.date)}", italic=True, size=BODY_PT)


def _title(doc: Any, d: _Decision) -> None:
    p = _para(doc, "QUYẾT ĐỊNH", bold=True)
    p.paragraph_format.space_before = Pt(18)
    subject = d.subject if d.subject.casefold().startswith("về việc") else f"Về việc {d.subject}"
    _para(doc, subject, bold=True)
    p = _para(doc, "")
    p.paragraph_format.space_after = Pt(6)
    _rule_under(p, TEXT_WIDTH_CM, 4.0)
    p = _para(doc, f"CHỦ TỊCH ỦY BAN NHÂN DÂN {d.issuer_upper}", bold=True)
    p.paragraph_format.space_before = Pt(12)


def _preamble(doc: Any, d: _Decision) -> None:
    first = True
    for basis in d.legal_bases:
        text = basis if basis.casefold().startswith("căn cứ") else f"Căn cứ {basis}"
        p = _body(doc, text.rstrip(" ;.") + ";", italic=True)
        if first:
            p.paragraph_format.space_before = Pt(12)
            first = False
    if d.proposed_by:
        text = d.proposed_by if d.proposed_by.casefold().startswith("theo đề nghị") else f"Theo đề nghị của {d.proposed_by}"
        _body(doc, text.rstrip(" ;.") + ".", italic=True)
    p = _para(doc, "QUYẾT ĐỊNH:", bold=True)
    p.paragraph_format.space_before = p.paragraph_format.space_after = Pt(12)


def _counts(awardees: list[dict[str, Any]]) -> str:
    """'01 tập thể và 02 cá nhân'."""
    parts = []
    for subject, word in SUBJECT_WORDS.items():
        n = sum(1 for a in awardees if a["subject"] == subject)
        if n:
            parts.append(f"{n:02d} {word}")
    others = sum(1 for a in awardees if a["subject"] not in SUBJECT_WORDS)
    if others:
        parts.append(f"{others:02d} trường hợp khác")
    if not parts:
        return "các tập thể, cá nhân"
    return ", ".join(parts[:-1]) + (" và " if len(parts) > 1 else "") + parts[-1]


def _articles(doc: Any, d: _Decision) -> None:
    titles = list(dict.fromkeys(a["title_name"] for a in d.awardees if a["title_name"]))
    what = "; ".join(titles) if titles else "danh hiệu, hình thức khen thưởng"
    _body(doc, f"Tặng {what} cho {_counts(d.awardees)} có tên tại Danh sách kèm theo Quyết định này.", lead="Điều 1.")
    funding = f" Nguồn kinh phí: {d.funding_source.rstrip(' .')}." if d.funding_source else ""
    _body(
        doc,
        f"Tiền thưởng kèm theo danh hiệu, hình thức khen thưởng tại Điều 1 thực hiện theo quy định hiện hành; tổng số tiền thưởng là {money(d.total_amount)} đồng.{funding}",
        lead="Điều 2.",
    )
    executors = [f"Chánh Văn phòng Ủy ban nhân dân {d.issuer}"]
    if d.proposed_by and not d.proposed_by.casefold().startswith("theo đề nghị"):
        executors.append(d.proposed_by.rstrip(" ;."))
    executors.append("Thủ trưởng các cơ quan, đơn vị có liên quan")
    _body(
        doc,
        f"Quyết định này có hiệu lực kể từ ngày ký. {', '.join(executors)} và các tập thể, cá nhân có tên tại Điều 1 chịu trách nhiệm thi hành Quyết định này./.",
        lead="Điều 3.",
    )


def _signature(doc: Any, d: _Decision) -> None:
    spacer = doc.add_paragraph()
    spacer.paragraph_format.space_after = Pt(6)
    table = _table(doc, 1, (TEXT_WIDTH_CM / 2, TEXT_WIDTH_CM / 2), borders=False)
    left, right = table.rows[0].cells
    _para(left, "Nơi nhận:", bold=True, italic=True, size=12, align=WD_ALIGN_PARAGRAPH.LEFT)
    for i, recipient in enumerate(d.recipients):
        end = "." if i == len(d.recipients) - 1 else ";"
        name = recipient.lstrip("- ").rstrip(" ;.")
        _para(left, f"- {name}{end}", size=11, align=WD_ALIGN_PARAGRAPH.LEFT)
    _para(right, "TM. ỦY BAN NHÂN DÂN", bold=True)
    _para(right, d.signer_title.upper(), bold=True)
    for _ in range(4):
        _para(right, "")
    _para(right, d.signed_by, bold=True)


ANNEX_WIDTHS = (1.4, 4.1, 4.0, 3.6, 2.9)
ANNEX_HEADINGS = ("STT", "Họ và tên / Tên tập thể", "Chức vụ, đơn vị", "Danh hiệu / hình thức", "Số tiền (đồng)")


def _annex(doc: Any, d: _Decision) -> None:
    p = doc.add_paragraph()
    p.add_run().add_break(WD_BREAK.PAGE)
    _para(doc, "DANH SÁCH KHEN THƯỞNG", bold=True)
    _para(doc, f"(Kèm theo Quyết định {d.reference} của Chủ tịch Ủy ban nhân dân {d.issuer})", italic=True)
    rule = _para(doc, "")
    rule.paragraph_format.space_after = Pt(12)
    _rule_under(rule, TEXT_WIDTH_CM, 4.0)

    table = _table(doc, 1, ANNEX_WIDTHS, borders=True)
    heading = table.rows[0]
    _repeat_as_header(heading)
    for cell, text in zip(heading.cells, ANNEX_HEADINGS, strict=True):
        _para(cell, text, bold=True, size=TABLE_PT)
    for i, a in enumerate(d.awardees, start=1):
        cells = table.add_row().cells
        where = ", ".join(part for part in (a["position"], a["unit_name"]) if part)
        _para(cells[0], str(i), size=TABLE_PT)
        _para(cells[1], a["name"], size=TABLE_PT, align=WD_ALIGN_PARAGRAPH.LEFT)
        _para(cells[2], where, size=TABLE_PT, align=WD_ALIGN_PARAGRAPH.LEFT)
        _para(cells[3], a["title_name"], size=TABLE_PT, align=WD_ALIGN_PARAGRAPH.LEFT)
        _para(cells[4], money(a["amount"]), size=TABLE_PT, align=WD_ALIGN_PARAGRAPH.RIGHT)
    total = table.add_row().cells
    label = total[0].merge(total[3])
    _para(label, "Tổng cộng", bold=True, size=TABLE_PT)
    _para(total[4], money(d.total_amount), bold=True, size=TABLE_PT, align=WD_ALIGN_PARAGRAPH.RIGHT)


def _repeat_as_header(row: Any) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    element = OxmlElement("w:tblHeader")
    element.set(qn("w:val"), "true")
    tr_pr.append(element)
