"""Use cases of the council (Hội đồng TĐKT): councils and members, sessions with an agenda,
attendance and quorum, the secret ballot, close and tally, the chair's casting vote, minutes.

THE SECRET BALLOT — unlinkable by construction
=============================================
A ballot is two writes to two unrelated documents, and no record anywhere holds a member's id
together with a choice:

1. `council_participations/<session>:<item>:<member>` is inserted: only the three ids and the
   mode (in person / written). Its `_id` is unique, so a second ballot by the same member on the
   same item is a DuplicateKey → 409, and N concurrent duplicates collapse to exactly one.
2. `council_ballot_boxes/<session>:<item>` gets `$inc` on the chosen counter and on `cast`, only
   while the box is not `sealed`. There are no per-ballot documents, so there is no ballot id,
   no ballot timestamp and no ballot insertion order to correlate with the participations.

Ordering and side channels, one by one:
- insertion order: participations are stored (and in FerretDB/SQLite scanned) in the order
  members voted, but the votes are not documents, only counters: there is no second ordered list
  to zip against it.
- `_id`s derived from time: none. Participation and box ids are derived from session/item/member;
  no ObjectId is ever generated for ballot data.
- timestamps: participations and boxes carry none; the session carries only its date.
- versions / ETags: a ballot touches neither the session aggregate nor its version, so the
  session's ETag does not change per vote; the box has no version field. Ballots need no If-Match.
- API responses: a ballot answers `201 {"recorded": true}` whatever the choice; a duplicate is a 409
  that does not echo the choice; before close GET shows only the number of ballots per item.
- logs: this module logs nothing about ballots; the access log has method, path (session id
  only: the item and choice are in the body), status and duration.
- events: Opened / Closed / BallotTallied carry counts and outcomes only.
- Idempotency-Key: the shared middleware would store a hash of the request body (3 possible
  bodies per item → the choice is recoverable) next to the caller-derived key; the ballot views
  drop that record before it is stored (see `forget_idempotency_record` in the API module). A
  retried ballot gets the 409 "already voted", which is the idempotent answer.
- written votes of absent members are entered by the secretary under the same two writes; the
  request necessarily shows the secretary the paper ballot (as the paper does), nothing stores it.

Crash safety: participation first, counter second. A crash between the two leaves a participation
without its vote: the member cannot vote twice (never a double count) and the vote is lost, which
counts like a non-yes. On close the boxes are sealed, then for each item the number of
participations (read by `_id`, one per member) is compared with the box's `cast`: equal is the
proof that every counted ballot belongs to exactly one distinct member and no member counted
twice; a difference is recorded as an integrity warning in the session and the minutes (the
council may re-vote). A ballot racing the close is refused by the seal and removes its own
participation (its id is known in memory; deleting it links nothing).

Residual risks (honest):
- whoever can watch the database live (change streams, oplog on a replica set, the SQLite WAL,
  snapshots between two ballots, or a debugger on the API process) sees a participation insert
  followed by one counter increment and can link them; the remedy would be mixing/batching or a
  cryptographic scheme, out of scope. Access to the store must be restricted to operators.
- small or unanimous counts reveal votes by arithmetic (10 of 10 yes); inherent to any tally.
- the access log's timing of a member's request next to counter snapshots, as above.
- a crash between the two writes loses that member's vote on that item (detected, not repaired).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from pymongo.errors import DuplicateKeyError
from tdkt.auth import Principal
from tdkt.errors import Conflict, DomainError, Invalid, NotFound
from tdkt.events.outbox import ConcurrentUpdate, save_aggregate

from tdkt_awards.adapters.council_documents import BallotBox, Council, CouncilSession, Participation
from tdkt_awards.adapters.council_events import BALLOT_TALLIED, SESSION_CLOSED, SESSION_OPENED
from tdkt_awards.domain import council as rules
from tdkt_awards.service_layer import nominations

OFFICERS = ("tdkt_officer", "admin")
VOTERS = ("council_member", "council_chair")
READERS = (*OFFICERS, *VOTERS, "chairman")
SECRETARY_OR_OFFICER = (*OFFICERS, *VOTERS)  # a voter role must also be the council's secretary


class Forbidden(DomainError):
    status = 403
    slug = "forbidden"


# --- councils -----------------------------------------------------------------------------


def find_council(council_id: str) -> Council:
    doc = Council.objects(id=council_id).exclude("outbox").first()
    if doc is None:
        raise NotFound("Không có hội đồng này / no such council")
    return doc


def _save(doc, conflict: str = "Dữ liệu vừa được thay đổi, tải lại rồi thử lại / changed meanwhile: reload and retry"):
    try:
        save_aggregate(doc)
    except ConcurrentUpdate:
        raise Conflict(conflict) from None
    return doc


def create_council(data: dict[str, Any]) -> Council:
    rules.check_members(data["members"])
    doc = Council(id=uuid.uuid4().hex, name=data["name"], issuer_id=data["issuer_id"], members=data["members"])
    return _save(doc)


def replace_members(council_id: str, members: list[dict], check_version: Callable[[Council], None]) -> Council:
    doc = find_council(council_id)
    check_version(doc)
    rules.check_members(members)
    doc.members = members
    return _save(doc)


# --- sessions -----------------------------------------------------------------------------


def find_session(session_id: str) -> CouncilSession:
    doc = CouncilSession.objects(id=session_id).exclude("outbox").first()
    if doc is None:
        raise NotFound("Không có phiên họp này / no such council session")
    return doc


def _member(members: list[dict], member_id: str) -> dict | None:
    return next((m for m in members if m["member_id"] == member_id), None)


def _require_secretary_or_officer(members: list[dict], principal: Principal) -> None:
    if principal.has_any(*OFFICERS):
        return
    member = _member(members, principal.subject)
    if member is None or member["role"] != "secretary":
        raise Forbidden("Chỉ Thư ký Hội đồng hoặc cán bộ TĐKT / only the council's secretary or a TĐKT officer")


def _require_state(doc: CouncilSession, *states: str) -> None:
    if doc.state not in states:
        labels = {"scheduled": "chưa họp / scheduled", "open": "đang họp / open", "closed": "đã kết thúc / closed"}
        raise Conflict(f"Phiên họp đang ở trạng thái {labels[doc.state]} / not allowed while the session is {doc.state}", state=doc.state)


def create_session(data: dict[str, Any]) -> CouncilSession:
    council = find_council(data["council_id"])
    agenda = [{"threshold": rules.DEFAULT_THRESHOLD, "quota_group": None, "nomination_id": None, "title_code": None} | item for item in data["agenda"]]
    nominations.check_agenda_items(agenda)  # only dossiers appraised eligible; the item takes the nomination's title
    rules.check_agenda(agenda, data.get("quota_groups") or [])
    doc = CouncilSession(
        id=uuid.uuid4().hex,
        council_id=council.id,
        council_name=council.name,
        date=data["date"].isoformat(),
        quorum=data.get("quorum", rules.DEFAULT_QUORUM),
        agenda=agenda,
        quota_groups=data.get("quota_groups") or [],
        state="scheduled",
    )
    _save(doc)
    nominations.put_on_agenda(doc.id, doc.agenda)  # after the session is stored; the tally moves them on even if this was cut short
    return doc


def record_attendance(session_id: str, present: list[str], principal: Principal, check_version: Callable) -> CouncilSession:
    doc = find_session(session_id)
    council = find_council(doc.council_id)
    _require_secretary_or_officer(council.members, principal)
    check_version(doc)
    _require_state(doc, "scheduled")
    unknown = sorted(set(present) - {m["member_id"] for m in council.members})
    if unknown:
        raise Invalid("present", f"Không phải thành viên Hội đồng: {', '.join(unknown)} / not members of the council")
    doc.present = sorted(set(present))
    return _save(doc)


def open_session(session_id: str, check_version: Callable) -> CouncilSession:
    doc = find_session(session_id)
    check_version(doc)
    _require_state(doc, "scheduled")
    council = find_council(doc.council_id)
    member_ids = {m["member_id"] for m in council.members}
    present = [p for p in doc.present if p in member_ids]
    rules.check_quorum(len(council.members), len(present), doc.quorum)
    boxes = BallotBox._get_collection()
    for item in doc.agenda:  # idempotent: a retried open after a crash finds them in place
        box = f"{doc.id}:{item['item_id']}"
        boxes.update_one(
            {"_id": box}, {"$setOnInsert": {"session_id": doc.id, "item_id": item["item_id"], "yes": 0, "no": 0, "abstain": 0, "cast": 0, "sealed": False}}, upsert=True
        )
    doc.members, doc.present, doc.state = list(council.members), present, "open"
    doc.record(SESSION_OPENED, {"session": _summary(doc)})
    return _save(doc)


def _summary(doc: CouncilSession) -> dict[str, Any]:
    return {
        "id": doc.id,
        "council_id": doc.council_id,
        "date": doc.date,
        "state": doc.state,
        "total_members": len(doc.members),
        "present": len(doc.present),
        "quorum": doc.quorum,
        "items": len(doc.agenda),
    }


# --- ballots --------------------------------------------------------------------------------


def cast_ballot(session_id: str, item_id: str, choice: str, principal: Principal) -> None:
    """A present member's own secret ballot. Returns nothing: the choice is never echoed."""
    doc = find_session(session_id)
    members = doc.members if doc.state != "scheduled" else find_council(doc.council_id).members
    if _member(members, principal.subject) is None:
        raise Forbidden("Bạn không phải thành viên Hội đồng này / you are not a member of this council")
    _require_state(doc, "open")
    if principal.subject not in doc.present:
        raise Conflict("Thành viên vắng mặt bỏ phiếu bằng văn bản qua Thư ký / an absent member votes in writing through the secretary")
    _ballot(doc, item_id, choice, principal.subject, "in_person")


