"""Province exchange (trình cấp tỉnh): nominations for forms the province confers go out as one
proposal, and the province's decision comes back through a signed callback.

Which forms: a title whose `conferred_by` is not one of the local conferrers
(`TDKT_AWARDS_LOCAL_CONFERRERS`, default `commune_chair`: a commune decides its own Giấy khen,
LĐTT, CSTĐCS…; Bằng khen of the province, TTLĐXS, CSTĐ tỉnh… go up).

Sending (`propose`): approved or in-disclosure nominations → a `ProvinceProposal` holding the
export (`proposal.json`: nominee, title, achievement, the pre-check's verdict, the appraisal, the
council's tally, the dossier's documents with their sha256) and its `ProvinceProposalSent` event
(the export as payload), in one write; then each nomination moves to "proposed". Order, for a
crash at any point: each nomination is first *claimed* (`province_claims`, `_id` = nomination id,
so two concurrent proposals cannot both take it), then the proposal is stored, then the
nominations move (idempotent). A proposal stored whose nominations did not all move is finished
by the next proposal naming them and by the province's callback (`_finish`).

Answer (`answer`, via `POST /api/v1/province/callbacks`): no bearer token; the body is signed with
HMAC-SHA256 under a shared secret (`TDKT_AWARDS_PROVINCE_SECRET`), over
`f"{timestamp}.{delivery}.".encode() + body` — the platform's one recipe, `tdkt.signing`, which
the notify service's webhooks use too. A timestamp more than 300 s away is refused (replay window); each delivery id is recorded (`province_deliveries`, `_id` = delivery
id, inserted first with the body's hash): the same id with the same body gets the first answer
again with no second effect, with another body a 409. Every check runs before any effect, so a
refused callback changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import IO, Any

from pymongo.errors import DuplicateKeyError
from tdkt import signing
from tdkt.attachments.store import AttachmentStore
from tdkt.auth import Principal
from tdkt.clock import local_today
from tdkt.errors import Busy, Conflict, Invalid, NotFound
from tdkt.events.outbox import ConcurrentUpdate, save_aggregate
from tdkt.settings import SettingsError

from tdkt_awards.adapters.documents import Nomination
from tdkt_awards.adapters.events import PROVINCE_PROPOSAL_SENT
from tdkt_awards.adapters.province_documents import CLAIMS, DELIVERIES, ProvinceProposal
from tdkt_awards.domain import nominations as rules
from tdkt_awards.domain.catalogue import CONFERRERS, Title
from tdkt_awards.service_layer import nominations
from tdkt_awards.service_layer.catalogue import in_force

PROPOSERS = ("tdkt_officer", "admin")
READERS = (*PROPOSERS, "chairman", "integration")  # integration: the provincial system fetching the zip with a token
SENDABLE = ("approved", "in_disclosure")
MAX_NOMINATIONS = 200  # the export travels as one event: ~2 KB a nomination stays far below Kafka's 1 MB
EXPORT_FORMAT = "tdkt.province-proposal.v1"
# what the province needs to judge the nominee; the unit's own person key stays here
NOMINEE_FIELDS = (
    "name",
    "position",
    "unit_id",
    "unit_name",
    "gender",
    "direct_worker",
    "performance",
    "initiative_recognised",
    "prior_titles",
    "members_total",
    "members_completed_tasks",
    "members_with_titles",
    "members_disciplined",
    "female_share",
)
GONE = "Không có tờ trình này / no such proposal"

LOCAL_CONFERRERS_VARIABLE = "TDKT_AWARDS_LOCAL_CONFERRERS"
SECRET_VARIABLE = "TDKT_AWARDS_PROVINCE_SECRET"
DEV_SECRET = "tdkt-dev-province-secret-not-for-production"  # only when TDKT_ENV is development or test
MIN_SECRET_CHARS = 32
REPLAY_WINDOW_S = 300
CLAIM_TTL_S = 60  # a claim (of a nomination or a delivery) older than this belongs to a request that died


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _db():
    return ProvinceProposal._get_db()


# --- settings --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProvinceSettings:
    local_conferrers: tuple[str, ...]
    secret: bytes | None  # None: not configured, the callback answers 503


def load_province_settings(environ: dict[str, str] | None = None) -> ProvinceSettings:
    """TDKT_AWARDS_LOCAL_CONFERRERS ("commune_chair"): who confers locally, comma-separated;
    TDKT_AWARDS_PROVINCE_SECRET: the callbacks' HMAC key, at least 32 characters — unset, a fixed
    development key when TDKT_ENV is explicitly development or test, else none (503).
    SettingsError names every bad variable."""
    environ = os.environ if environ is None else environ
    errors: list[str] = []
    raw = environ.get(LOCAL_CONFERRERS_VARIABLE, "commune_chair")
    local = tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    if not local or any(c not in CONFERRERS for c in local):
        errors.append(f"{LOCAL_CONFERRERS_VARIABLE}: a comma-separated list of {', '.join(CONFERRERS)} expected, got {raw!r}")
    secret = environ.get(SECRET_VARIABLE, "")
    if secret and len(secret) < MIN_SECRET_CHARS:
        errors.append(f"{SECRET_VARIABLE}: at least {MIN_SECRET_CHARS} characters expected (a random value, e.g. `openssl rand -hex 32`)")
    if errors:
        raise SettingsError("invalid environment: " + " | ".join(errors))
    if not secret and environ.get("TDKT_ENV") in ("development", "test"):
        secret = DEV_SECRET
    return ProvinceSettings(local, secret.encode() if secret else None)


# --- signatures ------------------------------------------------------------------------------


# The callback endpoint catches it under this name; its messages are bilingual, its `reason` one of
# "missing", "malformed", "signature", "timestamp".
SignatureRejected = signing.SignatureError

# The `X-TDKT-Signature` value a provincial system sends (`tdkt.signing.sign`): HMAC-SHA256 under
# the shared secret of `"<timestamp>.<delivery>."` followed by the raw body, as lowercase hex.
sign = signing.sign


def verify(secret: bytes, timestamp: str | None, delivery: str | None, signature: str | None, body: bytes, now: float | None = None) -> None:
    """Raise SignatureRejected unless the three headers are present and well-formed, the
    signature matches (constant-time) and the timestamp is within the replay window."""
    given = {signing.TIMESTAMP_HEADER: timestamp, signing.DELIVERY_HEADER: delivery, signing.SIGNATURE_HEADER: signature}
    signing.verify(secret, {name: value for name, value in given.items() if value is not None}, body, now=now, window_s=REPLAY_WINDOW_S)


# --- deliveries (replay protection and idempotency of callbacks) -------------------------------


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def claim_delivery(delivery_id: str, digest: str, now: float | None = None) -> dict[str, Any] | None:
    """None: this request processes the delivery. Otherwise the first answer stored for the
    same id and body ({status, body, content_type}); 409 for the same id with another body;
    503 (Retry-After) while its first attempt is still running."""
    deliveries = _db()[DELIVERIES]
    for _attempt in range(3):
        now = time.time() if now is None else now
        try:
            deliveries.insert_one({"_id": delivery_id, "body_sha256": digest, "state": "in_progress", "claimed_at": now, "received_at": _now()})
            return None
        except DuplicateKeyError:
            earlier = deliveries.find_one({"_id": delivery_id})
        if earlier is None:
            continue  # its first attempt failed and was forgotten meanwhile: claim it again
        if earlier["body_sha256"] != digest:
            raise Conflict("X-TDKT-Delivery này đã dùng cho một nội dung khác / this delivery id came before with a different body")
        if earlier["state"] == "done":
            return earlier["answer"]
        if now - earlier["claimed_at"] >= CLAIM_TTL_S:  # the first attempt died: take it over, unless another retry just did
            taken = deliveries.update_one({"_id": delivery_id, "state": "in_progress", "claimed_at": earlier["claimed_at"]}, {"$set": {"claimed_at": now}})
            if taken.modified_count:
                return None
        break
    raise Busy("Lần gửi này đang được xử lý, thử lại sau / this delivery is still being processed: retry shortly")


def finish_delivery(delivery_id: str, status: int, body: str, content_type: str) -> None:
    _db()[DELIVERIES].update_one({"_id": delivery_id}, {"$set": {"state": "done", "answered_at": _now(), "answer": {"status": status, "body": body, "content_type": content_type}}})


def drop_delivery(delivery_id: str) -> None:
    """The answer was a failure of ours (5xx): forget the delivery so that a retry runs again."""
    _db()[DELIVERIES].delete_one({"_id": delivery_id, "state": "in_progress"})


# --- sending ---------------------------------------------------------------------------------


def load(proposal_id: str) -> ProvinceProposal:
    doc = ProvinceProposal.objects(id=proposal_id).exclude("outbox").first()
    if doc is None:
        raise NotFound(GONE)
    return doc


def search(args: dict[str, Any]) -> list[ProvinceProposal]:
    """Newest first; a scan (FerretDB indexes only `_id`), fine for a province's yearly volume."""
    query = {"state": args["state"]} if args.get("state") else {}
    found = ProvinceProposal.objects(**query).exclude("outbox", "export")
    return sorted(found, key=lambda d: (d.created_at or "", d.id), reverse=True)


