"""Unit events leave through the outbox and the registry's real relay process; a merge killed
half-way (kill -9 between two unit writes) is finished by the next writer, once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

from kafka import KafkaConsumer
from tdkt.events.kafka import make_admin
from tdkt.events.topics import ensure_topics
from tdkt_localstack.testing import wait_until
from tdkt_registry.adapters.unit_store import UnitStore
from tdkt_registry.bootstrap import SERVICE

LEGAL = {"number": "1670/NQ-UBTVQH15", "date": "2025-06-16", "issuer": "Ủy ban Thường vụ Quốc hội"}


def test_a_merge_is_published_and_another_consumer_sees_it(client, officer, small_tree, service_env, kafka_settings):
    admin = make_admin(kafka_settings)
    ensure_topics(admin, list(SERVICE.topics), 3)
    admin.close()
    relay = subprocess.Popen([sys.executable, "-m", "tdkt_registry", "relay"], env=os.environ | service_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    consumer = KafkaConsumer("registry.units.v1", bootstrap_servers=kafka_settings.bootstrap_servers, auto_offset_reset="earliest", group_id=None, consumer_timeout_ms=1000)
    try:
        predecessors = [small_tree.communes["03390"], small_tree.communes["03412"]]
        response = client.post(
            "/api/v1/unit-merges",
            json={
                "effective_date": "2025-07-01",
                "legal_basis": LEGAL,
                "predecessor_ids": predecessors,
                "new_unit": {"code": "03390", "name": "Xã Bình Lư", "kind": "commune", "parent_id": small_tree.province},
            },
            headers=officer,
        )
        assert response.status_code == 201
        successor = next(u["id"] for u in response.get_json()["units"] if u["id"] not in predecessors)
        wanted = {*predecessors, successor}
        seen: dict[str, dict] = {}

        def merged_events_arrived():
            for record in consumer:
                headers = dict(record.headers)
                if record.key and record.key.decode() in wanted and headers.get("ce_type") == b"vn.tdkt.registry.unit.merged.v1":
                    seen[record.key.decode()] = json.loads(record.value)
            return set(seen) == wanted

        wait_until(merged_events_arrived, timeout=30, message="the merge's events on registry.units.v1")
        for unit_id in predecessors:
            assert seen[unit_id]["unit"]["valid_to"] == "2025-06-30" and seen[unit_id]["unit"]["successor_ids"] == [successor]
        assert sorted(seen[successor]["unit"]["predecessor_ids"]) == sorted(predecessors)
        assert seen[successor]["act"]["legal_basis"]["number"] == "1670/NQ-UBTVQH15"
    finally:
        consumer.close()
        relay.terminate()
        relay.wait(timeout=10)


CRASHING_MERGE = textwrap.dedent(
    """
    import os, signal, sys
    from tdkt.store import connect_store
    from tdkt.settings import load_mongo_settings
    from tdkt_registry.adapters import unit_store
    from tdkt_registry.service_layer import units

    writes = []
    original = unit_store.UnitStore._write_unit

    def write_then_die(self, *args):
        result = original(self, *args)
        writes.append(result)
        if len(writes) == 2:  # the worst moment: some units carry the act, others do not
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    unit_store.UnitStore._write_unit = write_then_die
    store = unit_store.UnitStore(connect_store(load_mongo_settings("registry")), lease_ttl_s=2)  # a dead writer's lease expires soon
    units.merge_units(store, {"effective_date": "2025-07-01", "legal_basis": None, "predecessor_ids": sys.argv[1:], "into_id": None,
                              "new_unit": {"code": "09999", "name": "Xã Hợp Nhất", "kind": "commune", "parent_id": None}}, "test")
    """
)


def test_a_merge_killed_half_way_is_finished_once_by_the_next_writer(store, small_tree, service_env, mongo_db):
    predecessors = list(small_tree.communes.values())
    child = subprocess.run([sys.executable, "-c", CRASHING_MERGE, *predecessors], env=os.environ | service_env, capture_output=True, text=True, timeout=60)
    assert child.returncode == -signal.SIGKILL, child.stderr
    meta = mongo_db.registry_meta.find_one({"_id": "units"})
    act_id = meta["pending_act"]
    assert act_id, "the act is recorded as pending"
    assert sum(act_id in u["acts"] for u in mongo_db.units.find()) == 2, "two unit writes landed before the kill"

    with UnitStore(mongo_db, lock_wait_s=30).writing():  # the next writer waits out the dead one's lease, then finishes its act
        pass

    act = mongo_db.unit_acts.find_one({"_id": act_id})
    assert act["status"] == "applied"
    touched = list(mongo_db.units.find({"_id": {"$in": act["unit_ids"]}}))
    assert len(touched) == 4 and all(act_id in u["acts"] for u in touched)
    for unit in touched:  # one event per unit for this act: the resumed writes did not repeat the two that landed
        assert len([e for e in unit["outbox"] if e["data"]["act"]["id"] == act_id]) == 1
    directory = store.directory()
    assert all(directory.get(p).end_reason == "merged" for p in predecessors)
    assert store.verify_chain() == (6, None)  # 5 establishments + the merge: the hash chain is intact


def test_tampering_with_an_act_breaks_the_chain(store, small_tree, mongo_db):
    assert store.verify_chain() == (5, None)
    victim = mongo_db.unit_acts.find_one({"kind": "establish", "changes.unit.code": "03412"})
    mongo_db.unit_acts.update_one({"_id": victim["_id"]}, {"$set": {"actor": "someone else"}})
    checked, broken = store.verify_chain()
    assert broken == victim["_id"] and checked < 5