def record_written_vote(session_id: str, member_id: str, item_id: str, choice: str, principal: Principal) -> None:
    """The written vote of an absent member, entered by the secretary (or an officer)."""
    doc = find_session(session_id)
    _require_state(doc, "open")
    _require_secretary_or_officer(doc.members, principal)
    if _member(doc.members, member_id) is None:
        raise Invalid("member_id", "Không phải thành viên Hội đồng / not a member of the council")
    if member_id in doc.present:
        raise Conflict("Thành viên có mặt tự bỏ phiếu / a present member casts their own ballot")
    _ballot(doc, item_id, choice, member_id, "written")


def _ballot(doc: CouncilSession, item_id: str, choice: str, member_id: str, mode: str) -> None:
    if not any(i["item_id"] == item_id for i in doc.agenda):
        raise Invalid("item_id", "Không có mục này trong chương trình / no such agenda item")
    if choice not in rules.CHOICES:
        raise Invalid("choice", "Phiếu phải là yes, no hoặc abstain / choice must be yes, no or abstain")
    box_id = f"{doc.id}:{item_id}"
    participation = f"{box_id}:{member_id}"
    participations = Participation._get_collection()
    try:  # 1. who took part (unique per member and item) — no choice here
        participations.insert_one({"_id": participation, "session_id": doc.id, "item_id": item_id, "member_id": member_id, "mode": mode})
    except DuplicateKeyError:
        raise Conflict("Thành viên đã bỏ phiếu cho mục này / this member has already voted on this item") from None
    # 2. what was voted — a counter, no member id; refused once the box is sealed by the close
    counted = BallotBox._get_collection().update_one({"_id": box_id, "sealed": False}, {"$inc": {choice: 1, "cast": 1}})
    if counted.matched_count == 0:
        participations.delete_one({"_id": participation})
        raise Conflict("Phiên họp đã kết thúc bỏ phiếu / voting on this session has closed")


