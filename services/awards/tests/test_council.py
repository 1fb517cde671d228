"""The council against the real store through the real app: quorum, the secret ballot (one per
member, even under concurrency), thresholds on total membership, quota ranking and the chair's
casting vote, and that no API response or stored document links a member to a choice."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime

import mongoengine
import pytest
from bson import ObjectId
from tdkt.auth.tokens import mint_token
from tdkt.web.app import create_app
from tdkt_awards.bootstrap import SERVICE
from tdkt_localstack.pytest_plugin import TEST_AUDIENCE, TEST_ISSUER

CHOICES = ("yes", "no", "abstain")


@pytest.fixture
def app(service_env):
    app = create_app(SERVICE)
    yield app
    mongoengine.disconnect()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db(app):
    return app.extensions["tdkt"].db


@pytest.fixture
def auth(dev_keys):
    def headers(subject: str, *roles: str) -> dict[str, str]:
        token = mint_token(dev_keys[0].read_bytes(), issuer=TEST_ISSUER, audience=TEST_AUDIENCE, roles=list(roles), unit_id=None, subject=subject)
        return {"Authorization": f"Bearer {token}"}

    return headers


@pytest.fixture
def officer(auth):
    return auth("officer-1", "tdkt_officer")


class Council:
    """A council of n members (m0 the chair, the last one the secretary) and helpers to drive it."""

    def __init__(self, client, auth, officer, n: int):
        self.client, self.auth, self.officer = client, auth, officer
        tag = uuid.uuid4().hex[:6]
        self.ids = [f"member-{tag}-{i}" for i in range(n)]
        roles = ["chair"] + ["member"] * (n - 2) + ["secretary"]
        members = [{"member_id": m, "name": f"Ông/Bà {i}", "role": r} for i, (m, r) in enumerate(zip(self.ids, roles, strict=True))]
        r = client.post("/api/v1/councils", json={"name": "Hội đồng TĐKT tỉnh", "issuer_id": "province", "members": members}, headers=officer)
        assert r.status_code == 201, r.json
        self.id = r.json["id"]
        self.responses: list = [r.json]

    def member(self, i: int) -> dict:
        return self.auth(self.ids[i], "council_chair" if i == 0 else "council_member")

    def session(self, agenda: list[dict], quota_groups: list[dict] | None = None) -> str:
        body = {"council_id": self.id, "date": date.today().isoformat(), "agenda": agenda, "quota_groups": quota_groups or []}
        r = self.client.post("/api/v1/council-sessions", json=body, headers=self.officer)
        assert r.status_code == 201, r.json
        self.responses.append(r.json)
        return r.json["id"]

    def get(self, sid: str):
        r = self.client.get(f"/api/v1/council-sessions/{sid}", headers=self.officer)
        assert r.status_code == 200, r.json
        self.responses.append(r.json)
        return r

    def command(self, sid: str, path: str, body: dict | None = None, headers: dict | None = None):
        etag = self.get(sid).headers["ETag"]
        r = self.client.post(f"/api/v1/council-sessions/{sid}/{path}", json=body or {}, headers={**(headers or self.officer), "If-Match": etag})
        self.responses.append(r.json)
        return r

    def open(self, sid: str, present: list[int]):
        assert self.command(sid, "attendance", {"present": [self.ids[i] for i in present]}).status_code == 200
        r = self.command(sid, "open")
        assert r.status_code == 200, r.json
        return r

    def vote(self, sid: str, i: int, item: str, choice: str, extra_headers: dict | None = None):
        r = self.client.post(f"/api/v1/council-sessions/{sid}/ballots", json={"item_id": item, "choice": choice}, headers={**self.member(i), **(extra_headers or {})})
        self.responses.append(r.json)
        return r

    def written(self, sid: str, i: int, item: str, choice: str):
        secretary = self.auth(self.ids[-1], "council_member")
        r = self.client.post(f"/api/v1/council-sessions/{sid}/written-votes", json={"member_id": self.ids[i], "item_id": item, "choice": choice}, headers=secretary)
        self.responses.append(r.json)
        return r

    def close(self, sid: str):
        r = self.command(sid, "close")
        assert r.status_code == 200, r.json
        return r.json["result"]

    def minutes(self, sid: str):
        r = self.client.get(f"/api/v1/council-sessions/{sid}/minutes", headers=self.officer)
        assert r.status_code == 200, r.json
        self.responses.append(r.json)
        return r.json


@pytest.fixture
def council(client, auth, officer):
    return lambda n: Council(client, auth, officer, n)


def item(item_id: str, **extra) -> dict:
    return {"item_id": item_id, "candidate": f"Ứng viên {item_id}", "title_code": "cstdcs"} | extra


def by_item(result: dict) -> dict:
    return {i["item_id"]: i for i in result["items"]}


def test_opening_without_quorum_is_refused_naming_the_shortfall(council):
    c = council(10)
    sid = c.session([item("a")])
    assert c.command(sid, "attendance", {"present": c.ids[:7]}).status_code == 200
    r = c.command(sid, "open")
    assert r.status_code == 409
    assert r.json["shortfall"] == 1 and r.json["needed"] == 8 and "7/10" in r.json["detail"]
    assert c.get(sid).json["state"] == "scheduled"
    assert c.vote(sid, 0, "a", "yes").status_code == 409  # voting outside an open session
    c.open(sid, list(range(8)))
    assert c.get(sid).json["state"] == "open"


def test_commands_need_if_match_and_reject_unknown_fields(council, client, officer):
    c = council(3)
    sid = c.session([item("a")])
    assert client.post(f"/api/v1/council-sessions/{sid}/open", json={}, headers=officer).status_code == 428
    r = client.post("/api/v1/council-sessions", json={"council_id": c.id, "date": "2025-01-01", "agenda": [item("a")], "bogus": 1}, headers=officer)
    assert r.status_code == 422
    c.open(sid, [0, 1, 2])
    r = c.vote(sid, 1, "a", "maybe")
    assert r.status_code == 422
    r = client.post(f"/api/v1/council-sessions/{sid}/ballots", json={"item_id": "a", "choice": "yes", "member_id": c.ids[2]}, headers=c.member(1))
    assert r.status_code == 422


def test_concurrent_ballots_of_one_member_count_once(council, app):
    c = council(5)
    sid = c.session([item("a")])
    c.open(sid, [0, 1, 2, 3, 4])
    barrier = threading.Barrier(20)
    headers = c.member(2)

    def cast(n):
        barrier.wait()
        return app.test_client().post(f"/api/v1/council-sessions/{sid}/ballots", json={"item_id": "a", "choice": CHOICES[n % 3]}, headers=headers).status_code

    with ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(cast, range(20)))
    assert statuses.count(201) == 1 and statuses.count(409) == 19
    assert c.get(sid).json["ballots"] == {"a": 1}
    result = by_item(c.close(sid))["a"]
    assert result["yes"] + result["no"] + result["abstain"] == 1
    assert c.minutes(sid)["verification"] == [{"item_id": "a", "ballots": 1, "participations": 1, "consistent": True}]


def test_voting_twice_is_409_and_changes_nothing(council):
    c = council(5)
    sid = c.session([item("a")])
    c.open(sid, [0, 1, 2, 3, 4])
    assert c.vote(sid, 1, "a", "yes").status_code == 201
    r = c.vote(sid, 1, "a", "no")
    assert r.status_code == 409 and "already voted" in r.json["detail"]
    assert c.get(sid).json["ballots"] == {"a": 1}
    result = by_item(c.close(sid))["a"]
    assert (result["yes"], result["no"], result["abstain"]) == (1, 0, 0)
    assert c.vote(sid, 2, "a", "yes").status_code == 409  # closed


def test_a_non_member_with_the_role_cannot_vote(council, auth):
    c = council(4)
    sid = c.session([item("a")])
    c.open(sid, [0, 1, 2, 3])
    r = c.client.post(f"/api/v1/council-sessions/{sid}/ballots", json={"item_id": "a", "choice": "yes"}, headers=auth("outsider", "council_member"))
    assert r.status_code == 403
    r = c.client.post(f"/api/v1/council-sessions/{sid}/ballots", json={"item_id": "a", "choice": "yes"}, headers=auth(c.ids[1], "unit_head"))
    assert r.status_code == 403  # a member, but without a voting role on the token
    assert c.get(sid).json["ballots"] == {"a": 0}


def test_threshold_counts_on_total_membership_with_written_votes(council):
    c = council(10)
    sid = c.session([item("a"), item("b"), item("c"), item("d", threshold=0.9)])
    c.open(sid, list(range(8)))  # 8 of 10 present: members 8 and 9 absent
    for i in range(8):
        c.vote(sid, i, "a", "yes" if i < 7 else "no")  # 7 yes of 10 members → 70% < 80%
        c.vote(sid, i, "b", "yes")  # 8 of 10 → 80%
        c.vote(sid, i, "c", "yes" if i < 6 else "abstain")
        c.vote(sid, i, "d", "yes")
    assert c.written(sid, 8, "c", "yes").status_code == 201
    assert c.written(sid, 9, "c", "yes").status_code == 201  # 6 + 2 written = 8 of 10
    assert c.written(sid, 9, "c", "no").status_code == 409  # a written vote counts once too
    assert c.written(sid, 3, "d", "yes").status_code == 409  # present members vote themselves
    assert c.vote(sid, 9, "b", "yes").status_code == 409  # absent members vote in writing
    assert c.written(sid, 8, "d", "yes").status_code == 201  # 9 of 10 → 90%
    result = by_item(c.close(sid))
    assert (result["a"]["yes"], result["a"]["no"], result["a"]["outcome"]) == (7, 1, "not_passed")
    assert result["b"]["outcome"] == "passed"
    assert (result["c"]["yes"], result["c"]["abstain"], result["c"]["outcome"]) == (8, 2, "passed")
    assert (result["d"]["yes"], result["d"]["outcome"]) == (9, "passed")
    minutes = c.minutes(sid)
    assert minutes["present"] == 8 and minutes["absent"] == 2 and minutes["total_members"] == 10
    assert "BIÊN BẢN" in minutes["text"] and "đồng ý 7, không đồng ý 1" in minutes["text"] and "Không đạt" in minutes["text"]
    assert all(p["consistent"] for p in minutes["verification"])


def test_quota_ranking_and_the_chairs_casting_vote(council, db):
    c = council(5)
    groups = [{"code": "g1", "quota": 2}, {"code": "g2", "quota": 1}]
    sid = c.session([item("a", quota_group="g1"), item("b", quota_group="g1"), item("c", quota_group="g1"), item("d", quota_group="g2"), item("e", quota_group="g2")], groups)
    c.open(sid, [0, 1, 2, 3, 4])
    votes = {"a": 5, "b": 4, "c": 4, "d": 5, "e": 4}  # 4/5 = 80% passes: all reach the threshold
    for it, yes in votes.items():
        for i in range(5):
            assert c.vote(sid, i, it, "yes" if i < yes else "no").status_code == 201
    result = c.close(sid)
    items = by_item(result)
    assert (items["a"]["outcome"], items["a"]["rank"]) == ("passed", 1)
    assert items["b"]["outcome"] == items["c"]["outcome"] == "tied"
    assert (items["d"]["outcome"], items["e"]["outcome"]) == ("passed", "over_quota")
    g1 = next(g for g in result["groups"] if g["code"] == "g1")
    assert sorted(g1["tied_item_ids"]) == ["b", "c"] and g1["open_slots"] == 1

    assert c.command(sid, "casting-vote", {"quota_group": "g1", "item_ids": ["b"]}, headers=c.auth(c.ids[1], "council_chair")).status_code == 403
    assert c.command(sid, "casting-vote", {"quota_group": "g2", "item_ids": ["e"]}, headers=c.member(0)).status_code == 409  # no tie there
    assert c.command(sid, "casting-vote", {"quota_group": "g1", "item_ids": ["b", "c"]}, headers=c.member(0)).status_code == 422
    r = c.command(sid, "casting-vote", {"quota_group": "g1", "item_ids": ["c"]}, headers=c.member(0))
    assert r.status_code == 200, r.json
    items = by_item(r.json["result"])
    assert (items["c"]["outcome"], items["c"]["by_casting_vote"]) == ("passed", True)
    assert items["b"]["outcome"] == "over_quota"
    assert c.command(sid, "casting-vote", {"quota_group": "g1", "item_ids": ["b"]}, headers=c.member(0)).status_code == 409  # decided
    assert "quyết định của Chủ tịch" in c.minutes(sid)["text"]

    outbox = db["council_sessions"].find_one({"_id": sid})["outbox"]
    types = [e.get("type") or e.get("ce_type") for e in outbox]
    assert any("council_session.opened" in str(t) for t in types) and any("council_session.closed" in str(t) for t in types)
    assert sum("ballot.tallied" in str(t) for t in types) == 7  # 5 at close + the 2 tied items the casting vote decided


def _strings(value) -> list[str]:
    """Every string value (not keys) inside a document or response."""
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def _linked(value, ids: list[str]) -> bool:
    """Whether a document holds a choice (as a value anywhere, or as a counter's name in the same
    record) together with a member id: {member: x, choice: yes} or {member: x, yes: 1} both count."""
    strings = _strings(value)
    if any(m in s for s in strings for m in ids) and any(s in CHOICES for s in strings):
        return True

    def records(v):
        if isinstance(v, dict):
            yield v
            for x in v.values():
                yield from records(x)
        elif isinstance(v, list | tuple):
            for x in v:
                yield from records(x)

    return any(set(r) & set(CHOICES) and any(m in s for s in _strings(r) + list(map(str, r)) for m in ids) for r in records(value))


def _values(value) -> list:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _values(v)]
    if isinstance(value, list | tuple):
        return [x for v in value for x in _values(v)]
    return [value]


def test_no_api_response_nor_stored_document_links_a_member_to_a_vote(council, db):
    c = council(6)
    sid = c.session([item("a"), item("b")])
    c.open(sid, [0, 1, 2, 3, 4])  # member 5 (the secretary) absent: votes in writing
    etag_before = c.get(sid).headers["ETag"]
    plan = {"a": ["yes", "no", "abstain", "yes", "no", "yes"], "b": ["no", "yes", "yes", "abstain", "yes", "no"]}
    bodies = []
    for it, choices in plan.items():
        for i, choice in enumerate(choices):
            if i == 5:
                r = c.written(sid, i, it, choice)
            else:
                r = c.vote(sid, i, it, choice, {"Idempotency-Key": f"k-{it}-{i}"})
                bodies.append(json.dumps({"item_id": it, "choice": choice}).encode())
            assert r.status_code == 201 and r.json == {"recorded": True}  # the same answer whatever the vote
    assert c.get(sid).headers["ETag"] == etag_before  # ballots move no version, no ETag
    assert c.get(sid).json["ballots"] == {"a": 6, "b": 6}
    c.client.get(f"/api/v1/councils/{c.id}", headers=c.officer)
    result = by_item(c.close(sid))
    assert (result["a"]["yes"], result["a"]["no"], result["a"]["abstain"]) == (3, 2, 1)
    c.minutes(sid)

    # every API response: never a member id beside a choice value
    for body in c.responses:
        assert not _linked(body, c.ids), body

    # every document of every collection
    for name in db.list_collection_names():
        for doc in db[name].find():
            strings = _strings(doc)
            assert not _linked(doc, c.ids), (name, doc)
            if name == "council_participations" and doc["session_id"] == sid:
                assert set(doc) == {"_id", "session_id", "item_id", "member_id", "mode"}, doc
            if name == "council_ballot_boxes" and doc["session_id"] == sid:
                assert set(doc) <= {"_id", "session_id", "item_id", "yes", "no", "abstain", "cast", "sealed"}, doc
                assert not any(m in s for s in strings for m in c.ids)
            if name.startswith("council_") and name != "council_sessions":
                values = _values(doc)
                assert not any(isinstance(v, datetime | ObjectId) for v in values), (name, doc)  # no time, no time-ordered id
            if name == "council_sessions" and doc["_id"] == sid:
                assert not any(isinstance(v, datetime) for v in _values({k: v for k, v in doc.items() if k != "outbox"}))
                for event in doc["outbox"]:
                    text = json.dumps(event, default=str)
                    assert not any(m in text for m in c.ids), event  # events carry counts only
                    assert not any(s in CHOICES for s in _strings(event)), event

    # the participations are there (one per member and item) and prove the box counts
    assert db["council_participations"].count_documents({"session_id": sid}) == 12
    boxes = list(db["council_ballot_boxes"].find({"session_id": sid}))
    assert sorted(b["_id"] for b in boxes) == [f"{sid}:a", f"{sid}:b"] and all(b["cast"] == 6 for b in boxes)
    # the idempotency middleware kept nothing of the ballots (a body hash would reveal the choice)
    hashes = {hashlib.sha256(b).hexdigest() for b in bodies}
    assert not any(d.get("body") in hashes for d in db["idempotency_keys"].find())
