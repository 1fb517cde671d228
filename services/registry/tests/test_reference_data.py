"""The real reference data: today's administrative units from `vietnam-provinces` plus the Tam
Đường history, loaded by the operator commands, read back over HTTP as of 2023 and of 2025."""

from __future__ import annotations

import os
import subprocess
import sys

REFORM_SUCCESSORS = {"03390": "Xã Bình Lư", "03405": "Xã Tả Lèng", "03430": "Xã Khun Há", "03424": "Xã Bản Bo", "03394": "Xã Sin Suối Hồ", "03408": "Phường Tân Phong"}


def tdkt(env: dict, *args: str) -> str:
    """The operator's command, in its own process as an operator runs it."""
    done = subprocess.run([sys.executable, "-m", "tdkt.cli", *args], env=os.environ | env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_import_is_idempotent_and_the_history_reads_as_of_any_date(client, officer, service_env):
    first = tdkt(service_env, "registry", "import-admin-units")
    assert "3391 created" in first and "Huyện Tam Đường (106)" in first
    assert "nothing changed: 3391 units already up to date" in tdkt(service_env, "registry", "import-admin-units")

    provinces = client.get("/api/v1/units", query_string={"kind": "province", "per_page": 1}, headers=officer).get_json()
    cities = client.get("/api/v1/units", query_string={"kind": "municipality", "per_page": 1}, headers=officer).get_json()
    assert provinces["total"] + cities["total"] == 34
    lai_chau = client.get("/api/v1/units", query_string={"q": "lai chau", "kind": "province"}, headers=officer).get_json()["items"][0]
    assert lai_chau["code"] == "12" and lai_chau["valid_from"] == "2004-01-01"
    today = client.get("/api/v1/units", query_string={"parent_id": lai_chau["id"], "per_page": 100}, headers=officer).get_json()
    assert today["total"] == 38  # Lai Châu's communes and wards since 2025-07-01

    district = client.get("/api/v1/units", query_string={"q": "106", "as_of": "2023-06-15"}, headers=officer).get_json()["items"][0]
    assert district["name"] == "Huyện Tam Đường" and district["status"] == "active"
    in_2023 = client.get(f"/api/v1/units/{district['id']}/children", query_string={"as_of": "2023-06-15"}, headers=officer).get_json()
    communes = [u for u in in_2023 if u["kind"] in ("commune", "town")]
    assert len(communes) == 13 and len(in_2023) == 35  # and 22 agencies and organisations
    assert client.get(f"/api/v1/units/{district['id']}/children", query_string={"as_of": "2025-07-02"}, headers=officer).get_json() == []
    assert client.get(f"/api/v1/units/{district['id']}", query_string={"as_of": "2025-07-02"}, headers=officer).get_json()["status"] == "dissolved"

    for commune in communes:
        then = client.get(f"/api/v1/units/{commune['id']}", query_string={"as_of": "2025-07-02"}, headers=officer).get_json()
        assert then["status"] == "merged" and len(then["successor_ids"]) == 1, then
        successor = client.get(f"/api/v1/units/{then['successor_ids'][0]}", query_string={"as_of": "2025-07-02"}, headers=officer).get_json()
        assert successor["status"] == "active" and REFORM_SUCCESSORS[successor["code"]] == successor["name"]
        assert successor["parent_id"] == lai_chau["id"]
    merge = client.get("/api/v1/unit-acts", query_string={"kind": "merge", "per_page": 10}, headers=officer).get_json()["items"]
    assert {a["legal_basis"]["number"] for a in merge} == {"1670/NQ-UBTVQH15"} and len(merge) == 6

    assert "35 participating units" in tdkt(service_env, "registry", "seed-plan")
    assert "nothing changed" in tdkt(service_env, "registry", "seed-plan")
    movement = client.get("/api/v1/movements", headers=officer).get_json()["items"][0]
    assert movement["state"] == "launched" and len(movement["content_areas"]) == 8 and movement["period_end"] == "2023-10-30"
    assert movement["organiser_id"] == district["id"]
