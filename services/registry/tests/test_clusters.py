"""Clusters and blocks over HTTP: create with terms, filters, If-Match, and every refusal a 4xx."""

from __future__ import annotations

import pytest
from tdkt.clock import local_today
from tdkt_registry.adapters.documents import ClusterDocument

COVENANT = {"number": "12/GƯTĐ", "date": "2024-02-20", "issuer": "Cụm thi đua Bình Lư", "title": "Giao ước thi đua năm 2024"}


def problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    return response.get_json()


@pytest.fixture
def members(small_tree):
    return [small_tree.communes[c] for c in ("03390", "03412", "03413")]


@pytest.fixture
def cluster(client, officer, members):
    town, binh_lu, son_binh = members
    body = {
        "name": "Cụm thi đua Bình Lư",
        "kind": "cluster",
        "member_ids": members,
        "terms": [{"year": 2024, "leader_id": binh_lu, "deputy_id": son_binh, "covenant": COVENANT}],
    }
    response = client.post("/api/v1/clusters", json=body, headers=officer)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert response.headers["Location"] == f"/api/v1/clusters/{created['id']}"
    return created


def test_create_read_filter_and_event(client, officer, as_role, small_tree, members, cluster):
    assert [m["name"] for m in cluster["members"]] == ["Thị trấn Tam Đường", "Xã Bình Lư", "Xã Sơn Bình"]
    assert cluster["terms"] == [{"year": 2024, "leader_id": members[1], "deputy_id": members[2], "covenant": COVENANT}]

    reader = as_role("unit_head", unit=members[0])
    got = client.get(f"/api/v1/clusters/{cluster['id']}", headers=reader)
    assert got.status_code == 200 and got.headers["ETag"] and got.get_json()["members"][1]["name"] == "Xã Bình Lư"

    block = {"name": "Khối các cơ quan tỉnh", "kind": "block", "member_ids": [small_tree.province, small_tree.district]}
    assert client.post("/api/v1/clusters", json=block, headers=officer).status_code == 201

    def names(**query):
        found = client.get("/api/v1/clusters", query_string=query, headers=reader).get_json()
        return [c["name"] for c in found["items"]]

    assert names() == ["Cụm thi đua Bình Lư", "Khối các cơ quan tỉnh"]
    assert names(q="binh lu") == names(q="BÌNH LƯ") == names(member_id=members[1]) == names(year=2024) == ["Cụm thi đua Bình Lư"]
    assert names(kind="block") == names(member_id=small_tree.province) == ["Khối các cơ quan tỉnh"]
    assert names(year=2025) == []

    outbox = ClusterDocument.objects(id=cluster["id"]).first().outbox
    assert [e["type"] for e in outbox] == ["vn.tdkt.registry.cluster.registered.v1"]
    state = {k: v for k, v in cluster.items() if k not in ("members", "version")}
    assert outbox[0]["data"] == {"cluster": state} and outbox[0]["subject"] == cluster["id"]


def test_changes_need_the_current_etag(client, officer, members, cluster):
    town, binh_lu, son_binh = members
    url = f"/api/v1/clusters/{cluster['id']}"
    etag = client.get(url, headers=officer).headers["ETag"]
    renamed = {"name": "Cụm thi đua số 1", "member_ids": members}

    problem(client.put(url, json=renamed, headers=officer), 428)
    problem(client.put(url, json=renamed, headers={**officer, "If-Match": '"stale"'}), 412)
    response = client.put(url, json=renamed, headers={**officer, "If-Match": etag})
    assert response.status_code == 200 and response.get_json()["name"] == "Cụm thi đua số 1"
    problem(client.put(url, json=renamed, headers={**officer, "If-Match": etag}), 412)  # the old ETag is spent

    etag = response.headers["ETag"]
    term = {"leader_id": town, "deputy_id": binh_lu, "covenant": {**COVENANT, "date": "2025-02-18"}}
    problem(client.put(f"{url}/terms/2025", json=term, headers=officer), 428)
    response = client.put(f"{url}/terms/2025", json=term, headers={**officer, "If-Match": etag})
    assert response.status_code == 200, response.get_json()
    assert [(t["year"], t["leader_id"]) for t in response.get_json()["terms"]] == [(2024, binh_lu), (2025, town)]

    doc = ClusterDocument.objects(id=cluster["id"]).first()
    assert [e["type"].split(".")[-2] for e in doc.outbox] == ["registered", "updated", "updated"]
    assert doc.outbox[-1]["data"]["cluster"]["terms"][1]["covenant"]["date"] == "2025-02-18"


def test_refusals(client, officer, as_role, small_tree, members, cluster):
    town, binh_lu, son_binh = members
    base = {"name": "Cụm thử", "kind": "cluster", "member_ids": [town, binh_lu]}

    def refused(body, status=422, headers=officer):
        return problem(client.post("/api/v1/clusters", json=body, headers=headers), status)

    body = refused({**base, "terms": [{"year": 2024, "leader_id": son_binh}]})
    assert "terms.0.leader_id" in body["errors"]["json"]
    assert "member_ids.2" in refused({**base, "member_ids": [town, binh_lu, "no-such-unit"]})["errors"]["json"]
    assert "member_ids.1" in refused({**base, "member_ids": [town, town]})["errors"]["json"]
    assert "member_ids" in refused({**base, "member_ids": [town]})["errors"]["json"]
    assert "terms.0.deputy_id" in refused({**base, "terms": [{"year": 2024, "leader_id": town, "deputy_id": town}]})["errors"]["json"]
    assert "terms.1.year" in refused({**base, "terms": [{"year": 2024, "leader_id": town}, {"year": 2024, "leader_id": binh_lu}]})["errors"]["json"]
    assert "year" in refused({**base, "terms": [{"year": 1999, "leader_id": town}]})["errors"]["json"]["terms"]["0"]  # marshmallow nests
    assert "colour" in refused({**base, "colour": "red"})["errors"]["json"]
    refused(base, 403, as_role("unit_head", unit=town))
    problem(client.get("/api/v1/clusters"), 401)

    url = f"/api/v1/clusters/{cluster['id']}"
    etag = client.get(url, headers=officer).headers["ETag"]
    body = problem(client.put(f"{url}/terms/2025", json={"leader_id": small_tree.district}, headers={**officer, "If-Match": etag}), 422)
    assert "leader_id" in body["errors"]["json"]
    # this year's leader cannot leave the cluster; the 2024 term is history, its deputy may leave
    response = client.put(f"{url}/terms/{local_today().year}", json={"leader_id": town}, headers={**officer, "If-Match": etag})
    assert response.status_code == 200, response.get_json()
    etag = response.headers["ETag"]
    problem(client.put(url, json={"name": "Cụm thi đua Bình Lư", "member_ids": [binh_lu, son_binh]}, headers={**officer, "If-Match": etag}), 409)
    assert client.put(url, json={"name": "Cụm thi đua Bình Lư", "member_ids": [town, binh_lu]}, headers={**officer, "If-Match": etag}).status_code == 200
    problem(client.get("/api/v1/clusters/no-such-cluster", headers=officer), 404)
