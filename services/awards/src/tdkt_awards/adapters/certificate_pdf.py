"""The certificates of an award decision as one PDF: Giấy khen / Bằng khen for a form of award,
"Giấy chứng nhận" for a title (danh hiệu thi đua), one A4 landscape page per awardee.

`render_certificates(data) -> bytes`. The page carries the issuer and the national motto header,
the heading, "Tặng" and the awardee's name, position and unit, the achievement (the decision's
subject), the decision it rests on ("Quyết định số 12/QĐ-UBND ngày 05/03/2024"), place and date,
the signer. Vietnamese needs a Unicode font (fpdf2's core fonts are Latin-1): DejaVu Serif, found
in `TDKT_AWARDS_CERTIFICATE_FONT_DIR` if set, else in the Debian fonts-dejavu-core location.
Every string is written as plain text; control characters are dropped, text is NFC-normalised
(decomposed accents would print as loose marks without a shaping engine). The output depends on
the input only: the creation date is the decision's issue time and the file id a hash of the
content, so the same decision gives the same bytes.
"""

from __future__ import annotations

import functools
import os
import re
import unicodedata
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from tdkt.errors import DomainError

from tdkt_awards.adapters.decision_docx import date_words

FONT_DIR_VARIABLE = "TDKT_AWARDS_CERTIFICATE_FONT_DIR"
DEFAULT_FONT_DIR = "/usr/share/fonts/truetype/dejavu"  # Debian/Ubuntu package fonts-dejavu-core
FONT_FILES = {"": "DejaVuSerif.ttf", "B": "DejaVuSerif-Bold.ttf"}
OPTIONAL_ITALIC = "DejaVuSerif-Italic.ttf"  # used when present; the regular face stands in otherwise
FAMILY = "DejaVuSerif"

PAGE_W, PAGE_H = 297.0, 210.0  # A4 landscape, mm
MARGIN = 20.0
TEXT_W = PAGE_W - 2 * MARGIN
VIETNAM = timezone(timedelta(hours=7))

# Control characters (tab and newlines included: every field is one line of a certificate).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# The catalogue tells forms apart by subject, "Giấy khen (tập thể)"; the certificate does not say it.
_SUBJECT_SUFFIX = re.compile(r"\s*\((tập thể|cá nhân|hộ gia đình)\)\s*$", re.IGNORECASE)


class CertificateFontsMissing(DomainError):
    """The server cannot print certificates until the fonts are installed: 503, an operator's fix."""

    status = 503
    slug = "certificate-fonts-missing"


def render_certificates(data: dict[str, Any]) -> bytes:
    """One page per awardee in `data["awardees"]` (each with name, position, unit_name, title_name
    and kind "title" | "form"), as the bytes of a PDF file."""
    c = _Certificates(data)
    pdf = _new_pdf(c)
    for awardee in c.awardees:
        _page(pdf, c, awardee)
    return bytes(pdf.output())


def font_paths() -> dict[str, Path]:
    """The font files by fpdf2 style ("", "B", "I"); 503 naming what is missing and where."""
    configured = os.environ.get(FONT_DIR_VARIABLE, "").strip()
    return _fonts_in(configured or DEFAULT_FONT_DIR, bool(configured))


@functools.cache
def _fonts_in(directory: str, configured: bool) -> dict[str, Path]:
    # Cached per directory: the files are looked up once per process, not per request. A failure
    # raises and is therefore not cached, so installing the fonts needs no restart.
    folder = Path(directory)
    missing = [name for name in FONT_FILES.values() if not (folder / name).is_file()]
    if missing:
        where = f"{FONT_DIR_VARIABLE}={directory}" if configured else f"{directory} ({FONT_DIR_VARIABLE} is not set)"
        files = ", ".join(str(folder / name) for name in missing)
        raise CertificateFontsMissing(
            f"Thiếu phông chữ để in giấy khen: {files}. Cài gói fonts-dejavu-core hoặc đặt biến {FONT_DIR_VARIABLE} "
            f"trỏ tới thư mục có {' và '.join(FONT_FILES.values())} / "
            f"the certificate fonts are missing in {where}: {files}; install fonts-dejavu-core or set {FONT_DIR_VARIABLE} "
            f"to a directory holding {' and '.join(FONT_FILES.values())}",
            missing=[str(folder / name) for name in missing],
            variable=FONT_DIR_VARIABLE,
        )
    paths = {style: folder / name for style, name in FONT_FILES.items()}
    paths["I"] = folder / OPTIONAL_ITALIC if (folder / OPTIONAL_ITALIC).is_file() else paths[""]
    return paths


