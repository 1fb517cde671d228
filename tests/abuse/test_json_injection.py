"""MongoDB operator injection through JSON bodies: an operator where a value belongs
(`{"unit_id": {"$ne": null}}`), `$where`, and keys that start with `$` or contain `.` — which
MongoDB (and FerretDB) refuse to store, or read as a path — on create and command endpoints of
every service. Expected: 422 naming the field, nothing stored; never a 500, never a broadened
effect.

Already covered elsewhere (not repeated): `{"nominee": {"unit_id": {"$ne": null}}}` on awards'
nominations (services/awards/tests/test_nominations.py::test_bad_input_names_the_field) and
unknown fields on most endpoints (each service's tests).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from tdkt.clock import local_today

from .conftest import collective, created, names_field

TODAY = local_today()
OPERATOR = {"$ne": None}


# --- registry ----------------------------------------------------------------------------------


@pytest.fixture
def registry(service_app):
    """Registry with a district and two of its communes, made through the real use case."""
    from tdkt_registry.adapters.unit_store import UnitStore
    from tdkt_registry.service_layer import units as unit_cases

    app = service_app("registry")
    store = UnitStore(app.extensions["tdkt"].db)

    def make(**data) -> str:
        return unit_cases.establish_unit(store, data, "test")[1][0].id

    district = make(code="106", name="Huyện Tam Đường", kind="district", valid_from="2004-01-01")
    app.config["tree"] = {
        "district": district,
        "a": make(code="03412", name="Xã Bình Lư", kind="commune", parent_id=district, valid_from="2004-01-01"),
        "b": make(code="03413", name="Xã Sơn Bình", kind="commune", parent_id=district, valid_from="2004-01-01"),
    }
    return app


def movement(district: str, criterion_key: str = "giai-ngan") -> dict:
    return {
        "title": "Thi đua hoàn thành chỉ tiêu kinh tế – xã hội",
        "kind": "campaign",
        "organiser_id": district,
        "period_start": (TODAY - timedelta(days=10)).isoformat(),
        "period_end": (TODAY + timedelta(days=120)).isoformat(),
        "registration_deadline": (TODAY + timedelta(days=20)).isoformat(),
        "content_areas": [{"key": "kinh-te", "title": "Kinh tế"}],
        "criteria": [{"key": criterion_key, "area": "kinh-te", "name": "Giải ngân đầu tư công", "unit_of_measure": "%", "target": 95, "value_type": "percent", "weight": 2}],
        "schedule": {"monthly_day": 25, "final_due": (TODAY + timedelta(days=110)).isoformat()},
        "participants": {"selector": "communes_of", "selector_id": district},
        "award_forms": ["Giấy khen"],
    }


UNIT = {"name": "Văn phòng HĐND", "kind": "agency"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**UNIT, "name": OPERATOR}, "name"),
        ({**UNIT, "parent_id": OPERATOR}, "parent_id"),
        ({**UNIT, "kind": {"$in": ["agency", "province"]}}, "kind"),
        ({**UNIT, "$where": "sleep(1000) || true"}, "$where"),
        ({**UNIT, "contacts.email": "x@example.vn"}, "contacts.email"),
        ({**UNIT, "contacts": {"$set": {"email": "x@example.vn"}}}, "contacts"),
        ({**UNIT, "head": {"name": {"$regex": ".*"}}}, "head"),
    ],
)
def test_units_refuse_operators_and_dollar_or_dotted_keys(registry, officer, body, field):
    client = registry.test_client()
    names_field(client.post("/api/v1/units", json=body, headers=officer), "json", field)
    assert client.get("/api/v1/units?q=van phong", headers=officer).get_json()["total"] == 0  # nothing stored


def test_registration_targets_refuse_operator_keys_and_values(registry, officer, as_role):
    client, tree = registry.test_client(), registry.config["tree"]
    made = created(client.post("/api/v1/movements", json=movement(tree["district"]), headers=officer))
    etag = client.get(f"/api/v1/movements/{made['id']}", headers=officer).headers["ETag"]
    created(client.post(f"/api/v1/movements/{made['id']}/launch", json={}, headers={**officer, "If-Match": etag}), 200)
    url = f"/api/v1/movements/{made['id']}/registrations"
    head = as_role("unit_head", unit=tree["a"])
    for targets in ({"$where": 1}, {"giai-ngan": 97, "a.b": 1}, {"giai-ngan": OPERATOR}, {"giai-ngan": {"$gt": 0}}):
        names_field(client.post(url, json={"targets": targets}, headers=head), "json", "targets")
    names_field(client.post(url, json={"targets": {"giai-ngan": 97}, "unit_id": OPERATOR}, headers=head), "json", "unit_id")
    assert client.get(url, headers=officer).get_json()["total"] == 0


def test_a_criterion_key_with_a_dot_is_refused_before_it_becomes_a_stored_key(registry, officer, as_role):
    """A criterion's key becomes a key of stored documents (registration targets, report values):
    a `.` there is a path to MongoDB and a key FerretDB refuses to store, so it is refused where
    the key is chosen, naming it — not discovered later as a 500 when a unit registers."""
    client, tree = registry.test_client(), registry.config["tree"]
    names_field(client.post("/api/v1/movements", json=movement(tree["district"], "giai.ngan"), headers=officer), "json", "criteria")
    body = movement(tree["district"])
    body["content_areas"][0]["key"] = "kinh.te"
    body["criteria"][0]["area"] = "kinh.te"
    names_field(client.post("/api/v1/movements", json=body, headers=officer), "json", "content_areas")


# --- awards ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("members_with_titles", "why"),
    [({"$where": 1}, "a key starting with $"), ({"LDTT.x": 1}, "a dotted key"), ({"LDTT": OPERATOR}, "an operator as the count"), ({"": 1}, "an empty key")],
)
def test_nominee_title_counts_refuse_operator_keys(awards, as_role, members_with_titles, why):
    client = awards.test_client()
    head = as_role("unit_head", unit="u-a")
    body = collective("u-a", members_with_titles=members_with_titles)
    names_field(client.post("/api/v1/nominations", json=body, headers=head), "json", "nominee")
    assert client.get("/api/v1/nominations", headers=head).get_json()["total"] == 0, why


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/councils", {"name": "Hội đồng", "issuer_id": "province", "members": [], "$where": "1"}, "$where"),
        ("/api/v1/councils", {"name": {"$ne": ""}, "issuer_id": "province", "members": []}, "name"),
        ("/api/v1/councils", {"name": "Hội đồng", "issuer_id": "province", "members": [{"member_id": OPERATOR, "name": "A", "role": "chair"}]}, "members"),
        ("/api/v1/nomination-holds", {"unit_id": OPERATOR, "reason": "Đang thanh tra"}, "unit_id"),
        ("/api/v1/province-proposals", {"nomination_ids": [OPERATOR]}, "nomination_ids"),
        ("/api/v1/province-proposals", {"nomination_ids": {"$in": ["a"]}}, "nomination_ids"),
        ("/api/v1/decisions", {"$where": "1"}, "$where"),
        ("/api/v1/disclosures", {"nomination_ids": [OPERATOR]}, "nomination_ids"),
    ],
)
def test_awards_create_endpoints_refuse_operators(awards, officer, path, body, field):
    names_field(awards.test_client().post(path, json=body, headers=officer), "json", field)


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ({"$where": "1"}, "content"),
        ({"titles": [], "a.b": 1}, "content"),
        ({"titles": {"$ne": None}}, "titles"),
        ({"titles": "LDTT"}, "titles"),
        ({"titles": [], "council": {"$set": {"quorum_share": 0.1}}}, "council"),
        ({"titles": [], "quotas": {"enabled": True, "rules": [{"title.x": "LDTT"}]}}, "quotas.rules.0"),
        (
            {
                "titles": [
                    {
                        "code": "LDTT",
                        "kind": "title",
                        "subject": "individual",
                        "award_type": "merit",
                        "conferred_by": "commune_chair",
                        "criteria": [{"kind": "text", "text": "x", "$where": "1"}],
                    }
                ]
            },
            "titles.0.criteria.0",
        ),
        ({"titles": [{"code": "LDTT", "kind": "title", "subject": "individual", "award_type": "merit", "conferred_by": "commune_chair", "criteria": "all"}]}, "titles.0.criteria"),
    ],
)
def test_catalogue_content_refuses_operator_keys_and_wrong_shapes(awards, as_role, content, field):
    """The content is validated field by field (errors named like `titles.3.coefficient`); parts of
    it (criteria, council, quotas) are stored as given, so their keys must be storable."""
    client = awards.test_client()
    admin = as_role("tdkt_officer", "admin")
    body = {"issuer": "UBND tỉnh", "effective_from": "2030-01-01", "legal_basis": {"number": "1/QĐ", "date": "2029-12-01", "issuer": "UBND tỉnh"}, "content": content}
    names_field(client.post("/api/v1/catalogue/versions", json=body, headers=admin), "json", field)
    assert client.get("/api/v1/catalogue/versions?issuer=UBND tỉnh", headers=admin).get_json()["total"] == 0


# --- notify ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"owner": "unit", "channel": "email", "unit_id": OPERATOR}, "unit_id"),
        ({"owner": "unit", "channel": "email", "event_types": [OPERATOR]}, "event_types"),
        ({"owner": "unit", "channel": "email", "quiet_hours": {"start": {"$gt": ""}, "end": "07:00"}}, "quiet_hours"),
        ({"owner": "unit", "channel": "email", "quiet_hours": {"start": "22:00", "end": "07:00", "$where": "1"}}, "quiet_hours"),
        ({"owner": "unit", "channel": "email", "$where": "1"}, "$where"),
        ({"owner": "unit", "channel": "email", "email.x": "a@example.vn"}, "email.x"),
    ],
)
def test_subscriptions_refuse_operators(service_app, as_role, body, field):
    client = service_app("notify").test_client()
    head = as_role("unit_head", unit="u-a")
    names_field(client.post("/api/v1/subscriptions", json=body, headers=head), "json", field)
    assert client.get("/api/v1/subscriptions", headers=head).get_json()["total"] == 0


def test_routes_and_templates_refuse_operators_in_names_and_bodies(service_app, as_role):
    client = service_app("notify").test_client()
    ops = as_role("communications", "admin")
    rule = {"audiences": [{"kind": "unit"}], "channels": ["inbox"], "template": "report_due_soon"}
    for event_type in ("$where", "a.b", "vn.tdkt.nope.v1"):
        response = client.put(f"/api/v1/routes/{event_type}", json=rule, headers=ops)
        assert response.status_code in (404, 422), (event_type, response.get_data(as_text=True)[:300])
    names_field(client.put("/api/v1/routes/vn.tdkt.reports.report.due_soon.v1", json={**rule, "template": OPERATOR}, headers=ops), "json", "template")
    for name in ("$where", "a.b"):
        response = client.put(f"/api/v1/templates/{name}", json={"subject": "x", "txt": "x", "html": "x"}, headers=ops)
        assert response.status_code in (404, 422), (name, response.get_data(as_text=True)[:300])
