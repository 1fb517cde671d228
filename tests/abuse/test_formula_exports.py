"""Formula injection through reports' exports: every text a user typed that reaches a cell (the
unit's name, the movement's title, a content area's and a criterion's name) starting with `=`,
`+`, `-`, `@`, a tab or a carriage return is written with a leading `'` (`tdkt.exports.safe`):
opened with openpyxl, no cell of the workbook is a formula and the text is kept after the `'`;
in the CSV no cell starts with a formula character.

Already covered elsewhere (not repeated): a unit named `=HYPERLINK(…)` in reports' xlsx and csv
(services/reports/tests/test_aggregation.py), awards' ledger workbook
(services/awards/tests/test_ledger.py::test_the_workbook_holds_the_figures_and_neutralises_formulas),
and `tdkt.exports.safe` itself (libs/tdkt/tests/test_exports.py). Added: the movement's and its
criteria's texts, every formula start, and the whole workbook scanned rather than one column.
"""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from tdkt.exports import FORMULA_STARTS

from .conftest import reports_feed


@pytest.fixture
def hostile_texts(reports):
    """A second movement `m-2` whose title, area and criteria start with `=`, tab, CR and `@`;
    unit `u-b` is named `=HYPERLINK(…)` (see conftest)."""
    from datetime import timedelta

    from tdkt.clock import local_today

    today = local_today()
    criterion = {"area": "kinh-te", "unit_of_measure": "%", "target": 95, "direction": "higher_is_better", "value_type": "percent", "weight": 1, "evidence_required": False}
    movement = {
        "id": "m-2",
        "title": "=1+1 Phong trào",
        "state": "launched",
        "organiser_id": "org",
        "period_start": (today - timedelta(days=40)).isoformat(),
        "period_end": (today + timedelta(days=80)).isoformat(),
        "content_areas": [{"key": "kinh-te", "title": "\tKinh tế"}],
        "criteria": [{**criterion, "key": "giai-ngan", "name": "\r=Giải ngân"}, {**criterion, "key": "ocop", "name": "@OCOP"}],
        "due_dates": [{"kind": "final", "period": "final", "due": (today + timedelta(days=80)).isoformat()}],
        "participant_ids": ["u-a", "u-b"],
    }
    reports_feed(reports.extensions["tdkt"].db, "movement.launched", "m-2", {"movement": movement}, "registry.movements.v1")
    return reports


HOSTILE = ('=HYPERLINK("http://evil.example","Xã Sơn Bình")', "=1+1 Phong trào", "\tKinh tế", "\r=Giải ngân", "@OCOP")


def test_no_cell_of_the_workbook_is_a_formula(hostile_texts, officer):
    response = hostile_texts.test_client().get("/api/v1/movements/m-2/export.xlsx", headers=officer)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    ws = load_workbook(io.BytesIO(response.data)).active
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"], "no cell is a formula"
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert not [t for t in texts if t.startswith(FORMULA_STARTS)], "every text starting like a formula is quoted"
    # the seeded hostile texts are all there, kept after their `'`
    for expected in HOSTILE:
        assert any(t.startswith("'") and expected in t for t in texts), (expected, texts)


def test_no_csv_cell_starts_like_a_formula(hostile_texts, officer):
    response = hostile_texts.test_client().get("/api/v1/movements/m-2/export.csv", headers=officer)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    cells = [c for row in rows for c in row]
    assert not [c for c in cells if c.startswith(FORMULA_STARTS)], rows
    for expected in HOSTILE:
        if expected != "=1+1 Phong trào" and expected != "\tKinh tế":  # the CSV has one header row: criteria and units, no title or areas
            assert any(c.startswith("'") and expected in c for c in cells), (expected, rows)
