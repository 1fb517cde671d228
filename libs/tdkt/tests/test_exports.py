"""tdkt.exports.safe: what every spreadsheet cell goes through."""

from __future__ import annotations

from openpyxl import Workbook
from tdkt.exports import safe


def test_formulas_are_shown_as_text_and_other_values_pass_unchanged():
    assert safe("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert safe("Xã Bình Lư") == "Xã Bình Lư"
    assert [safe(v) for v in (3, None, 2.5)] == [3, None, 2.5]


def test_characters_no_cell_can_hold_are_dropped_and_tab_newline_kept():
    # found by tests/fuzz: one such character in a filter failed the awards ledger export (500)
    value = safe("a\x00b\x06c\x0bd\x1fe\tf\ng\rh")
    assert value == "abcde\tf\ng\rh"
    Workbook().active.append([value, safe("\x01=1+1")])  # openpyxl raises IllegalCharacterError otherwise
    assert safe("\x01=1+1") == "'=1+1"
