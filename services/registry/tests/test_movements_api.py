"""Movements and registrations over HTTP: lifecycle, what may change in each state, participant
selectors, targets checked against the criteria, and who may do what."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tdkt.clock import local_today
from tdkt_registry.adapters.documents import MovementDocument

TODAY = local_today()


def problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def movement_body(tree, **overrides):
    body = {
        "title": "Thi đua hoàn thành chỉ tiêu kinh tế – xã hội",
        "kind": "campaign",
        "organiser_id": tree.district,
        "period_start": (TODAY - timedelta(days=10)).isoformat(),
        "period_end": (TODAY + timedelta(days=120)).isoformat(),
        "registration_deadline": (TODAY + timedelta(days=20)).isoformat(),
        "content_areas": [{"key": "kinh-te", "title": "Kinh tế"}, {"key": "an-ninh", "title": "Quốc phòng – an ninh"}],
        "criteria": [
            {"key": "giai-ngan", "area": "kinh-te", "name": "Giải ngân đầu tư công", "unit_of_measure": "%", "target": 95, "value_type": "percent", "weight": 2},
            {
                "key": "tai-nan",
                "area": "an-ninh",
                "name": "Tai nạn giao thông nghiêm trọng",
                "unit_of_measure": "vụ",
                "target": 2,
                "direction": "lower_is_better",
                "value_type": "integer",
            },
        ],
        "schedule": {"monthly_day": 25, "final_due": (TODAY + timedelta(days=110)).isoformat()},
        "participants": {"selector": "communes_of", "selector_id": tree.district},
        "award_forms": ["Giấy khen"],
    }
    return body | overrides


@pytest.fixture
def launched(client, officer, small_tree):
    created = client.post("/api/v1/movements", json=movement_body(small_tree), headers=officer)
    assert created.status_code == 201, created.get_json()
    movement = created.get_json()
    etag = client.get(f"/api/v1/movements/{movement['id']}", headers=officer).headers["ETag"]
    response = client.post(f"/api/v1/movements/{movement['id']}/launch", json={}, headers=officer | {"If-Match": etag})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_draft_then_launch_resolves_participants_and_publishes(client, officer, as_role, small_tree, launched):
    assert launched["state"] == "launched"
    assert sorted(launched["participant_ids"]) == sorted(small_tree.communes.values())
    assert [d["kind"] for d in launched["due_dates"]][-1] == "final" and all(d["due"][8:] == "25" for d in launched["due_dates"][:-1])
    doc = MovementDocument.objects.get(id=launched["id"])
    assert [e["type"] for e in doc.outbox] == ["vn.tdkt.registry.movement.launched.v1"]  # the draft published nothing
    assert doc.outbox[0]["data"]["movement"]["participant_ids"] == launched["participant_ids"]

    reader = as_role("unit_reporter", unit=small_tree.communes["03412"])
    assert client.get(f"/api/v1/movements/{launched['id']}", headers=reader).status_code == 200
    listed = client.get("/api/v1/movements", query_string={"participant_id": small_tree.communes["03412"], "q": "chi tieu kinh te"}, headers=reader).get_json()
    assert [m["id"] for m in listed["items"]] == [launched["id"]]


def test_what_may_change_in_each_state(client, officer, small_tree, launched):
    url = f"/api/v1/movements/{launched['id']}"
    etag = client.get(url, headers=officer).headers["ETag"]
    frozen = movement_body(small_tree, title="Tên khác")
    body = problem(client.put(url, json=frozen, headers=officer | {"If-Match": etag}), 409)
    assert body["fields"] == ["title"]

    extended = movement_body(small_tree, period_end=(TODAY + timedelta(days=200)).isoformat(), award_forms=["Giấy khen", "Bằng khen"])
    amended = client.put(url, json=extended, headers=officer | {"If-Match": etag})
    assert amended.status_code == 200, amended.get_json()
    doc = MovementDocument.objects.get(id=launched["id"])
    assert doc.outbox[-1]["type"] == "vn.tdkt.registry.movement.amended.v1" and doc.outbox[-1]["data"]["changed"] == ["period_end", "award_forms"]
    problem(client.put(url, json=extended, headers=officer | {"If-Match": etag}), 412)  # stale

    etag = amended.headers["ETag"]
    problem(client.post(f"{url}/close", json={}, headers=officer), 428)
    problem(client.post(f"{url}/close", json={}, headers=officer | {"If-Match": '"stale"'}), 412)
    closed = client.post(f"{url}/close", json={"reason": "Hết thời gian"}, headers=officer | {"If-Match": etag})
    assert closed.get_json()["state"] == "closed"
    problem(client.put(url, json=extended, headers=officer | {"If-Match": closed.headers["ETag"]}), 409)
    problem(client.post(f"{url}/cancel", json={"reason": "x"}, headers=officer | {"If-Match": closed.headers["ETag"]}), 409)


def test_bad_movements_are_refused_with_the_field_named(client, officer, small_tree):
    cases = [
        (movement_body(small_tree, period_end="2020-01-01"), "period_end"),
        (movement_body(small_tree, criteria=[{"key": "x", "area": "nowhere", "name": "X", "unit_of_measure": "%", "target": 1}]), "criteria.0.area"),
        (movement_body(small_tree, participants={"selector": "communes_of", "selector_id": small_tree.communes["03412"]}), "participants"),
        (movement_body(small_tree, participants={"unit_ids": ["nope"]}), "participants.unit_ids.0"),
        (movement_body(small_tree, organiser_id="nope"), "organiser_id"),
        (movement_body(small_tree, extra="x"), "extra"),
    ]
    for body, field in cases:
        errors = problem(client.post("/api/v1/movements", json=body, headers=officer), 422)["errors"]["json"]
        assert field in errors or field.split(".")[0] in errors, (field, errors)
    draft = client.post("/api/v1/movements", json=movement_body(small_tree, criteria=[]), headers=officer).get_json()
    etag = client.get(f"/api/v1/movements/{draft['id']}", headers=officer).headers["ETag"]
    assert "criteria" in problem(client.post(f"/api/v1/movements/{draft['id']}/launch", json={}, headers=officer | {"If-Match": etag}), 422)["errors"]["json"]


def test_registrations(client, officer, as_role, small_tree, launched):
    unit = small_tree.communes["03412"]
    head = as_role("unit_head", unit=unit)
    url = f"/api/v1/movements/{launched['id']}/registrations"
    good = {"targets": {"giai-ngan": 97, "tai-nan": 1}, "titles": ["Tập thể lao động tiên tiến"]}

    errors = problem(client.post(url, json={"targets": {"giai-ngan": 90, "tai-nan": 1}}, headers=head), 422)["errors"]["json"]
    assert "targets.giai-ngan" in errors  # easier than the movement's 95 %
    assert "targets.tai-nan" in problem(client.post(url, json={"targets": {"giai-ngan": 96, "tai-nan": 3}}, headers=head), 422)["errors"]["json"]  # lower is better
    assert "targets.tai-nan" in problem(client.post(url, json={"targets": {"giai-ngan": 96}}, headers=head), 422)["errors"]["json"]  # missing
    assert "unit_id" in problem(client.post(url, json=good | {"unit_id": small_tree.communes["03390"]}, headers=head), 422)["errors"]["json"]
    problem(client.post(url, json=good, headers=officer), 403)

    created = client.post(url, json=good, headers=head)
    assert created.status_code == 201, created.get_json()
    problem(client.post(url, json=good, headers=head), 409)
    mine = client.get(f"{url}/{unit}", headers=head)
    amended = client.put(f"{url}/{unit}", json={"targets": {"giai-ngan": 99, "tai-nan": 0}, "titles": []}, headers=head | {"If-Match": mine.headers["ETag"]})
    assert amended.status_code == 200 and amended.get_json()["amendments"] == 1

    other = as_role("unit_head", unit=small_tree.communes["03390"])
    problem(client.get(f"{url}/{unit}", headers=other), 404)
    assert client.get(url, headers=other).get_json()["total"] == 0
    assert client.get(url, headers=officer).get_json()["total"] == 1
    missing = client.get(f"/api/v1/movements/{launched['id']}/unregistered", headers=officer).get_json()
    assert {m["name"] for m in missing["items"]} == {"Thị trấn Tam Đường", "Xã Sơn Bình"}
    problem(client.get(f"/api/v1/movements/{launched['id']}/unregistered", headers=head), 403)
