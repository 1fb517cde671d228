"""The scheduler runs each job at its interval in a background thread, survives a failing run,
stops cleanly, and lets one replica at a time do a job's work (the lease)."""

from __future__ import annotations

import threading
import time

from tdkt.scheduler import PeriodicJob, Scheduler


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_a_job_runs_repeatedly_and_stops_cleanly(mongo_db):
    runs: list[float] = []
    scheduler = Scheduler(mongo_db, [PeriodicJob("tick", 0.05, lambda db: runs.append(time.monotonic()) or {"ticks": len(runs)})], name="test-scheduler")
    scheduler.start()
    wait_for(lambda: len(runs) >= 3)
    scheduler.stop()
    assert not scheduler.alive and not any(t.name == "test-scheduler" for t in threading.enumerate())
    done = len(runs)
    time.sleep(0.2)
    assert len(runs) == done  # nothing runs after stop
    assert all(later - earlier >= 0.04 for earlier, later in zip(runs, runs[1:], strict=False))  # at its interval, not in a busy loop
    assert mongo_db.leases.count_documents({}) == 0  # released on stop, for another replica to take over at once


def test_a_failing_run_is_logged_and_the_job_runs_again(mongo_db, monkeypatch):
    monkeypatch.setattr("tdkt.scheduler.RETRY_AFTER_FAILURE_S", 0.05)
    calls = []

    def flaky(db):
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("store hiccup")
        return {"ok": 1}

    scheduler = Scheduler(mongo_db, [PeriodicJob("flaky", 0.05, flaky)])
    scheduler.start()
    wait_for(lambda: scheduler.runs["flaky"] >= 1)
    scheduler.stop()
    assert len(calls) >= 3 and not scheduler.alive


def test_one_replica_at_a_time_does_the_work_and_another_takes_over_when_it_stops(mongo_db):
    ran_by: list[str] = []
    first = Scheduler(mongo_db, [PeriodicJob("shared", 0.05, lambda db: ran_by.append("first"))], lease_ttl_s=30)
    second = Scheduler(mongo_db, [PeriodicJob("shared", 0.05, lambda db: ran_by.append("second"))], lease_ttl_s=30)
    first.start()
    wait_for(lambda: ran_by.count("first") >= 1)
    second.start()
    wait_for(lambda: ran_by.count("first") >= 5)
    assert "second" not in ran_by  # the lease is held by the replica that runs on time
    first.stop()  # releases its lease: the other one need not wait 30 s for it to expire
    wait_for(lambda: "second" in ran_by)
    second.stop()
    assert not first.alive and not second.alive
