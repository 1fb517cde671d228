"""Replayed and forged province callbacks (`POST /api/v1/province/callbacks`, HMAC-signed, see
`tdkt_awards.service_layer.province`): the convention is 401 (with WWW-Authenticate) for anything
wrong with the signature headers, 409 for a delivery id reused with another body, the stored
first answer (`Idempotent-Replayed: true`) for a true retry.

Already covered in services/awards/tests/test_province.py (not repeated): a sequential replay of
the same delivery (first answer, no second effect), the same id with another body (409), a
missing header, a wrong key, a tampered body, a stale or future timestamp, a bearer token
instead of a signature. Added here: many copies of one delivery at once, a captured delivery
replayed after the window, signature spellings (case, algorithm, several values), hostile
delivery ids, operators inside a signed body, and one delivery id against two proposals.
"""

from __future__ import annotations

import io
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from .conftest import collective, created

DECISION = {"number": "1234", "symbol": "QĐ-UBND", "date": "2026-12-01", "issuer": "Ủy ban nhân dân tỉnh Lai Châu", "signed_by": "Lê Văn Lương"}
CALLBACK = "/api/v1/province/callbacks"
PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"


def secret() -> str:
    from tdkt_awards.service_layer import province

    return province.DEV_SECRET  # TDKT_ENV=test: the development key (production refuses to start the exchange without one)


def signed(body: dict | bytes, delivery: str, timestamp: int | None = None, key: str | None = None) -> tuple[bytes, dict]:
    from tdkt_awards.service_layer import province

    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return raw, {
        "Content-Type": "application/json",
        "X-TDKT-Timestamp": stamp,
        "X-TDKT-Delivery": delivery,
        "X-TDKT-Signature": province.sign(key or secret(), stamp, delivery, raw),
    }


@pytest.fixture
def proposal(awards, as_role, officer):
    """A proposal to the province holding one nomination of `u-a` (approved, as after a passing tally)."""
    from tdkt_awards.adapters.documents import Nomination

    client, head = awards.test_client(), as_role("unit_head", unit="u-a")
    draft = client.post("/api/v1/nominations", json=collective("u-a", "BANG_KHEN_TINH_TT"), headers=head)
    nomination, etag = created(draft), draft.headers["ETag"]
    for doc_type in ("to_trinh", "bao_cao_thanh_tich", "bien_ban_binh_xet"):
        files = {"type": doc_type, "file": (io.BytesIO(PDF + doc_type.encode()), f"{doc_type}.pdf", "application/pdf")}
        uploaded = client.post(f"/api/v1/nominations/{nomination['id']}/attachments", data=files, headers={**head, "If-Match": etag}, content_type="multipart/form-data")
        etag = uploaded.headers["ETag"]
    Nomination._get_collection().update_one({"_id": nomination["id"]}, {"$set": {"state": "approved"}})
    sent = created(client.post("/api/v1/province-proposals", json={"nomination_ids": [nomination["id"]]}, headers=officer))
    return client, sent, nomination["id"]


def effects(nomination_id: str) -> tuple[str, int, int]:
    from tdkt_awards.adapters.documents import Nomination

    doc = Nomination._get_collection().find_one({"_id": nomination_id})
    return doc["state"], len(doc["history"]), len(doc["outbox"])


def test_twenty_copies_of_one_delivery_at_once_take_effect_once(proposal, awards):
    client, sent, nid = proposal
    body = {"proposal_id": sent["id"], "decisions": [{"nomination_id": nid, "outcome": "approved", "decision": DECISION}]}
    raw, headers = signed(body, "dlv-race")
    before = effects(nid)
    barrier = threading.Barrier(20)

    def post(_):
        barrier.wait()
        response = awards.test_client().post(CALLBACK, data=raw, headers=headers)
        return response.status_code, response.get_json()

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(post, range(20)))
    statuses = sorted(status for status, _ in answers)
    assert set(statuses) <= {200, 503}, statuses  # 503: "still being processed, retry" — never a 409 or a 500
    ok = [body for status, body in answers if status == 200]
    assert ok and all(b == ok[0] for b in ok) and ok[0]["nominations"][0]["state"] == "decided"
    state, history, outbox = effects(nid)
    assert (state, history - before[1], outbox - before[2]) == ("decided", 1, 1)  # one transition, one event
    again = client.post(CALLBACK, data=raw, headers=headers)  # and a later retry gets the same answer
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true" and again.get_json() == ok[0]