def _sendable(nomination_id: str, field: str, settings: ProvinceSettings, today: date) -> tuple[Nomination, Title]:
    doc = Nomination.objects(id=nomination_id).exclude("outbox", "history").first()
    if doc is None:
        raise Invalid(field, nominations.GONE)
    _, catalogue = in_force(doc.issuer, today)
    try:
        title = catalogue.title(doc.title_code)
    except Invalid:
        raise Invalid(field, f"Danh mục hiện hành không còn {doc.title_code!r} / the catalogue in force has no {doc.title_code!r}") from None
    if title.conferred_by in settings.local_conferrers:
        raise Invalid(
            field, f"{title.name} do cấp mình quyết định ({title.conferred_by}), không trình tỉnh / {title.code} is conferred locally ({title.conferred_by}), not by the province"
        )
    if doc.state not in SENDABLE:
        raise Conflict(
            f"{doc.nominee.get('name')}: hồ sơ đang ở trạng thái “{rules.LABELS[doc.state]}”, chỉ trình tỉnh hồ sơ Hội đồng đã đồng ý / "
            f"{field} is {doc.state}: only approved or in-disclosure nominations go to the province",
            nomination_id=doc.id,
            state=doc.state,
        )
    return doc, title


def propose(nomination_ids: list[str], principal: Principal, settings: ProvinceSettings | None = None, today: date | None = None) -> ProvinceProposal:
    settings = settings or load_province_settings()
    today = today or local_today()
    for i, nomination_id in enumerate(nomination_ids):
        if nomination_id in nomination_ids[:i]:
            raise Invalid(f"nomination_ids.{i}", "Hồ sơ bị nêu hai lần / named twice")
    chosen = [_sendable(nid, f"nomination_ids.{i}", settings, today) for i, nid in enumerate(nomination_ids)]
    proposal = ProvinceProposal(id=uuid.uuid4().hex, state="sent", nomination_ids=list(nomination_ids), answers=[], created_by=principal.subject, created_at=_now())
    proposal.export = _export(proposal, chosen)
    _claim_all(proposal.id, nomination_ids)
    try:
        proposal.record(PROVINCE_PROPOSAL_SENT, {"proposal": proposal.export})
        save_aggregate(proposal)
    except BaseException:
        _release(proposal.id, nomination_ids)  # nothing was sent: the nominations are free again
        raise
    _finish(proposal)
    return proposal


