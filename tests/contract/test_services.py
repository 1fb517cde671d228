"""Every service has the same frame: it builds, it is healthy and ready against the real
servers, its exported OpenAPI document is current, and its topics follow the naming rule."""

from __future__ import annotations

import re

import mongoengine
import pytest
from tdkt.openapi import render, spec_of
from tdkt.services import installed_services
from tdkt.web.app import create_app
from tdkt_localstack.paths import REPO

SERVICES = installed_services()
TOPIC_NAME = re.compile(r"^(registry|reports|awards|notify)\.[a-z]+(-[a-z]+)*\.v[0-9]+$")


def test_the_four_services_are_installed():
    assert [s.name for s in SERVICES] == ["registry", "reports", "awards", "notify"]
    assert len({s.default_port for s in SERVICES}) == 4


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_service_frame_is_healthy_and_ready(service, service_env):
    client = create_app(service).test_client()
    try:
        assert client.get("/healthz").get_json() == {"status": "ok", "service": service.name}
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.get_json()
        assert client.get("/metrics").status_code == 200
        missing = client.get("/api/v1/anything")
        assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    finally:
        mongoengine.disconnect()


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_exported_openapi_is_current(service):
    exported = REPO / "services" / service.name / "openapi.json"
    assert exported.read_text() == render(spec_of(service)), f"{exported} is stale: run `make openapi`"


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_topics_are_named_by_service_aggregate_and_version(service):
    for topic in service.topics:
        assert TOPIC_NAME.match(topic.name) and topic.name.startswith(service.name + "."), topic.name