def test_a_captured_delivery_replayed_after_the_window_is_refused(proposal):
    from tdkt_awards.service_layer import province

    client, sent, nid = proposal
    body = {"proposal_id": sent["id"], "decisions": [{"nomination_id": nid, "outcome": "approved", "decision": DECISION}]}
    stamp = int(time.time()) - province.REPLAY_WINDOW_S + 2  # signed just inside the window…
    raw, headers = signed(body, "dlv-captured", timestamp=stamp)
    assert client.post(CALLBACK, data=raw, headers=headers).status_code == 200
    after = effects(nid)
    time.sleep(3)  # …replayed byte for byte once it has left the window
    late = client.post(CALLBACK, data=raw, headers=headers)
    assert late.status_code == 401 and "WWW-Authenticate" in late.headers and "Idempotent-Replayed" not in late.headers
    assert effects(nid) == after


@pytest.mark.parametrize(
    "mangle",
    [
        lambda sig: sig.upper(),
        lambda sig: sig.replace("sha256=", "sha1="),
        lambda sig: sig.replace("sha256=", ""),
        lambda sig: f"{sig},{sig}",
        lambda sig: f"sha256={'0' * 64}",
        lambda sig: sig[:-2],
        lambda sig: sig + " ",
        lambda sig: "sha256=" + "é" * 64,
    ],
    ids=["upper-case", "sha1", "bare-hex", "two-values", "zeros", "truncated", "trailing-space", "non-ascii"],
)
def test_signature_spellings_other_than_the_recipe_are_401(proposal, mangle):
    client, sent, nid = proposal
    body = {"proposal_id": sent["id"], "decisions": [{"nomination_id": nid, "outcome": "approved", "decision": DECISION}]}
    raw, headers = signed(body, "dlv-spelling")
    before = effects(nid)
    response = client.post(CALLBACK, data=raw, headers={**headers, "X-TDKT-Signature": mangle(headers["X-TDKT-Signature"])})
    assert response.status_code == 401 and response.mimetype == "application/problem+json", response.get_data(as_text=True)[:300]
    assert effects(nid) == before


@pytest.mark.parametrize("delivery", ["$where", "a.b", "x" * 201, "dlv\x00nul", "dlv\tx", "dlv-é", " "])
def test_hostile_delivery_ids_are_401_or_stored_as_plain_ids(proposal, awards, delivery):
    """A delivery id is signed, then used as a document `_id`: one outside the header's rules
    (1–200 printable ASCII) is a 401; `$where` or `a.b` are just ids."""
    client, sent, nid = proposal
    body = {"proposal_id": sent["id"], "decisions": [{"nomination_id": nid, "outcome": "approved", "decision": DECISION}]}
    raw = json.dumps(body).encode()
    stamp = str(int(time.time()))
    from tdkt_awards.service_layer import province

    headers = {"Content-Type": "application/json", "X-TDKT-Timestamp": stamp, "X-TDKT-Signature": province.sign(secret(), stamp, delivery, raw)}
    try:
        response = client.post(CALLBACK, data=raw, headers={**headers, "X-TDKT-Delivery": delivery})
    except ValueError:  # werkzeug's client itself refuses a header with NUL: nothing reached the service
        assert "\x00" in delivery
        return
    assert response.status_code in (200, 401), response.get_data(as_text=True)[:300]
    stored = awards.extensions["tdkt"].db["province_deliveries"].find_one({"_id": delivery})
    assert (stored is not None) == (response.status_code == 200)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"proposal_id": {"$ne": None}}, "proposal_id"),
        ({"decisions": [{"nomination_id": {"$ne": None}, "outcome": "rejected", "reason": "x"}]}, "decisions"),
        ({"decisions": {"$where": "1"}}, "decisions"),
        ({"$where": "1"}, "$where"),
    ],
)
def test_operators_inside_a_signed_body_are_422(proposal, change, field):
    """Signed by the province (or by whoever holds its key): still validated field by field."""
    client, sent, nid = proposal
    body = {"proposal_id": sent["id"], "decisions": [{"nomination_id": nid, "outcome": "approved", "decision": DECISION}]} | change
    raw, headers = signed(body, f"dlv-op-{field}")
    before = effects(nid)
    response = client.post(CALLBACK, data=raw, headers=headers)
    assert response.status_code == 422 and any(k == field or k.startswith(f"{field}.") for k in response.get_json()["errors"]["json"]), response.get_json()
    assert effects(nid) == before


def test_one_delivery_id_cannot_answer_a_second_proposal(proposal):
    """A delivery id is remembered with its body: reused for another proposal's answer, it is a 409."""
    client, sent, nid = proposal
    first = {"proposal_id": sent["id"], "decisions": [{"nomination_id": nid, "outcome": "rejected", "reason": "Chưa đủ điều kiện"}]}
    raw, headers = signed(first, "dlv-reused")
    assert client.post(CALLBACK, data=raw, headers=headers).status_code == 200
    other = {"proposal_id": "another-proposal", "decisions": [{"nomination_id": "another", "outcome": "rejected", "reason": "x"}]}
    raw, headers = signed(other, "dlv-reused")
    reused = client.post(CALLBACK, data=raw, headers=headers)
    assert reused.status_code == 409 and reused.mimetype == "application/problem+json"
