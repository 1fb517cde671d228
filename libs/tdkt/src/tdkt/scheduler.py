"""Periodic jobs run in a thread of an existing process (each service's relay process), every
`interval_s` seconds, e.g. the reports service's deadline check.

Several replicas of that process may run the same jobs. Correctness never rests on the
scheduler: every job must be idempotent by itself (run twice, or by two replicas at once, or
again after a restart, it must do its effect once — the deadline check does so with a marker
written atomically with its event under optimistic concurrency). The `Lease` held per job only
avoids duplicated *work*: while one replica holds it, the others skip the job; when that replica
dies the lease expires and another takes over; a job that outlives its lease may run on two
replicas at once, which costs time, not correctness.

A job's failure is logged and the job runs again at its next turn; the thread never dies of it.
The thread is a daemon: a process stopping in the middle of a job abandons it, which is safe
because a job's writes are atomic one by one and the next run picks up what is left.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pymongo.database import Database

from tdkt.leases import Lease
from tdkt.logs import get_logger

log = get_logger(__name__)

RETRY_AFTER_FAILURE_S = 30.0  # a failed run (store away…) is retried sooner than a long interval


@dataclass(frozen=True)
class PeriodicJob:
    """`run(db)` every `interval_s` seconds; what it returns is logged (a dict of counts, or an
    object with a `counts` dict)."""

    name: str
    interval_s: float
    run: Callable[[Database], object]


class Scheduler:
    """Runs its jobs, each at its own interval, in one background thread (`start` / `stop`)."""

    def __init__(self, db: Database, jobs: Sequence[PeriodicJob], name: str = "scheduler", lease_ttl_s: float | None = None):
        self.db = db
        self.jobs = list(jobs)
        self.name = name
        holder = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        # The lease outlives one interval, so the replica that holds it keeps it by running on
        # time, and the others, whose turns fall in between, find it taken.
        self.leases = {job.name: Lease(db, f"job:{job.name}", holder, max(lease_ttl_s or 30.0, 2 * job.interval_s)) for job in self.jobs}
        self.runs: dict[str, int] = dict.fromkeys((job.name for job in self.jobs), 0)
        self._next = dict.fromkeys((job.name for job in self.jobs), 0.0)  # monotonic time of each job's next turn: now
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if not self.jobs or self._thread is not None:
            return
        self._thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the loop to stop and wait (up to `timeout`) for the job in hand to finish."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run(self) -> None:
        log.info("scheduler started", jobs={job.name: job.interval_s for job in self.jobs})
        while not self._stopping.is_set():
            for job in self.jobs:
                if self._stopping.is_set():
                    break
                if time.monotonic() >= self._next[job.name]:
                    delay = self.run_once(job)
                    self._next[job.name] = time.monotonic() + delay  # from the end: a slow run is never followed at once by the next
            if self.jobs:
                self._stopping.wait(max(0.0, min(self._next.values()) - time.monotonic()))
            else:
                self._stopping.wait()
        for lease in self.leases.values():
            try:
                lease.release()  # let another replica take over now rather than at expiry
            except Exception:  # the lease expires by itself
                pass
        log.info("scheduler stopped", runs=self.runs)

    def run_once(self, job: PeriodicJob) -> float:
        """Run `job` if this replica holds its lease; returns the seconds until its next turn."""
        started = time.monotonic()
        try:
            if not self.leases[job.name].acquire():
                log.debug("periodic job skipped: another replica holds it", job=job.name)
                return job.interval_s
            result = job.run(self.db)
        except Exception as exc:  # one failed run must not end the loop
            log.exception("periodic job failed; it runs again later", job=job.name, error=f"{exc.__class__.__name__}: {exc}")
            return min(job.interval_s, RETRY_AFTER_FAILURE_S)
        self.runs[job.name] += 1
        log.info("periodic job done", job=job.name, duration_s=round(time.monotonic() - started, 3), counts=_counts(result))
        return job.interval_s


def _counts(result: Any) -> Any:
    if result is None or isinstance(result, dict):
        return result
    counts = getattr(result, "counts", None)
    return counts if isinstance(counts, dict) else repr(result)