def ballots_so_far(doc: CouncilSession) -> dict[str, int]:
    """Before close: how many ballots each item has, nothing about their content."""
    ids = [f"{doc.id}:{i['item_id']}" for i in doc.agenda]
    return {b["item_id"]: b.get("cast", 0) for b in BallotBox._get_collection().find({"_id": {"$in": ids}}, {"item_id": 1, "cast": 1})}


def _verify(doc: CouncilSession) -> tuple[dict[str, dict[str, int]], list[dict[str, Any]]]:
    """Counters per item, and the proof per item: ballots in the box = distinct participations."""
    boxes = {b["item_id"]: b for b in BallotBox._get_collection().find({"_id": {"$in": [f"{doc.id}:{i['item_id']}" for i in doc.agenda]}})}
    participations = Participation._get_collection()
    counts, proof = {}, []
    for item in doc.agenda:
        box = boxes.get(item["item_id"], {})
        ids = [f"{doc.id}:{item['item_id']}:{m['member_id']}" for m in doc.members]
        took_part = participations.count_documents({"_id": {"$in": ids}})
        counts[item["item_id"]] = {k: int(box.get(k, 0)) for k in rules.CHOICES}
        cast = int(box.get("cast", 0))
        proof.append({"item_id": item["item_id"], "ballots": cast, "participations": took_part, "consistent": cast == took_part and cast == sum(counts[item["item_id"]].values())})
    return counts, proof


