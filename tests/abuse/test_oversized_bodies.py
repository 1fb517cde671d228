"""Oversized and pathological request bodies against each service's real app: a JSON body over
the service's limit (MAX_CONTENT_LENGTH, `ServiceDefinition.max_body_bytes`, 1 MB) is a 413
problem even when it comes without a Content-Length (chunked), JSON nested deeper than any
document of ours is a 400, and a huge string in a field is a 422 naming that field.

Already covered elsewhere (not repeated): the shared 413 on a declared oversized body
(libs/tdkt/tests/test_web.py::test_oversized_body_is_413), the registry import's 5 MB cap
(services/registry/tests/test_unit_import.py), reports' oversized evidence (services/reports/
tests/test_attachments.py). Awards' oversized dossier document is here.
"""

from __future__ import annotations

import io
import json

import pytest
from tdkt.attachments.uploads import MAX_BYTES

from .conftest import collective, created, names_field, problem

LIMIT = 1 * 1024 * 1024
CHUNKED = {"Transfer-Encoding": "chunked"}
GUNICORN = {"wsgi.input_terminated": True}  # gunicorn sets it on every request: it terminates chunked bodies itself

# one create endpoint per service, the role allowed to call it, and a field to stuff
CREATES = {
    "registry": ("/api/v1/units", ("tdkt_officer",), "name", {"kind": "agency"}),
    "awards": ("/api/v1/councils", ("tdkt_officer",), "name", {"issuer_id": "province", "members": []}),
    "notify": ("/api/v1/subscriptions", ("unit_head",), "description", {"owner": "unit", "channel": "inbox"}),
    "reports": ("/api/v1/reports/r-1/draft", ("unit_reporter",), "narrative", {}),
}


def _caller(as_role, service: str) -> dict:
    _, roles, _, _ = CREATES[service]
    headers = as_role(*roles, unit="u-abuse")
    return {**headers, "If-Match": '"x"'} if service == "reports" else headers  # its draft is a PUT that needs If-Match


def _send(client, service: str, body: bytes, headers: dict, *, chunked: bool = False):
    path = CREATES[service][0]
    method = client.put if service == "reports" else client.post
    if not chunked:
        return method(path, data=body, content_type="application/json", headers=headers)
    # as gunicorn hands over a `Transfer-Encoding: chunked` body: no CONTENT_LENGTH, the stream ends where the body ends
    return method(path, input_stream=io.BytesIO(body), content_type="application/json", headers={**headers, **CHUNKED}, environ_overrides=GUNICORN)


@pytest.mark.parametrize("service", sorted(CREATES))
@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
def test_a_json_body_over_the_limit_is_413(service_app, as_role, service, chunked):
    client = service_app(service).test_client()
    _, _, field, rest = CREATES[service]
    body = json.dumps({**rest, field: "x" * (LIMIT + 1024)}).encode()
    found = problem(_send(client, service, body, _caller(as_role, service), chunked=chunked), 413)
    assert found["type"] == "urn:tdkt:problem:payload-too-large" and "MB" not in found.get("errors", {})


@pytest.mark.parametrize("service", sorted(CREATES))
@pytest.mark.parametrize("shape", ["list", "object"])
def test_deeply_nested_json_is_400_not_500(service_app, as_role, service, shape):
    client = service_app(service).test_client()
    depth = 50_000  # 100 KB: well under the size limit, far beyond Python's recursion limit
    body = ("[" * depth + "]" * depth) if shape == "list" else ('{"a":' * depth + "1" + "}" * depth)
    response = _send(client, service, body.encode(), _caller(as_role, service))
    assert problem(response, 400)["type"] == "urn:tdkt:problem:bad-request"


@pytest.mark.parametrize("service", sorted(CREATES))
def test_a_huge_string_under_the_limit_is_422_naming_the_field(service_app, as_role, service):
    client = service_app(service).test_client()
    _, _, field, rest = CREATES[service]
    if service == "reports":  # the draft's narrative allows 50,000 characters: go past that
        body = {"narrative": "x" * 60_000}
    else:
        body = {**rest, field: "x" * 200_000}
    names_field(_send(client, service, json.dumps(body).encode(), _caller(as_role, service)), "json", field)


def test_an_oversized_dossier_document_is_413_with_a_clear_message(awards, as_role):
    """Awards' upload endpoint takes a file up to MAX_BYTES: one byte more is refused (413 naming
    the limit), and so is a body far over the raised limit, declared or chunked; nothing is stored."""
    client = awards.test_client()
    head = as_role("unit_head", unit="u-a")
    draft = client.post("/api/v1/nominations", json=collective("u-a"), headers=head)
    nomination, etag = created(draft), draft.headers["ETag"]
    url = f"/api/v1/nominations/{nomination['id']}/attachments"
    for size, chunked in ((MAX_BYTES + 1, False), (MAX_BYTES + 2 * 1024 * 1024, False), (MAX_BYTES + 2 * 1024 * 1024, True)):
        data = {"type": "to_trinh", "file": (io.BytesIO(b"%PDF-1.4\n" + b"0" * (size - 9)), "qua-lon.pdf", "application/pdf")}
        extra = CHUNKED if chunked else {}
        response = client.post(url, data=data, headers={**head, "If-Match": etag, **extra}, content_type="multipart/form-data", environ_overrides=GUNICORN)
        body = problem(response, 413)
        assert "10 MB" in body["detail"] and " / " in body["detail"], body
    assert client.get(f"/api/v1/nominations/{nomination['id']}", headers=head).get_json()["attachments"] == []


def test_a_large_upload_with_an_idempotency_key_is_taken_and_replayed(awards, as_role):
    """The Idempotency-Key hook hashes the body before any blueprint hook runs: the upload
    endpoint's raised limit must already apply then (it did not: 413 "1 MB" for a 2 MB file)."""
    client = awards.test_client()
    head = as_role("unit_head", unit="u-a")
    draft = client.post("/api/v1/nominations", json=collective("u-a"), headers=head)
    nomination, etag = created(draft), draft.headers["ETag"]
    url = f"/api/v1/nominations/{nomination['id']}/attachments"
    pdf = b"%PDF-1.4\n" + b"0" * (2 * 1024 * 1024)
    # the same bytes twice (a retry): one boundary, as a client that re-sends what it sent
    head_part = b'--b0undary\r\nContent-Disposition: form-data; name="type"\r\n\r\nto_trinh\r\n--b0undary\r\n'
    file_part = b'Content-Disposition: form-data; name="file"; filename="lon.pdf"\r\nContent-Type: application/pdf\r\n\r\n' + pdf + b"\r\n--b0undary--\r\n"

    def post():
        headers = {**head, "If-Match": etag, "Idempotency-Key": "upload-1"}
        return client.post(url, data=head_part + file_part, headers=headers, content_type="multipart/form-data; boundary=b0undary")

    first = post()
    assert first.status_code == 201, first.get_data(as_text=True)[:300]
    again = post()
    assert again.status_code == 201, again.get_data(as_text=True)[:600]
    assert again.headers.get("Idempotent-Replayed") == "true" and again.get_json() == first.get_json()
    assert len(client.get(f"/api/v1/nominations/{nomination['id']}", headers=head).get_json()["attachments"]) == 1
