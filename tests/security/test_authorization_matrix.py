"""The authorization matrix: every route of every service × every kind of caller → the status the
table (`authz_matrix.yaml`, read by `matrix.py`) says it must get, against each service's real app
and store. The table must list exactly the routes the apps serve, so it cannot rot unnoticed.

Run alone: `pytest tests/security -q` (the summary is printed at the end with `-s` or `-rA`)."""

from __future__ import annotations

import re

import pytest

from .matrix import SERVICES, Row, cases, expected, load_rows, must_hide
from .seeds import Seeded, pdf_upload

ROWS = load_rows()
STALE = '"stale-etag"'  # every write names a version the resource never had: nothing is changed
UNTABLED = {"static"}  # Flask's own static files, not a service's route


def _route_of(rule) -> set[str]:
    path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
    return {f"{method} {path}" for method in rule.methods - {"HEAD", "OPTIONS"}}


@pytest.mark.parametrize("name", SERVICES)
def test_the_table_lists_every_route_the_service_serves(services, name: str):
    service = services.get(name)
    served = set().union(*(_route_of(rule) for rule in service.app.url_map.iter_rules() if rule.endpoint not in UNTABLED))
    listed = {row.route for row in ROWS if row.service == service.name}
    assert sorted(served - listed) == [], "routes served but missing from authz_matrix.yaml"
    assert sorted(listed - served) == [], "rows in authz_matrix.yaml for routes the service does not serve"


def _send(service: Seeded, row: Row, case: str):
    values = {}
    for name in row.params():
        value = service.ids[row.ids.get(name, name)]
        values[name] = value() if callable(value) else value
    path = row.path.format(**values)
    token = service.tokens.get(case)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    kwargs = {"headers": headers, "query_string": row.query}
    if row.method != "GET":
        headers["If-Match"] = STALE
    if row.upload is not None:
        kwargs |= {"data": pdf_upload(**row.upload), "content_type": "multipart/form-data"}
    elif row.method in ("POST", "PUT", "PATCH"):
        kwargs["json"] = {} if row.body is None else row.body
    return service.client.open(path, method=row.method, **kwargs)


@pytest.mark.parametrize("row", [pytest.param(r, id=f"{r.service} {r.route}") for r in ROWS])
def test_each_caller_gets_the_status_the_table_says(services, row: Row, outcomes):
    service = services.get(row.service)
    wrong = []
    for case in cases(row):
        want = expected(row, case)
        response = _send(service, row, case)
        got = response.status_code
        outcomes.add(row.service, row.route, case, want, got)
        if got != want:
            wrong.append(f"{case}: {got} (expected {want}) {response.get_data(as_text=True)[:160]}")
        elif got == 200 and must_hide(row, case):
            hidden = service.ids[row.hides]
            if hidden in response.get_data(as_text=True):
                wrong.append(f"{case}: the list shows the own unit's {row.hides} {hidden}")
    assert not wrong, f"{row.route}:\n  " + "\n  ".join(wrong)
