"""Two relays on one outbox (two replicas of a service): only the lease holder publishes, and
when it dies the other takes over once the lease expires."""

from __future__ import annotations

import time

from tdkt.events.outbox import save_aggregate
from tdkt.settings import RelaySettings

from .conftest import Account, deposited, read_topic

SHORT_LEASE = RelaySettings(poll_interval_ms=10, batch_size=100, sweep_interval_s=3600, lease_ttl_s=4)


def test_only_the_lease_holder_publishes_and_a_dead_holder_is_replaced(source_db, make_topic, relay_factory, servers):
    topic = make_topic()
    first, second = relay_factory(settings=SHORT_LEASE), relay_factory(settings=SHORT_LEASE)

    def write(n):
        for i in range(n):
            account = Account(id=f"acc-{time.monotonic_ns()}-{i}", owner="Xã Bản Hon")
            account.record(deposited(topic.name), {"amount": i})
            save_aggregate(account)

    write(5)
    assert first.run_once() == 5
    write(5)
    assert second.run_once() == 0, "the other replica holds the lease"
    assert first.run_once() == 5

    write(5)  # the holder dies without releasing its lease
    deadline = time.monotonic() + 20
    published = 0
    while published == 0 and time.monotonic() < deadline:
        published = second.run_once()
        time.sleep(0.1)
    assert published == 5, "taken over after the lease expired"
    assert len(read_topic(topic.name, servers.kafka_bootstrap)) == 15, "and nothing was published twice"