def heading(title_name: str, kind: str) -> tuple[str, str | None]:
    """The big heading and the line under it: a form is its own name ("GIẤY KHEN"); a title is
    certified ("GIẤY CHỨNG NHẬN", then the title)."""
    if kind == "title":
        return "GIẤY CHỨNG NHẬN", f"Danh hiệu “{title_name}”"
    return _SUBJECT_SUFFIX.sub("", title_name).upper(), None


def _clean(value: Any) -> str:
    text = unicodedata.normalize("NFC", str(value or ""))
    return " ".join(_CONTROL.sub(" ", text).split())


def _parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


class _Certificates:
    """The input, checked and normalised once."""

    def __init__(self, raw: dict[str, Any]):
        number = raw.get("number")
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise ValueError(f"number must be the issued decision's number (a positive integer), not {number!r}")
        self.number = number
        self.symbol = _clean(raw.get("symbol") or "QĐ-UBND")
        self.issuer = _clean(raw.get("issuer") or raw["issuer_name"])
        self.issuer_name = _clean(raw["issuer_name"])
        self.place = _clean(raw["place"])
        self.date = _parse_date(raw["date"])
        self.subject = _clean(raw["subject"])
        self.signer_title = _clean(raw.get("signer_title") or "CHỦ TỊCH")
        self.signed_by = _clean(raw.get("signed_by") or "")
        self.created = self._created(raw.get("issued_at"))
        self.awardees = [self._awardee(a) for a in raw.get("awardees") or []]
        if not self.awardees:
            raise ValueError("a certificate needs at least one awardee")

    def _created(self, issued_at: Any) -> datetime:
        # The issue time, else the decision date: never "now", so the bytes do not change per request.
        if issued_at:
            moment = issued_at if isinstance(issued_at, datetime) else datetime.fromisoformat(str(issued_at))
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return datetime(self.date.year, self.date.month, self.date.day, tzinfo=VIETNAM)

    @staticmethod
    def _awardee(raw: dict[str, Any]) -> dict[str, str]:
        kind = raw.get("kind") or "form"
        if kind not in ("title", "form"):
            raise ValueError(f"kind must be 'title' or 'form', not {kind!r}")
        return {
            "name": _clean(raw.get("name")),
            "where": ", ".join(part for part in (_clean(raw.get("position")), _clean(raw.get("unit_name"))) if part),
            "title_name": _clean(raw.get("title_name")),
            "kind": kind,
        }

    @property
    def reference(self) -> str:
        # Two digits below 10, as the decision's own number line ("Số: 07/QĐ-UBND").
        return f"Quyết định số {self.number:02d}/{self.symbol} ngày {self.date:%d/%m/%Y}"

    @property
    def achievement(self) -> str:
        # The decision's subject is written "khen thưởng …" (the .docx prefixes "Về việc"): a sentence here.
        text = re.sub(r"^về việc\s+", "", self.subject, flags=re.IGNORECASE)
        return text[:1].upper() + text[1:]


# --- layout -----------------------------------------------------------------------------------


def _new_pdf(c: _Certificates) -> FPDF:
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    for style, path in font_paths().items():
        pdf.add_font(FAMILY, style, str(path))
    # A long name must shrink, never spill onto a page of its own: one page per awardee.
    pdf.set_auto_page_break(False)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_title(f"Giấy khen, giấy chứng nhận - {c.reference}")
    pdf.set_author(c.issuer)
    pdf.set_subject(c.subject)
    pdf.set_creator("TĐKT - awards")
    pdf.set_lang("vi-VN")
    pdf.set_creation_date(c.created)
    return pdf


