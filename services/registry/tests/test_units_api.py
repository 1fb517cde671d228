"""Units over HTTP: hierarchy, search, history acts, as_of reads, and every refusal a 4xx."""

from __future__ import annotations

LEGAL = {"number": "1670/NQ-UBTVQH15", "date": "2025-06-16", "issuer": "Ủy ban Thường vụ Quốc hội"}


def problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    return response.get_json()


def test_hierarchy_and_search_as_of(client, officer, small_tree):
    kids = client.get(f"/api/v1/units/{small_tree.district}/children?as_of=2023-06-15", headers=officer).get_json()
    assert [k["name"] for k in kids] == ["Thị trấn Tam Đường", "Xã Bình Lư", "Xã Sơn Bình"]  # Vietnamese order
    assert {k["level"] for k in kids} == {"commune"}

    up = client.get(f"/api/v1/units/{small_tree.communes['03412']}/ancestors", headers=officer).get_json()
    assert [u["code"] for u in up] == ["106", "12"]

    subtree = client.get(f"/api/v1/units/{small_tree.province}/subtree", headers=officer).get_json()
    assert subtree["total"] == 4 and [i["depth"] for i in subtree["items"]] == [1, 2, 2, 2]

    for text in ("tam duong", "Tam Đường", "TAM ĐUONG", "03390"):
        found = client.get("/api/v1/units", query_string={"q": text}, headers=officer).get_json()
        assert "Thị trấn Tam Đường" in [u["name"] for u in found["items"]], text

    agencies = client.get("/api/v1/units", query_string={"kind": "district", "parent_id": small_tree.province}, headers=officer).get_json()
    assert [u["code"] for u in agencies["items"]] == ["106"]


def test_merge_moves_history_and_lineage(client, officer, small_tree):
    town, binh_lu, son_binh = (small_tree.communes[c] for c in ("03390", "03412", "03413"))
    response = client.post(
        "/api/v1/unit-merges",
        json={
            "effective_date": "2025-07-01",
            "legal_basis": LEGAL,
            "predecessor_ids": [town, binh_lu, son_binh],
            "new_unit": {"code": "03390", "name": "Xã Bình Lư", "kind": "commune", "parent_id": small_tree.province},
        },
        headers=officer,
    )
    assert response.status_code == 201, response.get_json()
    result = response.get_json()
    assert result["act"]["kind"] == "merge" and result["act"]["legal_basis"]["number"] == "1670/NQ-UBTVQH15"
    successor = next(u for u in result["units"] if u["valid_from"] == "2025-07-01")

    # 03390 is Thị trấn Tam Đường in 2023 and Xã Bình Lư from 2025-07-01: the same code, two units
    then = client.get("/api/v1/units", query_string={"q": "03390", "as_of": "2023-06-15"}, headers=officer).get_json()["items"]
    now = client.get("/api/v1/units", query_string={"q": "03390", "as_of": "2025-07-02"}, headers=officer).get_json()["items"]
    assert [u["name"] for u in then] == ["Thị trấn Tam Đường"]
    assert [u["id"] for u in now if u["code"] == "03390"] == [successor["id"]]
    assert client.get(f"/api/v1/units/{small_tree.district}/children?as_of=2025-07-02", headers=officer).get_json() == []

    old = client.get(f"/api/v1/units/{town}", query_string={"as_of": "2025-07-02"}, headers=officer).get_json()
    assert old["status"] == "merged" and old["successor_ids"] == [successor["id"]] and old["valid_to"] == "2025-06-30"

    lineage = client.get(f"/api/v1/units/{successor['id']}/lineage", headers=officer).get_json()
    assert {p["unit"]["name"] for p in lineage["predecessors"]} == {"Thị trấn Tam Đường", "Xã Bình Lư", "Xã Sơn Bình"}
    assert client.get(f"/api/v1/units/{town}/lineage", headers=officer).get_json()["successors"][0]["unit"]["id"] == successor["id"]

    acts = client.get("/api/v1/unit-acts", query_string={"unit_id": town}, headers=officer).get_json()
    assert [a["kind"] for a in acts["items"]] == ["merge", "establish"]


