"""The registry's and the reports service's apps and callers for the contract tests, built from the
shared plugin's fixtures (`service_env`, `make_token`): the services' own conftests are not
visible from here."""

from __future__ import annotations

import mongoengine
import pytest
from tdkt.web.app import create_app
from tdkt_registry.bootstrap import SERVICE
from tdkt_reports.bootstrap import SERVICE as REPORTS


@pytest.fixture
def registry_app(service_env):
    app = create_app(SERVICE)
    yield app
    mongoengine.disconnect()


@pytest.fixture
def registry_client(registry_app):
    return registry_app.test_client()


# The reports app. mongoengine's default connection is global: a test uses either this app or
# the registry's, never both.


@pytest.fixture
def reports_app(service_env):
    app = create_app(REPORTS)
    yield app
    mongoengine.disconnect()


@pytest.fixture
def reports_client(reports_app):
    return reports_app.test_client()


@pytest.fixture
def reports_db(reports_app):
    return reports_app.extensions["tdkt"].db
