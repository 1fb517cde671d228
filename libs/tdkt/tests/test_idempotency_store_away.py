"""Regression (found by tests/faults/test_under_load.py, full schedule): a POST with an
Idempotency-Key whose key was claimed, and then lost the store mid-request, answered 500 instead
of 503: the view's 503 was replaced by the after-request hook failing to release the claim.
Real store (a FerretDB of this test's own, stopped for real between the claim and the view)."""

from __future__ import annotations

import mongoengine
import pytest
from flask import request
from tdkt.web.app import create_app
from tdkt_localstack.ferretdb import FerretServer, ensure_binary
from tdkt_localstack.paths import sub
from tdkt_localstack.ports import free_port

from .sample_service import SAMPLE


@pytest.fixture
def store(tmp_path):
    server = FerretServer(ensure_binary(sub("cache")), tmp_path / "ferretdb", tmp_path / "ferretdb.log", free_port()).start()
    try:
        server.wait_ready(120)
        yield server
    finally:
        server.stop()


def test_a_store_lost_after_the_claim_is_503_not_500(service_env, monkeypatch, make_token, store):
    monkeypatch.setenv("MONGODB_URI", store.uri)
    monkeypatch.setenv("MONGODB_TIMEOUT_MS", "500")
    app = create_app(SAMPLE)

    @app.before_request  # runs after the idempotency claim (installed first by create_app)
    def lose_the_store():
        if request.method == "POST":
            store.stop()

    try:
        headers = {"Authorization": f"Bearer {make_token('unit_reporter', unit='03390')}", "Idempotency-Key": "store-away-1"}
        response = app.test_client().post("/api/v1/notes", json={"title": "once"}, headers=headers)
        assert response.status_code == 503, response.get_data(as_text=True)
        assert response.headers["Retry-After"]
    finally:
        mongoengine.disconnect()
