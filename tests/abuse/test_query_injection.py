"""MongoDB operator injection through query strings, on every list and search endpoint of every
service (read from its openapi.json, so a new endpoint is swept without editing this file).

For each query argument `p` of each GET endpoint:
- `?p[$ne]=x` (how PHP/Express-style parsers build `{"p": {"$ne": "x"}}`) is an unknown argument:
  422 naming `p[$ne]`;
- a hostile value (`$ne`, `{"$ne": null}`, `.*`, `^`, `(`, `\\`, `a.b`, …) is either refused (422
  naming `p`) or taken as a literal string that matches nothing: a page with total 0 — never a
  broadened result, never a 500.
Data of two units is seeded first and the baseline (no filter) must list it, so "total 0" proves
the filter was applied literally and not dropped or turned into an operator. A unit head's own
list is checked not to grow to another unit's items whatever the arguments.

Already covered elsewhere (not repeated): `q={"$ne": null}` on registry units
(services/registry/tests/test_units_api.py), unknown/invalid arguments on some lists.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import collective, created, names_field

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = ["$ne", '{"$ne": null}', '{"$gt": ""}', ".*", "^", "(", "[a-z]+", "\\", "a.b", "$where", "'; return true; var x='", "%", "*", "\x00"]
NOT_FILTERS = {"page", "per_page"}
# valid values of the arguments some endpoints require, so a 422 can only be about the one swept
REQUIRED = {"issuer": "Ủy ban nhân dân tỉnh Lai Châu", "date": "2026-01-05", "title": "LDTT", "days": "5", "to": "2"}
FROM = {"/api/v1/calendar/working-days": "2026-01-05"}  # `from` is a date there, a version number on reports' diff


def get_endpoints(service: str, ids: dict[str, str]) -> list[tuple[str | None, list[str], dict[str, str]]]:
    """(path with its ids filled from `ids`, query argument names, required arguments with valid
    values) of every GET with arguments;
    endpoints whose path ids are not in `ids` are skipped (listed by `unfilled`)."""
    spec = json.loads((ROOT / "services" / service / "openapi.json").read_text())
    found = []
    for path, ops in spec["paths"].items():
        op = ops.get("get")
        query = [p for p in (op or {}).get("parameters", []) if p.get("in") == "query"]
        params = [p["name"] for p in query]
        if not params or not set(params) - NOT_FILTERS:
            continue
        required = {p["name"]: FROM.get(path, "1") if p["name"] == "from" else REQUIRED[p["name"]] for p in query if p.get("required")}
        try:
            found.append((path.format(**ids), params, required))
        except KeyError:
            found.append((None, [path], {}))
    return found


def sweep(client, headers: dict, path: str, params: list[str], required: dict[str, str], forbidden_ok: bool = False) -> list[str]:
    """Every hostile argument on `path`; the list of problems found (empty when all held)."""
    bad: list[str] = []
    for p in params:
        if p in NOT_FILTERS:
            continue
        others = {k: v for k, v in required.items() if k != p}
        r = client.get(path, query_string={**others, f"{p}[$ne]": "x"}, headers=headers)
        if r.status_code == 403 and forbidden_ok:  # not this caller's list: nothing to broaden
            break
        if r.status_code != 422 or f"{p}[$ne]" not in r.get_json().get("errors", {}).get("query", {}):
            bad.append(f"{path}?{p}[$ne]=x → {r.status_code} {r.get_data(as_text=True)[:200]}")
        for value in HOSTILE:
            r = client.get(path, query_string={**others, p: value}, headers=headers)
            what = f"{path}?{p}={value!r} → {r.status_code}"
            if r.status_code == 422:  # named where it came from, or (bonus/quote's title) by the domain under `json`
                if not any(p in fields for fields in r.get_json().get("errors", {}).values()):
                    bad.append(f"{what}: 422 not naming {p}: {r.get_json()}")
            elif r.status_code == 200:
                body = r.get_json() if r.is_json else None
                if isinstance(body, dict) and (body.get("total") or body.get("items")):
                    bad.append(f"{what}: matched {body.get('total', len(body.get('items') or ()))} item(s)")
                elif isinstance(body, list) and body:
                    bad.append(f"{what}: matched {len(body)} item(s)")
            elif r.status_code != 404:
                bad.append(f"{what} {r.get_data(as_text=True)[:200]}")
    return bad


def sweep_service(client, headers: dict, service: str, ids: dict[str, str], must_list: dict[str, int], forbidden_ok: bool = False) -> None:
    endpoints = get_endpoints(service, ids)
    unfilled = [params[0] for path, params, _ in endpoints if path is None]
    assert not unfilled, f"give ids for {unfilled}"
    for path, minimum in must_list.items():  # the seeded data is there without a filter
        listed = client.get(path, headers=headers).get_json()
        assert listed["total"] >= minimum, (path, listed)
    problems = [problem for path, params, required in endpoints for problem in sweep(client, headers, path, params, required, forbidden_ok)]
    assert problems == [], "\n".join(problems)


# --- per service: seed two units' data, then sweep as an officer (who sees everything) ----------


def test_registry_lists(service_app, officer):
    from tdkt_registry.adapters.unit_store import UnitStore
    from tdkt_registry.service_layer import units as unit_cases

    app = service_app("registry")
    store = UnitStore(app.extensions["tdkt"].db)
    district = unit_cases.establish_unit(store, {"code": "106", "name": "Huyện Tam Đường", "kind": "district", "valid_from": "2004-01-01"}, "test")[1][0].id
    for code, name in (("03412", "Xã Bình Lư"), ("03413", "Xã Sơn Bình")):
        unit_cases.establish_unit(store, {"code": code, "name": name, "kind": "commune", "parent_id": district, "valid_from": "2004-01-01"}, "test")
    client = app.test_client()
    cluster = {"name": "Cụm thi đua số 1", "kind": "cluster", "leader_id": district, "members": [district]}
    client.post("/api/v1/clusters", json=cluster, headers=officer)
    ids = {"unit_id": district, "movement_id": "m-none"}
    sweep_service(client, officer, "registry", ids, {"/api/v1/units?status=any": 3, "/api/v1/unit-acts": 3, f"/api/v1/units/{district}/subtree": 2})


def test_reports_lists(reports, officer):
    ids = {"movement_id": "m-1", "unit_id": "u-a", "report_id": "m-1:u-a:final"}
    sweep_service(reports.test_client(), officer, "reports", ids, {"/api/v1/reports": 4})


def test_awards_lists(awards, as_role):
    client = awards.test_client()
    for unit_id in ("u-a", "u-b"):
        created(client.post("/api/v1/nominations", json=collective(unit_id), headers=as_role("unit_head", unit=unit_id)))
    sweep_service(client, as_role("tdkt_officer", "admin", "finance_officer"), "awards", {}, {})
    head = as_role("unit_head", unit="u-a")  # drafts: only their unit sees them
    sweep_service(client, head, "awards", {}, {"/api/v1/nominations": 1}, forbidden_ok=True)


def test_notify_lists(service_app, as_role):
    client = service_app("notify").test_client()
    ops = as_role("communications", "admin")
    for unit_id in ("u-a", "u-b"):
        created(client.post("/api/v1/subscriptions", json={"owner": "unit", "channel": "webhook", "url": "http://127.0.0.1:9/hook"}, headers=as_role("unit_head", unit=unit_id)))
    sweep_service(client, ops, "notify", {}, {})
    assert client.get("/api/v1/subscriptions", headers=as_role("unit_head", unit="u-a")).get_json()["total"] == 1


# --- a unit's own lists never grow to another unit's items ---------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {"unit_id[$ne]": "u-a"},
        {"unit_id": '{"$ne": "u-a"}'},
        {"unit_id": "u-b"},
        {"unit_id": ["u-a", "u-b"]},
        {"unit_id": "u-a", "unit_id[]": "u-b"},
        {"$where": "true"},
        {"state[$in]": "draft"},
    ],
)
def test_a_unit_head_never_sees_another_units_nominations(awards, as_role, query):
    client = awards.test_client()
    for unit_id in ("u-a", "u-b"):
        created(client.post("/api/v1/nominations", json=collective(unit_id), headers=as_role("unit_head", unit=unit_id)))
    head = as_role("unit_head", unit="u-a")
    response = client.get("/api/v1/nominations", query_string=query, headers=head)
    if response.status_code == 422:
        names_field(response, "query", next(k for k in query if "$" in k or "[" in k))
        return
    assert response.status_code in (200, 403), response.get_data(as_text=True)[:300]
    if response.status_code == 200:
        assert {n["nominee"]["unit_id"] for n in response.get_json()["items"]} <= {"u-a"}


@pytest.mark.parametrize("query", [{"unit_id[$ne]": "u-a"}, {"unit_id": '{"$ne": "u-a"}'}, {"unit_id": "u-b"}, {"unit_id": ["u-a", "u-b"]}, {"movement_id": "m-1", "$or": "1"}])
def test_a_unit_reporter_never_sees_another_units_reports(reports, as_role, query):
    client = reports.test_client()
    reporter = as_role("unit_reporter", unit="u-a")
    assert client.get("/api/v1/reports", headers=reporter).get_json()["total"] == 2  # its interim and final
    response = client.get("/api/v1/reports", query_string=query, headers=reporter)
    if response.status_code == 422:
        names_field(response, "query", next(k for k in query if "$" in k or k == "unit_id"))
        return
    assert response.status_code in (200, 403), response.get_data(as_text=True)[:300]
    if response.status_code == 200:
        assert {r["unit_id"] for r in response.get_json()["items"]} <= {"u-a"}