def close_session(session_id: str, check_version: Callable) -> CouncilSession:
    doc = find_session(session_id)
    check_version(doc)
    _require_state(doc, "open")
    boxes = BallotBox._get_collection()
    for item in doc.agenda:
        boxes.update_one({"_id": f"{doc.id}:{item['item_id']}"}, {"$set": {"sealed": True}})
    for _ in range(10):  # a ballot refused by the seal removes its own participation: let it
        counts, proof = _verify(doc)
        if all(p["consistent"] for p in proof):
            break
        time.sleep(0.05)
    doc.integrity_warnings = [
        f"Mục {p['item_id']}: {p['participations']} lượt tham gia nhưng {p['ballots']} phiếu trong hòm / item {p['item_id']}: {p['participations']} participations but {p['ballots']} ballots"
        for p in proof
        if not p["consistent"]
    ]
    doc.result = rules.tally(doc.agenda, counts, len(doc.members), doc.quota_groups, doc.casting)
    doc.state = "closed"
    doc.record(SESSION_CLOSED, {"session": _summary(doc), "unresolved_ties": [g["code"] for g in doc.result["groups"] if g["tied_item_ids"]]})
    for item in doc.result["items"]:
        doc.record(BALLOT_TALLIED, {"session_id": doc.id, "tally": _tally_event(item, doc.result["total_members"])})
    return _save(doc)


def _tally_event(item: dict[str, Any], total: int) -> dict[str, Any]:
    keys = ("item_id", "nomination_id", "title_code", "quota_group", "threshold", "yes", "no", "abstain", "ballots", "outcome", "rank", "by_casting_vote")
    return {k: item[k] for k in keys} | {"total_members": total}


def casting_vote(session_id: str, quota_group: str, item_ids: list[str], principal: Principal, check_version: Callable) -> CouncilSession:
    doc = find_session(session_id)
    member = _member(doc.members, principal.subject)
    if member is None or member["role"] != "chair":
        raise Forbidden("Chỉ Chủ tịch Hội đồng có phiếu quyết định / only the council's chair casts the deciding vote")
    check_version(doc)
    _require_state(doc, "closed")
    rules.check_casting_vote(doc.result, quota_group, item_ids)
    doc.casting = [*doc.casting, {"quota_group": quota_group, "item_ids": list(item_ids)}]
    counts = {i["item_id"]: {k: i[k] for k in rules.CHOICES} for i in doc.result["items"]}
    doc.result = rules.tally(doc.agenda, counts, doc.result["total_members"], doc.quota_groups, doc.casting)
    for item in doc.result["items"]:
        if item["quota_group"] == quota_group and item["by_casting_vote"]:
            doc.record(BALLOT_TALLIED, {"session_id": doc.id, "tally": _tally_event(item, doc.result["total_members"])})
    return _save(doc)


def minutes(session_id: str) -> dict[str, Any]:
    doc = find_session(session_id)
    _require_state(doc, "closed")
    total = len(doc.members)
    _, proof = _verify(doc)
    data = {
        "session_id": doc.id,
        "council_id": doc.council_id,
        "council_name": doc.council_name,
        "date": doc.date,
        "total_members": total,
        "present": len(doc.present),
        "absent": total - len(doc.present),
        "present_share": round(len(doc.present) / total, 4) if total else 0.0,
        "quorum": doc.quorum,
        "members": [{"name": m.get("name"), "role": m["role"], "present": m["member_id"] in doc.present} for m in doc.members],
        "items": doc.result["items"],
        "groups": doc.result["groups"],
        "verification": proof,
        "integrity_warnings": list(doc.integrity_warnings),
    }
    data["text"] = rules.minutes_text(data)
    return data