def _claim_all(proposal_id: str, nomination_ids: list[str]) -> None:
    taken: list[str] = []
    try:
        for i, nomination_id in enumerate(nomination_ids):
            _claim(proposal_id, nomination_id, f"nomination_ids.{i}")
            taken.append(nomination_id)
    except BaseException:
        _release(proposal_id, taken)
        raise


def _claim(proposal_id: str, nomination_id: str, field: str) -> None:
    claims = _db()[CLAIMS]
    for _attempt in range(3):
        try:
            claims.insert_one({"_id": nomination_id, "proposal_id": proposal_id, "at": time.time()})
            return
        except DuplicateKeyError:
            held = claims.find_one({"_id": nomination_id})
        if held is None:
            continue
        other = ProvinceProposal.objects(id=held["proposal_id"]).exclude("outbox").first()
        if other is not None:
            _finish(other)  # it was sent but may not have moved all its nominations (a crash): finish it
            raise Conflict(f"Hồ sơ đã có trong tờ trình {other.id} / {field} is already in proposal {other.id}", nomination_id=nomination_id, proposal_id=other.id)
        if time.time() - held["at"] < CLAIM_TTL_S:
            raise Conflict(f"Hồ sơ đang được trình trong một yêu cầu khác / another request is proposing {field} right now", nomination_id=nomination_id)
        claims.delete_one({"_id": nomination_id, "proposal_id": held["proposal_id"]})  # its request died before storing the proposal
    raise Conflict(f"Hồ sơ vừa được thay đổi, thử lại / {field} changed meanwhile: retry", nomination_id=nomination_id)


def _release(proposal_id: str, nomination_ids: list[str]) -> None:
    for nomination_id in nomination_ids:  # by `_id`, and only our own claims
        _db()[CLAIMS].delete_one({"_id": nomination_id, "proposal_id": proposal_id})


