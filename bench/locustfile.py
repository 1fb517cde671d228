"""The load of `bench/http.py`, run by locust in a process of its own (never the benchmark's):

    TDKT_BENCH_PLAN=plan.json locust -f bench/locustfile.py --headless -u 8 -r 8 -t 9s --host http://…

The plan (JSON) names the requests, one per user in turn (so each user can be a different unit
and never contends with another for the same record): `method`, `path`, `headers`, `json` (every
"{seq}" in it becomes a value unique to the request), and the `expect`ed status. `rate` (requests
per second per user) makes the load open-loop-ish (locust's `constant_throughput`, each user's
first request at a random point of its period so that the users do not fire in step); without it
each user sends its next request as soon as the answer arrives (closed loop). Only requests that
end within `seconds` after `warmup_s` are counted, and the run stops there (locust's own run
time also counts its start-up). At the end the file `out` gets every counted response time (ms)
of an expected answer, the count of each status, a few unexpected answers and the counting
window, for the benchmark to compute rates and percentiles itself (locust's own percentiles are
rounded).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
from collections import Counter
from pathlib import Path

import gevent
from locust import FastHttpUser, constant, constant_throughput, events, task

PLAN = json.loads(Path(os.environ["TDKT_BENCH_PLAN"]).read_text())
_users = itertools.count()
_times: list[float] = []
_statuses: Counter = Counter()
_unexpected: list[str] = []
_window = {"start": float("inf"), "end": float("inf")}


class Portal(FastHttpUser):
    wait_time = constant_throughput(PLAN["rate"]) if PLAN.get("rate") else constant(0)

    def on_start(self) -> None:
        self.number = next(_users)
        self.spec = PLAN["requests"][self.number % len(PLAN["requests"])]
        self.body = json.dumps(self.spec["json"]) if self.spec.get("json") is not None else None
        self.sent = itertools.count()
        if PLAN.get("rate"):
            gevent.sleep(random.uniform(0, 1 / PLAN["rate"]))

    @task
    def call(self) -> None:
        spec = self.spec
        body = self.body.replace("{seq}", f"{self.number}-{next(self.sent)}") if self.body else None
        headers = spec.get("headers", {}) | ({"Content-Type": "application/json"} if body else {})
        with self.client.request(spec["method"], spec["path"], headers=headers, data=body, catch_response=True, name=spec.get("name")) as response:
            if response.status_code != spec["expect"]:
                response.failure(f"{response.status_code}")
                if len(_unexpected) < 5:
                    _unexpected.append(f"{spec['method']} {spec['path']} → {response.status_code} {(response.text or '')[:300]}")


@events.test_start.add_listener
def _started(environment, **_kwargs) -> None:
    warmup = PLAN.get("warmup_s", 1.0)
    _window["start"] = time.time() + warmup
    _window["end"] = _window["start"] + PLAN["seconds"]
    gevent.spawn_later(warmup + PLAN["seconds"], environment.runner.quit)


@events.request.add_listener
def _counted(response_time, response=None, exception=None, **_kwargs) -> None:
    if not _window["start"] <= time.time() <= _window["end"]:
        return
    _statuses[str(getattr(response, "status_code", 0))] += 1
    if exception is None:
        _times.append(response_time)


@events.test_stop.add_listener
def _written(**_kwargs) -> None:
    counted = {"start": _window["start"], "end": min(_window["end"], time.time())}
    Path(PLAN["out"]).write_text(json.dumps({"times": _times, "statuses": _statuses, "unexpected": _unexpected, "window": counted}))
