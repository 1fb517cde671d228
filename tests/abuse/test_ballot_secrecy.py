"""Attempts to link a secret ballot to its voter, or to vote twice, against awards' council
(design: `tdkt_awards.service_layer.council`'s module doc — a participation without the choice, a
counter without the voter).

Already covered in services/awards/tests/test_council.py (not repeated): no API response, stored
document or outbox event holds a member id beside a choice; the Idempotency-Key middleware keeps
no body hash of a ballot; one ballot per member even with 20 concurrent attempts; voting twice is
a 409; a non-member or a member without a voting role cannot vote; a member cannot vote as another
(`member_id` in the body is refused). Added here, as an attacker would try them: what a member sees
of the others while voting is open, what a refused second ballot says, item ids spelled to slip
past the one-ballot rule, the logs written while members vote (at DEBUG, the most talkative),
and the ballot events as they reach Kafka through the real relay.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import date

import pytest
from tdkt.auth.tokens import mint_token
from tdkt_localstack.pytest_plugin import TEST_AUDIENCE, TEST_ISSUER

from .conftest import created

CHOICES = ("yes", "no", "abstain")


class Council:
    """Five members: m0 chairs, m4 is the secretary; one session on items a and b, opened with all present."""

    def __init__(self, client, dev_keys, officer):
        self.client, self.keys, self.officer = client, dev_keys, officer
        tag = uuid.uuid4().hex[:6]
        self.ids = [f"member-{tag}-{i}" for i in range(5)]
        roles = ["chair", "member", "member", "member", "secretary"]
        members = [{"member_id": m, "name": f"Ông/Bà {i}", "role": r} for i, (m, r) in enumerate(zip(self.ids, roles, strict=True))]
        council = created(client.post("/api/v1/councils", json={"name": "Hội đồng TĐKT tỉnh", "issuer_id": "province", "members": members}, headers=officer))
        agenda = [{"item_id": i, "candidate": f"Ứng viên {i}", "title_code": "CSTDCS"} for i in ("a", "b")]
        session = client.post(
            "/api/v1/council-sessions", json={"council_id": council["id"], "date": date.today().isoformat(), "agenda": agenda, "quota_groups": []}, headers=officer
        )
        self.sid = created(session)["id"]
        self.command("attendance", {"present": self.ids})
        assert self.command("open").status_code == 200

    def member(self, i: int) -> dict:
        token = mint_token(
            self.keys[0].read_bytes(), issuer=TEST_ISSUER, audience=TEST_AUDIENCE, roles=["council_chair" if i == 0 else "council_member"], unit_id=None, subject=self.ids[i]
        )
        return {"Authorization": f"Bearer {token}"}

    def url(self, tail: str = "") -> str:
        return f"/api/v1/council-sessions/{self.sid}{tail}"

    def command(self, verb: str, body: dict | None = None):
        etag = self.client.get(self.url(), headers=self.officer).headers["ETag"]
        return self.client.post(self.url(f"/{verb}"), json=body or {}, headers={**self.officer, "If-Match": etag})

    def vote(self, i: int, item: str, choice: str):
        return self.client.post(self.url("/ballots"), json={"item_id": item, "choice": choice}, headers=self.member(i))


@pytest.fixture
def council(service_app, dev_keys, officer, monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")  # the most a log could say
    app = service_app("awards")
    return Council(app.test_client(), dev_keys, officer)


def _mentions(text: str, ids: list[str]) -> bool:
    return any(m in text for m in ids)


def test_while_open_a_member_sees_how_many_voted_never_how(council):
    for i, choice in enumerate(("yes", "no", "yes", "abstain")):
        assert council.vote(i, "a", choice).status_code == 201
    for i in range(5):
        for path in ("", "/minutes"):
            response = council.client.get(council.url(path), headers=council.member(i))
            if response.status_code != 200:
                assert response.status_code in (403, 404, 409), response.get_data(as_text=True)[:300]
                continue
            body = response.get_json()
            assert body.get("result") is None, body  # no tally before close
            text = json.dumps(body)
            assert not any(f'"{c}"' in text for c in CHOICES), body  # no per-choice counter, no choice value
            if path == "":
                assert body["ballots"] == {"a": 4, "b": 0}


def test_a_refused_second_ballot_says_nothing_of_the_first(council):
    assert council.vote(1, "a", "no").status_code == 201
    for choice in CHOICES:
        again = council.vote(1, "a", choice)
        assert again.status_code == 409
        text = again.get_data(as_text=True)
        assert not any(c in json.loads(text).get("detail", "").split() for c in CHOICES), text
        assert json.loads(text).keys() <= {"type", "title", "status", "detail", "instance", "request_id"}  # no extra member that could carry the first choice


@pytest.mark.parametrize("spelling", ["A", "a ", " a", "a\u200b", "а", "a/../a", "$ne", '{"$ne": null}'])
def test_an_item_id_spelled_otherwise_is_not_a_second_ballot(council, spelling):
    """`а` is Cyrillic. Whatever the spelling, it is refused (422 or 409), and item a keeps one ballot per member."""
    assert council.vote(2, "a", "yes").status_code == 201
    response = council.vote(2, spelling, "no")
    assert response.status_code in (409, 422), (spelling, response.get_data(as_text=True)[:300])
    assert council.client.get(council.url(), headers=council.officer).get_json()["ballots"] == {"a": 1, "b": 0}
    tally = {i["item_id"]: i for i in council.command("close").get_json()["result"]["items"]}
    assert (tally["a"]["yes"], tally["a"]["no"], tally["a"]["abstain"]) == (1, 0, 0)


def test_the_logs_of_a_vote_never_hold_a_member_beside_a_choice(council, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    plan = {0: "yes", 1: "no", 2: "abstain", 3: "yes", 4: "no"}
    for i, choice in plan.items():
        assert council.vote(i, "b", choice).status_code == 201
    assert council.vote(1, "b", "yes").status_code == 409
    council.command("close")
    captured = capsys.readouterr()
    lines = [r.getMessage() for r in caplog.records] + (captured.out + captured.err).splitlines()
    assert lines, "the logs were captured"
    # Not even a choice alone: the lines are in order, so a line holding a choice right after one
    # holding a member (the participation insert, then the counter's `$inc`) links them.
    for line in lines:
        assert not any(c in line for c in ('"yes"', '"no"', '"abstain"', '\\"yes\\"', '\\"no\\"', '\\"abstain\\"')), line


def test_ballot_events_reaching_kafka_carry_counts_only(council, service_env, kafka_settings, make_topic):
    """The session's outbox goes through the real relay to the real broker; every message read back
    from the topic (value and headers) is free of member ids and choice values."""
    from kafka import KafkaConsumer
    from tdkt.events.kafka import make_producer
    from tdkt.events.relay import OutboxRelay
    from tdkt.settings import RelaySettings
    from tdkt_awards.adapters.council_documents import CouncilSession

    for i, choice in enumerate(("yes", "no", "yes", "yes", "abstain")):
        assert council.vote(i, "a", choice).status_code == 201
        assert council.vote(i, "b", CHOICES[i % 3]).status_code == 201
    assert council.command("close").status_code == 200
    sessions = CouncilSession._get_collection()
    outbox = sessions.find_one({"_id": council.sid})["outbox"]
    topic = make_topic()  # this test's own topic, so nothing else is read back
    sessions.update_one({"_id": council.sid}, {"$set": {"outbox": [{**e, "topic": topic.name} for e in outbox]}})
    producer = make_producer(kafka_settings)
    relay = OutboxRelay(sessions.database, producer, ["council_sessions"], RelaySettings(poll_interval_ms=10, batch_size=500, sweep_interval_s=3600, lease_ttl_s=3))
    try:
        assert relay.run_once() == len(outbox), "the relay published every event of the session"
    finally:
        relay.stop()
        producer.close()
    consumer = KafkaConsumer(topic.name, bootstrap_servers=kafka_settings.bootstrap_servers, auto_offset_reset="earliest", consumer_timeout_ms=3000, group_id=None)
    try:
        messages = list(consumer)
    finally:
        consumer.close()
    types = [dict(m.headers or []).get("ce_type", b"").decode() or json.loads(m.value).get("type", "") for m in messages]
    assert len(messages) == len(outbox) and any("ballot.tallied" in t for t in types), types
    for message in messages:
        text = (message.value or b"").decode() + " ".join(f"{k}={v!r}" for k, v in (message.headers or []))
        assert not _mentions(text, council.ids), text
        payload = json.loads(message.value)
        assert not any(v in CHOICES for v in _strings(payload)), payload


def _strings(value) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []
