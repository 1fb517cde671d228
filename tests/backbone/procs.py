"""Relay and consumer processes for the crash tests: the same classes a service runs, in a real
process that the test can kill -9 at any moment.

    python procs.py relay MONGO_URI DB BOOTSTRAP
    python procs.py consumer MONGO_URI DB BOOTSTRAP TOPIC GROUP
"""

from __future__ import annotations

import signal
import sys
import time

import mongoengine
from pymongo.errors import DuplicateKeyError
from tdkt.events.consumer import ConsumerRunner, Subscription
from tdkt.events.kafka import make_consumer, make_producer
from tdkt.events.relay import OutboxRelay
from tdkt.settings import ConsumerSettings, KafkaSettings, RelaySettings

EVENT_TYPE = "vn.tdkt.test.account.deposited.v1"


def guarded_effect(event, ctx):
    """A handler with its own state guard, as real projections have: apply an event only if its
    sequence is past the last one applied to that aggregate."""
    ctx.db.invocations.update_one({"_id": event.id}, {"$inc": {"n": 1}}, upsert=True)
    time.sleep(0.004)  # slow enough that a kill lands between effects, not after the last one
    result = ctx.db.effects.update_one(
        {"_id": event.subject, "last_seq": {"$lt": event.sequence}}, {"$inc": {"count": 1}, "$set": {"last_seq": event.sequence}, "$push": {"seqs": event.sequence}}
    )
    if result.matched_count == 0:
        try:
            ctx.db.effects.insert_one({"_id": event.subject, "count": 1, "last_seq": event.sequence, "seqs": [event.sequence]})
        except DuplicateKeyError:
            pass  # already applied (a redelivery after a crash): the guard said so


def main() -> None:
    role, uri, db_name, bootstrap = sys.argv[1:5]
    db = mongoengine.connect(db=db_name, host=uri, tz_aware=True).get_database(db_name)
    kafka = KafkaSettings([bootstrap], f"crash-{role}", 3)
    producer = make_producer(kafka)
    if role == "relay":
        worker = OutboxRelay(db, producer, ["accounts"], RelaySettings(poll_interval_ms=10, batch_size=50, sweep_interval_s=1, lease_ttl_s=2))
    else:
        topic, group = sys.argv[5:7]
        settings = ConsumerSettings(group, max_poll_records=20, max_poll_interval_ms=30000, max_attempts=3, retry_backoff_ms=10)
        consumer = make_consumer(kafka, group, max_poll_records=20, session_timeout_ms=6000, heartbeat_interval_ms=500)
        worker = ConsumerRunner(db, consumer, producer, group, [Subscription(EVENT_TYPE, topic, guarded_effect)], settings)
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    print("ready", flush=True)
    worker.run()


if __name__ == "__main__":
    main()
