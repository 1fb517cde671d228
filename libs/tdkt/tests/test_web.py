"""The shared web layer over real HTTP (Flask's test client speaks WSGI) against the real store."""

from __future__ import annotations

import unicodedata

import mongoengine
import pytest
from tdkt.web.app import create_app

from .sample_service import SAMPLE


@pytest.fixture
def app(service_env):
    app = create_app(SAMPLE)
    yield app
    mongoengine.disconnect()


@pytest.fixture
def client(app):
    return app.test_client()


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response, status, slug):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["type"] == f"urn:tdkt:problem:{slug}"
    assert body["status"] == status and " / " in body["title"], "bilingual title"
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body


def test_health_and_readiness(client):
    assert client.get("/healthz").get_json() == {"status": "ok", "service": "sample"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.get_json()
    assert ready.get_json()["checks"] == {"store": {"ok": True}, "broker": {"ok": True}}


def test_readiness_fails_with_503_when_the_store_is_gone(service_env, monkeypatch):
    from tdkt_localstack.ports import free_port

    monkeypatch.setenv("MONGODB_URI", f"mongodb://127.0.0.1:{free_port()}/")
    monkeypatch.setenv("MONGODB_TIMEOUT_MS", "300")
    app = create_app(SAMPLE)
    client = app.test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.headers["Retry-After"] == "5"
    assert ready.get_json()["checks"]["store"]["ok"] is False


def test_store_outage_is_503_with_retry_after(service_env, monkeypatch, make_token):
    from tdkt_localstack.ports import free_port

    monkeypatch.setenv("MONGODB_URI", f"mongodb://127.0.0.1:{free_port()}/")
    monkeypatch.setenv("MONGODB_TIMEOUT_MS", "300")
    client = create_app(SAMPLE).test_client()
    response = client.get("/api/v1/notes", headers=auth(make_token("tdkt_officer")))
    body = assert_problem(response, 503, "unavailable")
    assert response.headers["Retry-After"] == "5"
    assert "Traceback" not in body["detail"]


def test_problem_json_for_404_405_and_500(client):
    assert_problem(client.get("/api/v1/nothing-here"), 404, "not-found")
    response = client.delete("/healthz")
    assert_problem(response, 405, "method-not-allowed")
    assert "GET" in response.headers["Allow"]
    body = assert_problem(client.get("/api/v1/notes/boom"), 500, "internal")
    assert "secret internals" not in str(body)


def test_authentication_is_required_and_roles_checked(client, make_token):
    assert_problem(client.get("/api/v1/notes"), 401, "unauthenticated")
    assert "Bearer" in client.get("/api/v1/notes").headers["WWW-Authenticate"]
    assert_problem(client.get("/api/v1/notes", headers=auth(make_token("tdkt_officer", audience="x"))), 401, "unauthenticated")
    assert_problem(client.post("/api/v1/notes", json={"title": "x"}, headers=auth(make_token("finance_officer"))), 403, "forbidden")


def test_validation_names_the_field_and_rejects_unknown_ones(client, make_token):
    headers = auth(make_token("unit_reporter", unit="03390"))
    body = assert_problem(client.post("/api/v1/notes", json={"title": "", "unit_id": "03412", "admin": True}, headers=headers), 422, "validation")
    assert set(body["errors"]["json"]) == {"title", "unit_id", "admin"}
    body = assert_problem(client.get("/api/v1/notes?per_page=0&page=abc", headers=headers), 422, "validation")
    assert set(body["errors"]["query"]) == {"per_page", "page"}
    assert_problem(client.post("/api/v1/notes", data="{not json", content_type="application/json", headers=headers), 400, "bad-request")


def test_oversized_body_is_413(client, make_token):
    response = client.post("/api/v1/notes", json={"title": "x" * (2 * 1024 * 1024)}, headers=auth(make_token("unit_reporter", unit="03390")))
    assert_problem(response, 413, "payload-too-large")


def test_create_list_search_and_unit_scope(client, make_token, mongo_db):
    mine = auth(make_token("unit_reporter", unit="03390"))
    theirs = auth(make_token("unit_reporter", unit="03412"))
    created = client.post("/api/v1/notes", json={"title": unicodedata.normalize("NFD", "Báo cáo  Tam Đường")}, headers=mine)
    assert created.status_code == 201
    note = created.get_json()
    assert note["title"] == "Báo cáo Tam Đường" and unicodedata.is_normalized("NFC", note["title"])
    assert created.headers["Location"].endswith(note["id"])
    for i in range(24):
        client.post("/api/v1/notes", json={"title": f"Ghi chú {i}"}, headers=theirs)

    page = client.get("/api/v1/notes?q=tam duong", headers=mine).get_json()
    assert "items" in page, page
    assert [n["id"] for n in page["items"]] == [note["id"]]
    assert client.get("/api/v1/notes?q=TAM ĐƯỜNG", headers=mine).get_json()["total"] == 1
    assert client.get("/api/v1/notes", headers=theirs).get_json()["total"] == 24, "only their own unit's notes"
    assert client.get(f"/api/v1/notes/{note['id']}", headers=theirs).status_code == 404, "no reading another unit's note by its id"

    officer = auth(make_token("tdkt_officer"))
    first = client.get("/api/v1/notes?per_page=10&page=3", headers=officer).get_json()
    assert (first["total"], first["pages"], first["page"], len(first["items"])) == (25, 3, 3, 5)

    stored = mongo_db.notes.find_one({"_id": note["id"]})
    assert stored["outbox"][0]["type"] == "vn.tdkt.sample.note.written.v1", "the write carried its event"


def test_etag_and_if_match(client, make_token):
    headers = auth(make_token("unit_head", unit="03390"))
    note = client.post("/api/v1/notes", json={"title": "v1"}, headers=headers).get_json()
    url = f"/api/v1/notes/{note['id']}"
    got = client.get(url, headers=headers)
    etag = got.headers["ETag"]
    assert client.get(url, headers=headers | {"If-None-Match": etag}).status_code == 304

    assert_problem(client.put(url, json={"title": "v2"}, headers=headers), 428, "precondition-required")
    updated = client.put(url, json={"title": "v2"}, headers=headers | {"If-Match": etag})
    assert updated.status_code == 200 and updated.get_json()["version"] == 2
    assert_problem(client.put(url, json={"title": "v3"}, headers=headers | {"If-Match": etag}), 412, "precondition-failed")


def test_idempotency_key_replays_the_first_response(client, make_token, mongo_db):
    headers = auth(make_token("unit_reporter", unit="03390")) | {"Idempotency-Key": "retry-me-1"}
    first = client.post("/api/v1/notes", json={"title": "once"}, headers=headers)
    again = client.post("/api/v1/notes", json={"title": "once"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert mongo_db.notes.count_documents({}) == 1, "created once"

    other_body = client.post("/api/v1/notes", json={"title": "twice?"}, headers=headers)
    assert_problem(other_body, 422, "idempotency-key-reused")
    assert_problem(client.post("/api/v1/notes", json={"title": "x"}, headers=headers | {"Idempotency-Key": "bad key with spaces"}), 400, "bad-request")
    other_caller = client.post("/api/v1/notes", json={"title": "once"}, headers=auth(make_token("unit_reporter", unit="03412")) | {"Idempotency-Key": "retry-me-1"})
    assert other_caller.status_code == 201 and "Idempotent-Replayed" not in other_caller.headers, "keys are per caller"


def test_request_id_and_trace_context(client):
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    response = client.get("/healthz", headers={"X-Request-ID": "portal-42", "traceparent": parent})
    assert response.headers["X-Request-ID"] == "portal-42"
    assert response.headers["traceparent"].startswith("00-0af7651916cd43dd8448eb211c80319c-")
    replaced = client.get("/healthz", headers={"X-Request-ID": "bad id <script>"}).headers["X-Request-ID"]
    assert replaced != "bad id <script>" and len(replaced) == 32, "an unsafe id is replaced, not echoed"


def test_metrics_and_openapi(client, make_token):
    client.get("/api/v1/notes", headers=auth(make_token("tdkt_officer")))
    text = client.get("/metrics").get_data(as_text=True)
    assert 'tdkt_http_requests_total{endpoint="/api/v1/notes",method="GET",service="sample",status="200"}' in text
    assert "tdkt_outbox_pending_aggregates" in text or "tdkt_consumer_lag" in text or "# HELP tdkt_outbox" in text
    spec = client.get("/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    post = spec["paths"]["/api/v1/notes"]["post"]
    assert {"201", "401", "403", "422"} <= set(post["responses"])
