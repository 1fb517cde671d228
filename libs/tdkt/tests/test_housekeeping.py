from datetime import UTC, datetime, timedelta

from tdkt.housekeeping import sweep_expired


def test_expired_claims_and_idempotency_keys_are_removed_and_nothing_else(mongo_db):
    now = datetime.now(UTC)
    mongo_db.processed_events.insert_many([{"_id": "g:old", "batch": "b", "at": now - timedelta(days=15)}, {"_id": "g:new", "batch": "b", "at": now - timedelta(days=1)}])
    mongo_db.idempotency_keys.insert_many([{"_id": "k-old", "expires_at": now - timedelta(minutes=1)}, {"_id": "k-new", "expires_at": now + timedelta(hours=1)}])
    assert sweep_expired(mongo_db, now) == {"claims": 1, "idempotency_keys": 1}
    assert [d["_id"] for d in mongo_db.processed_events.find({})] == ["g:new"]
    assert [d["_id"] for d in mongo_db.idempotency_keys.find({})] == ["k-new"]