def test_refusals_are_4xx_naming_the_problem(client, officer, small_tree):
    # duplicate code over an overlapping period → 409 naming the other unit
    body = problem(client.post("/api/v1/units", json={"code": "03412", "name": "Xã Trùng", "kind": "commune", "parent_id": small_tree.district}, headers=officer), 409)
    assert body["other_unit"]["id"] == small_tree.communes["03412"] and "Xã Bình Lư" in body["detail"]

    # a cycle in the hierarchy
    problem(
        client.post(
            f"/api/v1/units/{small_tree.province}/moves", json={"effective_date": "2024-01-01", "legal_basis": LEGAL, "parent_id": small_tree.communes["03390"]}, headers=officer
        ),
        409,
    )

    # dissolve with active children → 409; dissolve a commune, then merge into it → 409
    problem(client.post(f"/api/v1/units/{small_tree.district}/dissolutions", json={"effective_date": "2025-07-01", "legal_basis": LEGAL}, headers=officer), 409)
    gone = small_tree.communes["03413"]
    assert client.post(f"/api/v1/units/{gone}/dissolutions", json={"effective_date": "2024-01-01", "legal_basis": LEGAL}, headers=officer).status_code == 201
    body = problem(
        client.post(
            "/api/v1/unit-merges", json={"effective_date": "2025-01-01", "legal_basis": LEGAL, "predecessor_ids": [small_tree.communes["03412"]], "into_id": gone}, headers=officer
        ),
        409,
    )
    assert body["status"] == 409 and "dissolved" in body["detail"]

    # dates out of order: an act before the unit's latest change; valid_to before valid_from
    body = problem(
        client.post(f"/api/v1/units/{small_tree.communes['03390']}/renames", json={"effective_date": "2003-01-01", "legal_basis": LEGAL, "name": "X"}, headers=officer), 422
    )
    assert "effective_date" in body["errors"]["json"]
    body = problem(client.post("/api/v1/units", json={"name": "A", "kind": "agency", "valid_from": "2024-01-02", "valid_to": "2024-01-01"}, headers=officer), 422)
    assert "valid_to" in body["errors"]["json"]

    # unknown fields, malformed as_of, unknown kind, operator injection in a query string
    assert "role" in problem(client.post("/api/v1/units", json={"name": "A", "kind": "agency", "role": "admin"}, headers=officer), 422)["errors"]["json"]
    assert "as_of" in problem(client.get("/api/v1/units?as_of=2023-13-45", headers=officer), 422)["errors"]["query"]
    assert "kind" in problem(client.get("/api/v1/units?kind=castle", headers=officer), 422)["errors"]["query"]
    assert client.get("/api/v1/units", query_string={"q": '{"$ne": null}'}, headers=officer).get_json()["total"] == 0
    problem(client.get("/api/v1/units/nope", headers=officer), 404)


def test_if_match_contacts_and_roles(client, officer, as_role, small_tree):
    unit_id = small_tree.communes["03412"]
    got = client.get(f"/api/v1/units/{unit_id}", headers=officer)
    etag = got.headers["ETag"]
    patch = {"contacts": {"email": "binhlu@laichau.gov.vn", "phone": "0213 3875 123"}, "head": {"name": "Lò Văn A", "title": "Chủ tịch UBND xã"}}
    problem(client.patch(f"/api/v1/units/{unit_id}", json=patch, headers=officer), 428)
    updated = client.patch(f"/api/v1/units/{unit_id}", json=patch, headers=officer | {"If-Match": etag})
    assert updated.status_code == 200 and updated.get_json()["contacts"]["email"] == "binhlu@laichau.gov.vn"
    problem(client.patch(f"/api/v1/units/{unit_id}", json={"note": "x"}, headers=officer | {"If-Match": etag}), 412)
    assert (
        "email" in problem(client.patch(f"/api/v1/units/{unit_id}", json={"contacts": {"email": "nope"}}, headers=officer | {"If-Match": "*"}), 422)["errors"]["json"]["contacts"]
    )

    own, other = as_role("unit_head", unit=unit_id), as_role("unit_head", unit=small_tree.communes["03390"])
    assert client.get(f"/api/v1/units/{unit_id}", headers=own).get_json()["contacts"]["phone"] == "0213 3875 123"
    assert "contacts" not in client.get(f"/api/v1/units/{unit_id}", headers=other).get_json()
    problem(client.post("/api/v1/units", json={"name": "A", "kind": "agency"}, headers=own), 403)
    problem(client.get("/api/v1/units"), 401)


def test_a_conflict_with_its_extension_member_matches_the_documented_problem(client, officer, small_tree):
    """Found by tests/fuzz: the 409 on a duplicate code carries `other_unit` (an RFC 9457
    extension member), but the documented Problem schema said additionalProperties: false."""
    import jsonschema

    body = problem(client.post("/api/v1/units", json={"code": "03412", "name": "Xã Trùng", "kind": "commune", "parent_id": small_tree.district}, headers=officer), 409)
    documented = client.get("/openapi.json").get_json()["components"]["schemas"]["Problem"]
    jsonschema.validate(body, documented)
    assert body["other_unit"]["id"] == small_tree.communes["03412"]
