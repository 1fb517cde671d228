"""What the code relies on from the store, checked against the store the tests run on (the
patched FerretDB locally, MongoDB elsewhere): single-document updates are atomic, and the
outbox's `$push` / `$pullAll` pair never loses an entry when a writer and the relay race."""

from __future__ import annotations

import threading


def test_concurrent_updates_of_one_document_are_atomic(mongo_db):
    mongo_db.counters.insert_one({"_id": "c", "n": 0})

    def bump():
        for _ in range(150):
            mongo_db.counters.update_one({"_id": "c"}, {"$inc": {"n": 1}})

    threads = [threading.Thread(target=bump) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert mongo_db.counters.find_one({"_id": "c"})["n"] == 600


def test_push_and_pullall_race_loses_nothing(mongo_db):
    mongo_db.aggs.insert_one({"_id": "a", "outbox": []})
    pushed = []

    def writer():
        for i in range(200):
            entry = {"id": f"e{i}", "n": i}
            mongo_db.aggs.update_one({"_id": "a"}, {"$push": {"outbox": {"$each": [entry]}}})
            pushed.append(entry)

    removed = []

    def relay():
        while len(removed) < 200:
            entries = mongo_db.aggs.find_one({"_id": "a"})["outbox"]
            if entries:
                mongo_db.aggs.update_one({"_id": "a"}, {"$pullAll": {"outbox": entries}})
                removed.extend(e["id"] for e in entries)

    threads = [threading.Thread(target=writer), threading.Thread(target=relay)]
    [t.start() for t in threads]
    threads[0].join()
    threads[1].join(60)
    assert sorted(removed, key=lambda x: int(x[1:])) == [e["id"] for e in pushed], "each entry seen by the relay exactly once"
    assert mongo_db.aggs.find_one({"_id": "a"})["outbox"] == []
