"""Reading a spreadsheet of units: CSV (UTF-8, `,` or `;`) or XLSX (the first sheet), checked by
content, not just by name; each data row as {header: value}, blank rows kept so row numbers hold.
Every refusal is a 422 naming `file`."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from tdkt.errors import Invalid

MAX_ROWS = 20_000
MAX_COLUMNS = 64
ZIP_MAGIC = b"PK\x03\x04"  # an XLSX file is a zip archive


def read_rows(filename: str, data: bytes) -> list[dict[str, Any]]:
    """The file's data rows as {header: value}; a blank row stays as {} so row numbers hold."""
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        if not data.startswith(ZIP_MAGIC):
            raise _bad_file("Tệp .xlsx không phải bảng tính Excel / the .xlsx file is not an Excel workbook")
        table = _xlsx_rows(data)
    elif name.endswith(".csv"):
        if data.startswith(ZIP_MAGIC) or b"\x00" in data[:4096]:
            raise _bad_file("Tệp .csv không phải văn bản / the .csv file is not text")
        table = _csv_rows(data)
    else:
        raise _bad_file(f"Chỉ nhận tệp .csv hoặc .xlsx / only .csv and .xlsx files are accepted, not {filename!r}")
    header = [str(h).strip() if h is not None else "" for h in next(table, [])]
    if not any(header):
        raise _bad_file("Tệp trống: dòng 1 phải là tiêu đề cột / the file is empty: row 1 must name the columns")
    if dupes := {h for h in header if h and header.count(h) > 1}:
        raise _bad_file(f"Cột bị lặp / duplicate column(s): {', '.join(sorted(dupes))}")
    rows: list[dict[str, Any]] = []
    count = blank = 0  # blank rows are kept only between data rows: sheets often format thousands below
    for values in table:
        cells = {h: v for h, v in zip(header, values, strict=False) if h and v is not None and str(v).strip()}
        if not cells:
            blank += 1
            continue
        count += 1
        if count > MAX_ROWS:
            raise _bad_file(f"Tối đa {MAX_ROWS:,} dòng mỗi tệp / at most {MAX_ROWS:,} rows per file: split it")
        rows += [{} for _ in range(blank)]
        rows.append(cells)
        blank = 0
    return rows


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _bad_file("Tệp CSV phải mã hóa UTF-8 (Excel: CSV UTF-8) / the CSV file must be UTF-8 (Excel: “CSV UTF-8”)") from None
    first = io.StringIO(text).readline()
    delimiter = ";" if first.count(";") > first.count(",") else ","  # Excel in a Vietnamese locale writes ";"
    try:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    except csv.Error as exc:
        raise _bad_file(f"Tệp CSV không đọc được / the CSV file cannot be read: {exc}") from None


def _xlsx_rows(data: bytes) -> Iterator[tuple]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            for row in workbook.worksheets[0].iter_rows(values_only=True, max_col=MAX_COLUMNS):
                yield tuple(_cell(v) for v in row)
        finally:
            workbook.close()
    except Exception:  # whatever openpyxl makes of a broken archive, the file is at fault
        raise _bad_file("Không đọc được tệp Excel / the XLSX file cannot be read") from None


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    return value


def _bad_file(message: str) -> Invalid:
    return Invalid("file", message, location="files")