def _finish(proposal: ProvinceProposal) -> None:
    """Move the proposal's nominations to "proposed" (idempotent: done ones are left alone)."""
    for nomination_id in proposal.nomination_ids:
        nominations._advance(
            nomination_id,
            "propose",
            "proposed",
            lambda d: (d.province or {}).get("proposal_id") == proposal.id,
            lambda d: setattr(d, "province", {"proposal_id": proposal.id, "sent_at": proposal.created_at}),
            proposal_id=proposal.id,
        )


# --- the export ------------------------------------------------------------------------------


def _export(proposal: ProvinceProposal, chosen: list[tuple[Nomination, Title]]) -> dict[str, Any]:
    """`proposal.json`: what the province receives, self-contained (titles named, documents listed
    with their sha256 and their path in the zip)."""
    return {
        "format": EXPORT_FORMAT,
        "id": proposal.id,
        "created_at": proposal.created_at,
        "created_by": proposal.created_by,
        "nominations": [_exported(doc, title) for doc, title in chosen],
    }


def _exported(doc: Nomination, title: Title) -> dict[str, Any]:
    appraisal = doc.appraisal or {}
    return {
        "id": doc.id,
        "issuer": doc.issuer,
        "kind": doc.kind,
        "movement_id": doc.movement_id,
        "year": doc.year,
        "sudden_ref": doc.sudden_ref,
        "nominating_unit_id": doc.nominating_unit_id,
        "subject": doc.subject,
        "title": {"code": title.code, "name": title.name, "kind": title.kind, "award_type": title.award_type, "conferred_by": title.conferred_by},
        "nominee": {k: doc.nominee[k] for k in NOMINEE_FIELDS if k in doc.nominee},
        "achievement": doc.achievement,
        "eligibility": nominations.verdict_of(doc),  # the pre-check's verdict as it stands when sent
        "appraisal": {k: appraisal.get(k) for k in ("outcome", "reasons", "override_reason", "on")} if appraisal else None,
        "council": dict(doc.council) if doc.council else None,
        "disclosure_id": doc.disclosure_id,
        "documents": _documents(doc),
    }


def _documents(doc: Nomination) -> list[dict[str, Any]]:
    listed, paths = [], set()
    for attachment in doc.attachments:
        name = _safe_name(attachment["filename"])
        path = f"{doc.id}/{attachment['type']}-{name}"
        if path in paths:  # two documents of one type with the same file name
            path = f"{doc.id}/{attachment['type']}-{attachment['id'][:8]}-{name}"
        paths.add(path)
        keys = ("id", "type", "type_name", "filename", "content_type", "size", "sha256")
        listed.append({**{k: attachment.get(k) for k in keys}, "path": path})
    return listed


def _safe_name(filename: str) -> str:
    """A file name that stays in its folder when unzipped: no separators, no leading dots."""
    return re.sub(r"[\\/\x00-\x1f\x7f:]", "_", filename).lstrip(".").strip() or "tai-lieu"


def export_zip(proposal_id: str, store: AttachmentStore, out: IO[bytes]) -> None:
    """Write the proposal as a zip to `out`: `proposal.json` and every dossier document under
    its listed path, each checked against the sha256 that was sent. The same bytes every time."""
    proposal = load(proposal_id)
    stamp = datetime.fromisoformat(proposal.created_at).timetuple()[:6]
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(_member("proposal.json", stamp), json.dumps(proposal.export, ensure_ascii=False, indent=2))
        for entry in proposal.export["nominations"]:
            for document in entry["documents"]:
                archive.writestr(_member(document["path"], stamp), _document_bytes(store, entry["id"], document))


def _member(name: str, stamp: tuple[int, ...]) -> zipfile.ZipInfo:
    """A zip entry dated when the proposal was made (not now: the same zip every time), rw-r--r--."""
    info = zipfile.ZipInfo(name, stamp)
    info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, 0o644 << 16
    return info


def _document_bytes(store: AttachmentStore, nomination_id: str, document: dict[str, Any]) -> bytes:
    if store.info(document["id"]).get("nomination_id") != nomination_id:  # never ship another dossier's file
        raise RuntimeError(f"attachment {document['id']} does not belong to nomination {nomination_id}")
    data = store.get(document["id"])
    if hashlib.sha256(data).hexdigest() != document["sha256"]:  # what the province checks must be what we listed
        raise RuntimeError(f"attachment {document['id']} does not match the sha256 sent to the province")
    return data


# --- the province's answer -------------------------------------------------------------------


