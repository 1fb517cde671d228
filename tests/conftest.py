"""Fixtures of the cross-service tests (e2e, faults): the `system` fixture runs chosen services as
real processes — api, consumer and outbox relay each, each service with its own database, all on
the test Kafka — as `make up` runs them, so an end-to-end test crosses every process boundary a
deployment has. The launcher itself is `tdkt_localstack.system.run_system` (bench/e2e.py uses it too)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tdkt_localstack.pytest_plugin import TEST_AUDIENCE, TEST_ISSUER
from tdkt_localstack.system import ROLES, RunningService, System, run_system

__all__ = ["ROLES", "RunningService", "System", "system"]


@pytest.fixture
def system(request, servers, dev_keys, smtp_server) -> Iterator[System]:
    """`@pytest.mark.services("registry", "reports")` picks the services to run;
    `env={...}` in the marker overrides variables (e.g. shorter leases for a kill test)."""
    marker = request.node.get_closest_marker("services")
    names = marker.args if marker else ("registry", "reports")
    extra_env = marker.kwargs.get("env", {}) if marker else {}
    with run_system(
        names,
        servers.kafka_bootstrap,
        servers.mongo_uri,
        jwt_issuer=TEST_ISSUER,
        jwt_audience=TEST_AUDIENCE,
        jwt_public_key_file=dev_keys[1],
        service_key_file=dev_keys[0],
        smtp_host=smtp_server.host,  # this test's own mail catcher
        smtp_port=smtp_server.port,
        extra_env=extra_env,
    ) as running:
        yield running