def _page(pdf: FPDF, c: _Certificates, awardee: dict[str, str]) -> None:
    pdf.add_page()
    _frame(pdf)
    _header(pdf, c)
    big, under = heading(awardee["title_name"], awardee["kind"])
    pdf.set_y(52)
    _block(pdf, big, "B", 34, 20, max_lines=2)
    if under:
        _block(pdf, under, "B", 20, 12, max_lines=2)
    pdf.ln(3)
    _block(pdf, "Tặng", "I", 16, 16)
    _block(pdf, awardee["name"], "B", 28, 14, max_lines=2)
    if awardee["where"]:
        _block(pdf, awardee["where"], "", 16, 11, max_lines=2)
    pdf.ln(2)
    _block(pdf, c.achievement, "I", 15, 10, max_lines=3)
    _footer(pdf, c)


def _frame(pdf: FPDF) -> None:
    """The double border of a certificate."""
    pdf.set_draw_color(150, 20, 20)
    pdf.set_line_width(1.2)
    pdf.rect(8, 8, PAGE_W - 16, PAGE_H - 16)
    pdf.set_line_width(0.4)
    pdf.rect(11, 11, PAGE_W - 22, PAGE_H - 22)
    pdf.set_draw_color(0, 0, 0)


HEADER_LEFT_W, HEADER_RIGHT_W = 100.0, 130.0


def _header(pdf: FPDF, c: _Certificates) -> None:
    left_x, right_x = MARGIN, PAGE_W - MARGIN - HEADER_RIGHT_W
    pdf.set_xy(left_x, 18)
    _line(pdf, "ỦY BAN NHÂN DÂN", "B", 12, HEADER_LEFT_W)
    pdf.set_x(left_x)
    _block(pdf, c.issuer_name.upper(), "B", 12, 9, width=HEADER_LEFT_W, max_lines=2)
    _rule(pdf, left_x + HEADER_LEFT_W / 2, pdf.get_y() + 1, 25)
    pdf.set_xy(right_x, 18)
    _line(pdf, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "B", 12, HEADER_RIGHT_W)
    pdf.set_x(right_x)
    _line(pdf, "Độc lập - Tự do - Hạnh phúc", "B", 13, HEADER_RIGHT_W)
    _rule(pdf, right_x + HEADER_RIGHT_W / 2, pdf.get_y() + 1, 60)


FOOTER_Y = 150.0


def _footer(pdf: FPDF, c: _Certificates) -> None:
    """The decision on the left; place, date and signature on the right."""
    left_w, right_w = 120.0, 120.0
    right_x = PAGE_W - MARGIN - right_w
    pdf.set_xy(MARGIN, FOOTER_Y + 8)
    _block(pdf, c.reference, "", 12, 9, width=left_w, max_lines=2)
    pdf.set_xy(right_x, FOOTER_Y)
    _line(pdf, f"{c.place}, {date_words(c.date)}", "I", 13, right_w)
    pdf.set_x(right_x)
    _block(pdf, c.signer_title.upper(), "B", 13, 10, width=right_w, max_lines=2)
    pdf.set_xy(right_x, PAGE_H - MARGIN - 8)
    _line(pdf, c.signed_by, "B", 14, right_w)


def _line(pdf: FPDF, text: str, style: str, size: float, width: float) -> None:
    """One centred line, shrunk until it fits `width`."""
    _block(pdf, text, style, size, min(size, 8), width=width, max_lines=1)


def _block(pdf: FPDF, text: str, style: str, size: float, smallest: float, *, width: float = TEXT_W, max_lines: int = 1) -> None:
    """Centred text of at most `max_lines` lines at the largest size from `size` down to
    `smallest`; at `smallest` it takes the lines it needs."""
    x = pdf.get_x() if width != TEXT_W else MARGIN
    pt = size
    while True:
        pdf.set_font(FAMILY, style, pt)
        lines = pdf.multi_cell(width, _height(pt), text, align="C", dry_run=True, output="LINES")
        if len(lines) <= max_lines or pt <= smallest:
            break
        pt = max(smallest, pt - 1)
    pdf.set_x(x)
    pdf.multi_cell(width, _height(pt), text, align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)


def _height(pt: float) -> float:
    """Line height in mm for a font size in points (1.35 × the size)."""
    return pt * 0.3528 * 1.35


def _rule(pdf: FPDF, centre_x: float, y: float, length: float) -> None:
    pdf.set_line_width(0.3)
    pdf.line(centre_x - length / 2, y, centre_x + length / 2, y)