def answer(data: dict[str, Any], delivery_id: str) -> dict[str, Any]:
    """Apply a verified callback: every decision is checked before any is applied."""
    proposal = ProvinceProposal.objects(id=data["proposal_id"]).exclude("outbox").first()
    if proposal is None:
        raise Invalid("proposal_id", GONE)
    _finish(proposal)  # a crash may have left some of its nominations unmoved
    checked = [_answerable(proposal, data["decisions"], i) for i in range(len(data["decisions"]))]
    results = [_apply(proposal.id, doc, given, delivery_id) for doc, given in checked]
    proposal = _record_answers(proposal.id, [given for _, given in checked], delivery_id)
    return {"proposal_id": proposal.id, "delivery_id": delivery_id, "state": proposal.state, "nominations": results}


def _province_answer(item: dict[str, Any]) -> dict[str, Any]:
    if item["outcome"] == "approved":
        return {"nomination_id": item["nomination_id"], "outcome": "approved", "decision": dict(item["decision"])}
    return {"nomination_id": item["nomination_id"], "outcome": "rejected", "reason": item["reason"]}


def _answerable(proposal: ProvinceProposal, items: list[dict[str, Any]], i: int) -> tuple[Nomination, dict[str, Any]]:
    field, item = f"decisions.{i}.nomination_id", items[i]
    if item["nomination_id"] not in proposal.nomination_ids:
        raise Invalid(field, "Hồ sơ này không có trong tờ trình / that nomination is not in this proposal")
    if any(other["nomination_id"] == item["nomination_id"] for other in items[:i]):
        raise Invalid(field, "Hồ sơ bị nêu hai lần / named twice")
    doc = Nomination.objects(id=item["nomination_id"]).exclude("outbox", "history").first()
    if doc is None:
        raise Invalid(field, nominations.GONE)
    given = _province_answer(item)
    if doc.state == "proposed" or (doc.province or {}).get("answer") == given:  # or the same answer already applied
        return doc, given
    raise Conflict(
        f"{doc.nominee.get('name')}: hồ sơ đang ở trạng thái “{rules.LABELS[doc.state]}”, không nhận được kết quả này / the nomination is {doc.state}: this answer cannot apply",
        nomination_id=doc.id,
        state=doc.state,
    )


def _answered(doc: Nomination) -> bool:
    return bool((doc.province or {}).get("answer"))


def _apply(proposal_id: str, doc: Nomination, given: dict[str, Any], delivery_id: str) -> dict[str, Any]:
    def note(d: Nomination) -> None:
        d.province = {**(d.province or {}), "answer": given, "delivery_id": delivery_id, "answered_at": _now()}

    if given["outcome"] == "approved":
        act = given["decision"]
        record = {"by_province": True, "proposal_id": proposal_id, "reference": f"{act['number']}/{act['symbol']}", **act}

        def decide(d: Nomination) -> None:
            note(d)
            d.decision = record

        moved = nominations._advance(doc.id, "decide", "decided", _answered, decide, by="province", delivery_id=delivery_id)
    else:
        moved = nominations._advance(doc.id, "reject", "rejected", _answered, note, reasons=[given["reason"]], by="province", delivery_id=delivery_id)
    return {"nomination_id": doc.id, "outcome": given["outcome"], "state": moved.state}


def _record_answers(proposal_id: str, given: list[dict[str, Any]], delivery_id: str) -> ProvinceProposal:
    """Add each nomination's first answer; "answered" once every nomination has one."""
    for _attempt in range(5):
        doc = ProvinceProposal.objects(id=proposal_id).first()
        known = {a["nomination_id"] for a in doc.answers}
        new = [{**g, "delivery_id": delivery_id, "answered_at": _now()} for g in given if g["nomination_id"] not in known]
        if not new:
            return doc
        doc.answers = [*doc.answers, *new]
        if {a["nomination_id"] for a in doc.answers} >= set(doc.nomination_ids):
            doc.state, doc.answered_at = "answered", _now()
        try:
            save_aggregate(doc)
            return doc
        except ConcurrentUpdate:
            continue
    raise Conflict(f"proposal {proposal_id} kept changing")


# --- views -----------------------------------------------------------------------------------


def view(doc: ProvinceProposal, full: bool = True) -> dict[str, Any]:
    data = {
        "id": doc.id,
        "state": doc.state,
        "nomination_ids": list(doc.nomination_ids),
        "answers": list(doc.answers),
        "created_by": doc.created_by,
        "created_at": doc.created_at,
        "answered_at": doc.answered_at,
        "version": doc.version,
    }
    if full:
        data["export"] = dict(doc.export)
    return data
