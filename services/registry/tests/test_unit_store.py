"""The unit directory's store: one writer at a time, readers that catch up with the acts they
missed, and snapshots that load the same directory as reading every document."""

from __future__ import annotations

import threading

import pytest
from tdkt.errors import Busy
from tdkt.leases import Lease
from tdkt_registry.adapters import unit_store
from tdkt_registry.adapters.unit_store import SNAPSHOT_EVERY, UnitStore
from tdkt_registry.service_layer import units as use_cases


def establish(store: UnitStore, name: str, parent: str | None = None) -> str:
    _, stored = use_cases.establish_unit(store, {"name": name, "kind": "agency", "parent_id": parent}, "test")
    return stored[0].id


def test_a_second_writer_waits_then_gives_up_with_busy(mongo_db, app):
    other = Lease(mongo_db, unit_store.LOCK, "someone-else", 30)
    assert other.acquire()
    impatient = UnitStore(mongo_db, lock_wait_s=0.3)
    with pytest.raises(Busy):
        establish(impatient, "Phòng Nội vụ")
    other.release()
    assert establish(impatient, "Phòng Nội vụ")


def test_threads_sharing_a_store_take_turns(mongo_db, app):
    """An API worker's threads share one store, so one lease holder: the second thread must
    still wait for the first (found by bench/http.py: concurrent establishments answered 503)."""
    store = UnitStore(mongo_db, lock_wait_s=0.3)
    inside, leave, outcome = threading.Event(), threading.Event(), []

    def first() -> None:
        with store.writing():
            inside.set()
            leave.wait(10)

    holder = threading.Thread(target=first)
    holder.start()
    assert inside.wait(10)
    try:
        establish(store, "Phòng Nội vụ")
        outcome.append("entered while another thread wrote")
    except Busy:
        outcome.append("busy")
    finally:
        leave.set()
        holder.join()
    assert outcome == ["busy"]
    assert establish(store, "Phòng Nội vụ")


def test_readers_catch_up_with_acts_written_elsewhere(mongo_db, app):
    writer, reader = UnitStore(mongo_db), UnitStore(mongo_db)
    first = establish(writer, "Văn phòng HĐND và UBND")
    seen = reader.directory()
    stale = unit_store._cache[mongo_db.name]  # what a reader in another process holds: generation 1
    second = establish(writer, "Phòng Tư pháp", parent=first)
    unit_store._cache[mongo_db.name] = stale  # (in this process the writer's own cache followed its write)
    caught_up = reader.directory()
    assert caught_up.get(second).current.parent_id == first
    assert seen.get(second) is None, "the published directory was not mutated under its readers"
    assert unit_store._cache[mongo_db.name].loaded_at == stale.loaded_at, "caught up from the act, not reloaded"
    assert unit_store._cache[mongo_db.name].key == (stale.key[0], 2)


def test_the_snapshot_loads_what_the_documents_hold(mongo_db, app):
    store = UnitStore(mongo_db)
    ids = [establish(store, f"Trường Tiểu học số {i}") for i in range(SNAPSHOT_EVERY + 2)]
    meta = mongo_db.registry_meta.find_one({"_id": "units"})
    assert meta["snapshot"]["generation"] == SNAPSHOT_EVERY  # written on the way, then two acts more
    unit_store._cache.clear()
    from_snapshot, how = store._load(meta)
    from_documents, _ = store._load({})
    assert how == f"snapshot {SNAPSHOT_EVERY} + 2 act(s)"
    assert {u.id: (u.to_dict(), u.version, u.acts) for u in from_snapshot.all()} == {u.id: (u.to_dict(), u.version, u.acts) for u in from_documents.all()}
    assert set(ids) <= {u.id for u in from_snapshot.all()}
