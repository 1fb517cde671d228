"""Who may change the registry, as a table: every write endpoint × every role that may not →
403, no token → 401; and the roles that may are not refused by the role check."""

from __future__ import annotations

import pytest

WRITE_ENDPOINTS = [
    ("POST", "/api/v1/units"),
    ("PATCH", "/api/v1/units/{unit}"),
    ("POST", "/api/v1/units/{unit}/renames"),
    ("POST", "/api/v1/units/{unit}/moves"),
    ("POST", "/api/v1/units/{unit}/splits"),
    ("POST", "/api/v1/units/{unit}/dissolutions"),
    ("POST", "/api/v1/unit-merges"),
    ("POST", "/api/v1/unit-imports"),
    ("POST", "/api/v1/clusters"),
    ("PUT", "/api/v1/clusters/{unit}"),
    ("PUT", "/api/v1/clusters/{unit}/terms/2025"),
    ("POST", "/api/v1/movements"),
    ("PUT", "/api/v1/movements/{unit}"),
    ("POST", "/api/v1/movements/{unit}/launch"),
    ("POST", "/api/v1/movements/{unit}/close"),
    ("POST", "/api/v1/movements/{unit}/cancel"),
]
REFUSED_ROLES = ["unit_reporter", "unit_head", "council_member", "council_chair", "chairman", "finance_officer", "communications", "integration"]
REGISTRANT_ENDPOINTS = [("POST", "/api/v1/movements/m/registrations"), ("PUT", "/api/v1/movements/m/registrations/{unit}")]


@pytest.mark.parametrize("role", REFUSED_ROLES)
def test_only_officers_and_admins_change_units_clusters_and_movements(client, as_role, small_tree, role):
    headers = as_role(role, unit=small_tree.communes["03412"])
    for method, path in WRITE_ENDPOINTS:
        response = client.open(path.format(unit=small_tree.communes["03412"]), method=method, json={}, headers=headers)
        assert response.status_code == 403, (role, method, path, response.status_code)
        assert response.mimetype == "application/problem+json"


def test_without_a_token_nothing_is_read_or_written(client, small_tree):
    reads = ["/api/v1/units", f"/api/v1/units/{small_tree.province}", "/api/v1/clusters", "/api/v1/movements", "/api/v1/unit-acts", "/api/v1/unit-kinds"]
    for path in reads:
        assert client.get(path).status_code == 401, path
    for method, path in WRITE_ENDPOINTS + REGISTRANT_ENDPOINTS:
        assert client.open(path.format(unit=small_tree.province), method=method, json={}).status_code == 401, (method, path)


@pytest.mark.parametrize("role", ["tdkt_officer", "admin"])
def test_officers_and_admins_pass_the_role_check(client, as_role, small_tree, role):
    # an empty body fails validation (422) or the resource does not exist (404): past the role check either way
    headers = as_role(role)
    for method, path in WRITE_ENDPOINTS:
        response = client.open(path.format(unit="missing"), method=method, json={}, headers=headers)
        assert response.status_code in (404, 422, 428), (role, method, path, response.status_code)


@pytest.mark.parametrize("role", ["tdkt_officer", "admin", "council_member", "chairman", "integration"])
def test_registering_is_for_the_units_own_head_or_reporter(client, as_role, small_tree, role):
    for method, path in REGISTRANT_ENDPOINTS:
        assert client.open(path.format(unit=small_tree.communes["03412"]), method=method, json={}, headers=as_role(role)).status_code == 403
