"""Use cases of nominations and dossiers: a unit drafts, attaches its documents and submits; the
standing body returns or appraises; the council's tally, the disclosure, the decision and a
revocation move it on. Every step is one versioned write with its event (outbox) and a line in
`history`; the eligibility pre-check is recomputed whenever one of its inputs changes.

Who sees what: a draft (and a withdrawn draft) only its own unit — nobody else, officers
included, reads another unit's drafts; after submission the nominating unit and the roles with
wide sight (standing body, council, chair, finance, communications, provincial systems).
Anything not visible answers 404, as if absent.

Lists: every save is journalled (`adapters/nomination_listing.py`) and the officers' list is
filtered and ordered from rows kept in memory, then only the page's nominations are read.

Lookups (`nomination_lookup`): FerretDB indexes only `_id`, so "the other nominations of this
person", "this unit's nominations in this movement" and "this unit's nominations this year" are
kept as id lists under `_id`s, written *before* the nomination itself: an id whose nomination
was never stored is skipped on read, a stored nomination is never missing from its lists.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from pymongo.errors import PyMongoError
from tdkt.attachments.store import AttachmentStore
from tdkt.attachments.uploads import Upload, read_upload
from tdkt.auth import Principal
from tdkt.clock import local_today
from tdkt.errors import Conflict, DomainError, Invalid, NotFound
from tdkt.events.outbox import ConcurrentUpdate, save_aggregate
from tdkt.logs import get_logger

from tdkt_awards.adapters import nomination_listing
from tdkt_awards.adapters.documents import Hold, Nomination
from tdkt_awards.adapters.events import NOMINATION_EVENTS
from tdkt_awards.domain import eligibility
from tdkt_awards.domain import nominations as rules
from tdkt_awards.domain.calendar import working_days_between
from tdkt_awards.service_layer import projections
from tdkt_awards.service_layer.catalogue import in_force

NOMINATORS = ("unit_head", "tdkt_officer", "admin")  # for their own unit
APPRAISERS = ("tdkt_officer", "admin")
LOOKUP, VERDICTS = "nomination_lookup", "nomination_eligibility"
MAX_ATTACHMENTS = 30
GONE = "Không có hồ sơ đề nghị này / no such nomination"
log = get_logger(__name__)


class Forbidden(DomainError):
    status = 403
    slug = "forbidden"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _db():
    return Nomination._get_db()


def _save(doc: Nomination) -> Nomination:
    try:
        save_aggregate(doc)
    except ConcurrentUpdate:
        raise Conflict("Hồ sơ vừa được thay đổi, tải lại rồi thử lại / the nomination changed meanwhile: reload and retry") from None
    nomination_listing.changed(_db(), doc.id)
    return doc


# --- reading and scope ---------------------------------------------------------------------


def _visible(doc: Nomination | nomination_listing.Row, principal: Principal | None) -> bool:
    if principal is None:  # the service itself (consumers)
        return True
    own = principal.unit_id is not None and principal.unit_id == doc.nominating_unit_id
    if doc.state in ("draft", "withdrawn"):
        return own
    return own or principal.sees_all_units


def load(nomination_id: str, principal: Principal | None = None) -> Nomination:
    doc = Nomination.objects(id=nomination_id).exclude("outbox").first()
    if doc is None or not _visible(doc, principal):
        raise NotFound(GONE)
    return doc


def _own(doc: Nomination, principal: Principal) -> None:
    if principal.unit_id != doc.nominating_unit_id:
        raise Forbidden("Chỉ đơn vị đề nghị được sửa hồ sơ của mình / only the nominating unit changes its dossier")


def search(principal: Principal, args: dict[str, Any], today: date | None = None) -> list[nomination_listing.Row]:
    """The rows of the nominations the caller may see, filtered, newest first (see "Lists" above;
    `page_views` reads the page's nominations)."""
    wanted = {name: args[name] for name in ("state", "movement_id", "title_code", "kind", "year", "issuer") if args.get(name) is not None}
    if args.get("unit_id"):
        wanted["nominating_unit_id"] = args["unit_id"]
    found = [r for r in nomination_listing.rows(_db()) if all(getattr(r, k) == v for k, v in wanted.items()) and _visible(r, principal)]
    if args.get("overdue"):
        today = today or local_today()
        found = [r for r in found if _late(r.state, r.appraisal_due, today)]
    return sorted(found, key=lambda r: (r.order, r.id), reverse=True)


def page_views(rows: list[nomination_listing.Row], today: date | None = None) -> list[dict[str, Any]]:
    """The views of a page of `search`'s rows: one read by `_id` each (FerretDB scans for `$in`)."""
    docs = (Nomination.objects(id=r.id).exclude("outbox", "history").first() for r in rows)
    return [view(d, today) for d in docs if d is not None]  # gone since it was listed: left out


def _overdue(doc: Nomination, today: date) -> bool:
    return _late(doc.state, (doc.deadlines or {}).get("appraisal_due"), today)


def _late(state: str, appraisal_due: str | None, today: date) -> bool:
    return state == "submitted" and appraisal_due is not None and date.fromisoformat(appraisal_due) < today


# --- lookups -------------------------------------------------------------------------------


def _lookup_keys(doc: Nomination) -> list[str]:
    keys = [f"nominee:{doc.nominee_key}", f"unit-year:{doc.nominating_unit_id}:{doc.year}"]
    if doc.movement_id:
        keys.append(f"movement-unit:{doc.movement_id}:{doc.nominee.get('unit_id')}")
    return keys


def _index(doc: Nomination) -> None:
    for key in _lookup_keys(doc):
        _db()[LOOKUP].update_one({"_id": key}, {"$addToSet": {"ids": doc.id}}, upsert=True)


def _looked_up(key: str) -> list[Nomination]:
    found = _db()[LOOKUP].find_one({"_id": key}) or {}
    return [d for d in (Nomination.objects(id=i).exclude("outbox", "history").first() for i in found.get("ids") or ()) if d is not None]


# --- the pre-check ---------------------------------------------------------------------------

LIVE = ("submitted", "returned", "appraised", "on_agenda", "approved", "in_disclosure", "proposed", "decided")


def _as_input(doc: Nomination) -> dict[str, Any]:
    return {"subject": doc.subject, "kind": doc.kind, "year": doc.year, "movement_id": doc.movement_id, "nominee": dict(doc.nominee), "attachments": list(doc.attachments)}


def _evaluate(doc: Nomination, today: date | None = None) -> dict[str, Any]:
    version, catalogue = in_force(doc.issuer, today or local_today())
    title = catalogue.title(doc.title_code)
    same_person = _looked_up(f"nominee:{doc.nominee_key}")
    rivals = tuple(
        {"id": r.id, "title_code": r.title_code, "state": r.state} for r in same_person if r.id != doc.id and r.achievement_key == doc.achievement_key and r.state in LIVE
    )
    counts: dict[str, int] = {}
    for other in _looked_up(f"unit-year:{doc.nominating_unit_id}:{doc.year}"):
        if other.state in LIVE or other.id == doc.id:
            counts[other.title_code] = counts.get(other.title_code, 0) + 1
    holds = tuple(h.to_mongo().to_dict() for h in Hold.objects(nominee_key=doc.nominee_key, active=True).exclude("outbox"))
    for hold in holds:
        hold["id"] = hold.pop("_id")
    inputs = eligibility.Inputs(
        catalogue=catalogue,
        title=title,
        nomination=_as_input(doc),
        progress=projections.progress(_db(), doc.movement_id, doc.nominee.get("unit_id")),
        holds=holds,
        rivals=rivals,
        quota_counts=counts,
    )
    return {**eligibility.evaluate(inputs), "catalogue_version": version.id, "checked_at": _now()}


def _checked(doc: Nomination, today: date | None = None) -> dict[str, Any]:
    """Evaluate and store the verdict beside the nomination (`nomination_eligibility`, by the
    nomination's id). Not inside it: a recheck caused by someone else's event must not change
    the nomination's version, or every user holding its ETag would be refused (412/409) for a
    change they did not make."""
    verdict = _evaluate(doc, today)
    _db()[VERDICTS].replace_one({"_id": doc.id}, verdict, upsert=True)
    return verdict


def verdict_of(doc: Nomination) -> dict[str, Any]:
    found = _db()[VERDICTS].find_one({"_id": doc.id}) or {}
    found.pop("_id", None)
    return found


def _recheck(doc: Nomination) -> bool:
    """Recompute the verdict of a live nomination; True if it changed."""
    if doc.state not in ("draft", "submitted", "returned", "appraised", "on_agenda", "approved", "in_disclosure"):
        return False
    before = {k: v for k, v in verdict_of(doc).items() if k != "checked_at"}
    after = _checked(doc)
    return before != {k: v for k, v in after.items() if k != "checked_at"}


def recheck_progress(movement_id: str, unit_id: str) -> int:
    """The unit's progress in the movement changed: recompute its nominations there."""
    return sum(_recheck(d) for d in _looked_up(f"movement-unit:{movement_id}:{unit_id}"))


def recheck_nominee(nominee_key: str, except_id: str | None = None) -> int:
    return sum(_recheck(d) for d in _looked_up(f"nominee:{nominee_key}") if d.id != except_id)


# --- drafting ------------------------------------------------------------------------------


def _resolve(data: dict[str, Any], principal: Principal) -> dict[str, Any]:
    """Check a draft's content against the catalogue and the registry's copies; fill in names."""
    db = _db()
    _, catalogue = in_force(data["issuer"], local_today())
    try:
        title = catalogue.title(data["title_code"])
    except Invalid:
        raise Invalid("title_code", f"Danh mục không có danh hiệu/hình thức {data['title_code']!r} / the catalogue has no title or form {data['title_code']!r}") from None
    if title.subject != data["subject"]:
        raise Invalid("subject", f"{title.name} dành cho {title.subject} / {title.code} is for a {title.subject}")
    if (data["kind"] == "sudden") != (title.award_type == "sudden"):
        raise Invalid("kind", "Khen thưởng đột xuất phải dùng hình thức đột xuất và ngược lại / a sudden achievement takes a sudden-award form, and only it")
    movement = None
    if data["kind"] == "movement":
        movement = projections.movement(db, data.get("movement_id"))
        if movement is None:
            raise Invalid("movement_id", "Không có phong trào này (hoặc chưa đồng bộ từ registry) / no such movement (or not copied from the registry yet)")
        if movement.get("state") not in ("launched", "closed"):
            raise Invalid("movement_id", "Phong trào chưa phát động hoặc đã hủy / the movement is not launched")
    elif data.get("movement_id"):
        raise Invalid("movement_id", "Chỉ đề nghị trong phong trào mới gắn phong trào / only a movement nomination names a movement")
    if data["kind"] == "sudden" and not data.get("sudden_ref"):
        raise Invalid("sudden_ref", "Cần nêu thành tích đột xuất (mã hoặc mô tả ngắn) / name the sudden achievement")
    nominee = dict(data["nominee"])
    unit = projections.unit(db, nominee.get("unit_id"))
    if unit is None:
        raise Invalid("nominee.unit_id", "Không có đơn vị này (hoặc chưa đồng bộ từ registry) / no such unit (or not copied from the registry yet)")
    if not principal.has_any(*APPRAISERS) and not projections.is_within(db, unit["_id"], principal.unit_id):
        raise Invalid("nominee.unit_id", "Chỉ đề nghị cho đơn vị mình hoặc đơn vị trực thuộc / nominate only within your own unit")
    nominee["unit_name"] = unit.get("name")
    if data["subject"] == "collective":
        nominee["name"] = nominee.get("name") or unit.get("name")
    elif not nominee.get("name"):
        raise Invalid("nominee.name", "Cần họ và tên / the nominee's name is required")
    year = data.get("year") or (int(movement["period_end"][:4]) if movement else local_today().year)
    return {
        **{k: data.get(k) for k in ("issuer", "kind", "movement_id", "sudden_ref", "title_code", "subject", "achievement")},
        "year": year,
        "nominee": nominee,
        "nominee_key": rules.nominee_key(data["subject"], nominee),
        "achievement_key": rules.achievement_key(data["kind"], data.get("movement_id"), year, data.get("sudden_ref")),
    }


def _history(doc: Nomination, action: str, principal: Principal | None, before: str | None = None, **details: Any) -> None:
    entry = {"action": action, "from": before, "to": doc.state, "by": principal.subject if principal else "system", "at": _now(), **details}
    doc.history = [*doc.history, entry]


def create(data: dict[str, Any], principal: Principal) -> Nomination:
    if not principal.unit_id:
        raise Forbidden("Tài khoản không gắn với đơn vị nào / your account belongs to no unit")
    fields = _resolve(data, principal)
    doc = Nomination(id=uuid.uuid4().hex, state="draft", nominating_unit_id=principal.unit_id, attachments=[], created_at=_now(), **fields)
    _index(doc)  # before the nomination: see "Lookups" above
    _history(doc, "created", principal)
    _save(doc)
    _checked(doc)
    return doc


def edit(nomination_id: str, data: dict[str, Any], principal: Principal, check_version: Callable[[Nomination], None]) -> Nomination:
    doc = load(nomination_id, principal)
    _own(doc, principal)
    check_version(doc)
    if doc.state not in ("draft", "returned"):
        raise Conflict("Chỉ sửa được hồ sơ dự thảo hoặc bị trả lại / only a draft or a returned dossier can change", state=doc.state)
    for key, value in _resolve(data, principal).items():
        setattr(doc, key, value)
    _index(doc)
    _history(doc, "edited", principal, doc.state)
    _save(doc)
    _checked(doc)
    return doc


# --- the dossier's documents -----------------------------------------------------------------


def add_attachment(nomination_id: str, file: Upload, doc_type: str, principal: Principal, check_version: Callable[[Nomination], None], *, store: AttachmentStore) -> Nomination:
    doc = load(nomination_id, principal)
    _own(doc, principal)
    check_version(doc)
    if doc.state not in ("draft", "returned"):
        raise Conflict("Hồ sơ đã gửi: không thêm tài liệu được / the dossier was submitted: no more documents", state=doc.state)
    if len(doc.attachments) >= MAX_ATTACHMENTS:
        raise Conflict(f"Mỗi hồ sơ tối đa {MAX_ATTACHMENTS} tệp / a dossier holds at most {MAX_ATTACHMENTS} files")
    data, content_type, filename = read_upload(file, default_name=doc_type)
    attachment_id = store.put(data, nomination_id=doc.id, type=doc_type, filename=filename, content_type=content_type, uploaded_by=principal.subject)
    try:
        info = store.info(attachment_id)
        entry = {"id": attachment_id, "type": doc_type, "type_name": rules.DOCUMENT_TYPES[doc_type], "filename": filename, "content_type": content_type}
        doc.attachments = [*doc.attachments, {**entry, "size": info["size"], "sha256": info["sha256"], "uploaded_at": _now(), "uploaded_by": principal.subject}]
        _history(doc, "attachment_added", principal, doc.state, attachment=attachment_id, type=doc_type, filename=filename)
        _save(doc)
    except BaseException:  # the dossier does not know the bytes: do not keep them
        store.delete(attachment_id)
        raise
    _checked(doc)  # a proof of initiative changes the verdict
    return doc


def remove_attachment(nomination_id: str, attachment_id: str, principal: Principal, check_version: Callable[[Nomination], None], *, store: AttachmentStore) -> Nomination:
    doc = load(nomination_id, principal)
    _own(doc, principal)
    check_version(doc)
    if doc.state not in ("draft", "returned"):
        raise Conflict("Hồ sơ đã gửi: không gỡ tài liệu được / the dossier was submitted: documents stay", state=doc.state)
    entry = next((a for a in doc.attachments if a["id"] == attachment_id), None)
    if entry is None:
        raise NotFound("Hồ sơ không có tài liệu này / the dossier has no such document")
    doc.attachments = [a for a in doc.attachments if a["id"] != attachment_id]
    _history(doc, "attachment_removed", principal, doc.state, attachment=attachment_id)
    _save(doc)
    _checked(doc)
    if not any(h.get("action") == "submitted" for h in doc.history):  # a dossier once submitted keeps its evidence as it was
        try:
            store.delete(attachment_id)
        except PyMongoError as exc:
            log.warning("dossier document bytes not deleted", attachment=attachment_id, error=str(exc))
    return doc


def download(nomination_id: str, attachment_id: str, principal: Principal, *, store: AttachmentStore) -> tuple[dict[str, Any], bytes]:
    doc = load(nomination_id, principal)
    if attachment_id not in {a["id"] for a in doc.attachments}:
        raise NotFound("Hồ sơ không có tài liệu này / the dossier has no such document")
    info = store.info(attachment_id)
    if info.get("nomination_id") != doc.id:  # never serve another dossier's file
        raise NotFound("Hồ sơ không có tài liệu này / the dossier has no such document")
    return info, store.get(attachment_id)


# --- the workflow ----------------------------------------------------------------------------


def _move(doc: Nomination, action: str, principal: Principal | None, event: str | None = None, **details: Any) -> Nomination:
    before = doc.state
    doc.state = rules.transition(doc.state, action)
    _history(doc, action, principal, before, **details)
    if event:
        doc.record(NOMINATION_EVENTS[event], {"nomination": event_view(doc), **({"reasons": details["reasons"]} if "reasons" in details else {})})
    return doc


def submit(nomination_id: str, principal: Principal, check_version: Callable[[Nomination], None], today: date | None = None) -> Nomination:
    doc = load(nomination_id, principal)
    _own(doc, principal)
    check_version(doc)
    rules.transition(doc.state, "submit")  # the state first: it is what the user most needs to hear
    required = rules.required_documents(doc.kind, doc.subject, bool(doc.nominee.get("initiative_recognised")))
    rules.check_complete(required, list(doc.attachments))
    today = today or local_today()
    _checked(doc, today)
    doc.submitted_at = _now()
    doc.deadlines = rules.deadlines_on_submit(today)
    _move(doc, "submit", principal, "submitted")
    _save(doc)
    recheck_nominee(doc.nominee_key, except_id=doc.id)  # one achievement, one form: the others now see this one
    return doc


def withdraw(nomination_id: str, principal: Principal, check_version: Callable[[Nomination], None]) -> Nomination:
    doc = load(nomination_id, principal)
    _own(doc, principal)
    check_version(doc)
    _move(doc, "withdraw", principal)
    _save(doc)
    recheck_nominee(doc.nominee_key, except_id=doc.id)
    return doc


def return_for_completion(nomination_id: str, reasons: list[str], principal: Principal, check_version: Callable[[Nomination], None], today: date | None = None) -> Nomination:
    doc = load(nomination_id, principal)
    check_version(doc)
    today = today or local_today()
    doc.deadlines = {**doc.deadlines, "resubmit_by": rules.resubmit_by(today), "returned_on": today.isoformat()}
    return _save(_move(doc, "return", principal, "returned", reasons=reasons))


def appraise(nomination_id: str, data: dict[str, Any], principal: Principal, check_version: Callable[[Nomination], None], today: date | None = None) -> Nomination:
    doc = load(nomination_id, principal)
    check_version(doc)
    rules.transition(doc.state, "appraise")
    today = today or local_today()
    verdict = _checked(doc, today)
    failing = [c for c in verdict["checks"] if c["ok"] is False]
    if data["outcome"] == "eligible" and failing and not data.get("override_reason"):
        raise Conflict(
            "Kiểm tra điều kiện chưa đạt: nêu lý do nếu vẫn đề nghị / the pre-check fails: give override_reason to appraise it eligible anyway",
            failing=[c["rule"] for c in failing],
        )
    if data["outcome"] == "ineligible" and not data.get("reasons"):
        raise Invalid("reasons", "Cần nêu lý do không đủ điều kiện / say why it is not eligible")
    due = doc.deadlines.get("appraisal_due")
    doc.appraisal = {
        "outcome": data["outcome"],
        "reasons": data.get("reasons") or [c["message"] for c in failing],
        "override_reason": data.get("override_reason"),
        "note": data.get("note"),
        "by": principal.subject,
        "on": today.isoformat(),
        "late_by_working_days": working_days_between(date.fromisoformat(due), today) if due else 0,
    }
    return _save(_move(doc, "appraise", principal, "appraised", outcome=data["outcome"], reasons=doc.appraisal["reasons"]))


# --- holds -----------------------------------------------------------------------------------


def place_hold(data: dict[str, Any], principal: Principal) -> tuple[Hold, int]:
    hold = Hold(id=uuid.uuid4().hex, placed_by=principal.subject, placed_at=_now(), **data)
    save_aggregate(hold)
    return hold, recheck_nominee(hold.nominee_key)


def lift_hold(hold_id: str, principal: Principal) -> tuple[Hold, int]:
    hold = Hold.objects(id=hold_id).first()
    if hold is None:
        raise NotFound("Không có quyết định tạm dừng này / no such hold")
    if hold.active:
        hold.active, hold.lifted_by, hold.lifted_at = False, principal.subject, _now()
        try:
            save_aggregate(hold)
        except ConcurrentUpdate:
            raise Conflict("Vừa được thay đổi, thử lại / changed meanwhile: retry") from None
    return hold, recheck_nominee(hold.nominee_key)


# --- moved on by the council, the disclosure, the decision -----------------------------------


def _advance(nomination_id: str, action: str, event: str | None, reached: Callable[[Nomination], bool], change: Callable[[Nomination], None], **details: Any) -> Nomination | None:
    """Move a nomination on because something else happened (a tally, a decision): idempotent —
    if it is already there (`reached`), nothing happens; if it cannot move, it is logged, not
    raised, so a consumer does not dead-letter a fact that has already happened elsewhere."""
    for _attempt in range(5):
        doc = Nomination.objects(id=nomination_id).first()
        if doc is None or reached(doc):
            return doc
        try:
            rules.transition(doc.state, action)
        except Conflict:
            log.warning("nomination not moved on", nomination=nomination_id, state=doc.state, action=action)
            return doc
        change(doc)
        _move(doc, action, None, event, **details)
        try:
            save_aggregate(doc)
        except ConcurrentUpdate:
            continue
        nomination_listing.changed(_db(), doc.id)
        return doc
    raise Conflict(f"nomination {nomination_id} kept changing")


def check_agenda_items(agenda: list[dict[str, Any]]) -> None:
    """Only dossiers appraised eligible go to the council; the item takes the nomination's title."""
    for i, item in enumerate(agenda):
        if not item.get("nomination_id"):
            continue
        doc = Nomination.objects(id=item["nomination_id"]).exclude("outbox", "history").first()
        if doc is None:
            raise Invalid(f"agenda.{i}.nomination_id", GONE)
        if doc.state != "appraised" or doc.appraisal.get("outcome") != "eligible":
            raise Invalid(f"agenda.{i}.nomination_id", f"Hồ sơ chưa được thẩm định đủ điều kiện ({rules.LABELS[doc.state]}) / not appraised eligible ({doc.state})")
        item["title_code"] = doc.title_code  # the council votes on what was appraised, nothing else


def put_on_agenda(session_id: str, agenda: list[dict[str, Any]]) -> None:
    for item in agenda:
        if item.get("nomination_id"):
            _advance(
                item["nomination_id"],
                "put_on_agenda",
                None,
                lambda d: d.council.get("session_id") == session_id,
                lambda d, item=item: setattr(d, "council", {"session_id": session_id, "item_id": item["item_id"]}),
            )


def apply_tally(session_id: str, tally: dict[str, Any]) -> None:
    if not tally.get("nomination_id") or tally["outcome"] == "tied":
        return  # a tie waits for the chair's casting vote, which tallies again
    action, event = ("approve", "approved") if tally["outcome"] == "passed" else ("reject", "rejected")
    counts = {k: tally.get(k) for k in ("yes", "no", "abstain", "ballots", "total_members", "threshold", "outcome", "rank")}
    _advance(
        tally["nomination_id"],
        action,
        event,
        lambda d: d.council.get("session_id") == session_id and d.council.get("outcome") == tally["outcome"],
        lambda d: setattr(d, "council", {"session_id": session_id, "item_id": tally["item_id"], **counts}),
    )


def apply_decision(decision: dict[str, Any]) -> None:
    for awardee in decision["awardees"]:
        if awardee.get("nomination_id"):
            record = {
                "decision_id": decision["id"],
                "reference": decision["reference"],
                "date": decision["decision_date"],
                "awardee_id": awardee["awardee_id"],
                "amount": awardee["amount"],
            }
            _advance(awardee["nomination_id"], "decide", "decided", lambda d: d.decision.get("decision_id") == decision["id"], lambda d, r=record: setattr(d, "decision", r))


def apply_revocation(revoked: dict[str, Any]) -> None:
    for awardee in revoked["awardees"]:
        nomination_id = awardee.get("nomination_id")
        if nomination_id:
            act = revoked["revocation"]
            _advance(
                nomination_id,
                "revoke",
                "revoked",
                lambda d: d.state == "revoked",
                lambda d, act=act: setattr(d, "decision", {**d.decision, "revocation_id": act["id"], "reason": act["reason"]}),
            )


def reject_after_objection(nomination_id: str, reason: str, principal: Principal) -> None:
    _advance(nomination_id, "reject", "rejected", lambda d: d.state == "rejected", lambda d: None, reasons=[reason], by=principal.subject)


# --- views -----------------------------------------------------------------------------------


def event_view(doc: Nomination, verdict: dict[str, Any] | None = None) -> dict[str, Any]:
    """What events carry: the nomination without its history and without file internals."""
    verdict = verdict_of(doc) if verdict is None else verdict
    return {
        "id": doc.id,
        "state": doc.state,
        "issuer": doc.issuer,
        "kind": doc.kind,
        "movement_id": doc.movement_id,
        "year": doc.year,
        "title_code": doc.title_code,
        "subject": doc.subject,
        "nominating_unit_id": doc.nominating_unit_id,
        "nominee": {k: doc.nominee.get(k) for k in ("name", "position", "unit_id", "unit_name", "gender", "direct_worker")},
        "achievement": doc.achievement,
        "eligible": verdict.get("eligible"),
        "deadlines": dict(doc.deadlines or {}),
        "appraisal": {k: (doc.appraisal or {}).get(k) for k in ("outcome", "reasons", "on")} if doc.appraisal else None,
        "council": dict(doc.council) if doc.council else None,
        "decision": dict(doc.decision) if doc.decision else None,
        "province": dict(doc.province) if doc.province else None,
    }


def view(doc: Nomination, today: date | None = None) -> dict[str, Any]:
    today = today or local_today()
    due = (doc.deadlines or {}).get("appraisal_due")
    verdict = verdict_of(doc)  # one read: the list shows 20–200 of these
    required = rules.required_documents(doc.kind, doc.subject, bool(doc.nominee.get("initiative_recognised")))
    return {
        **event_view(doc, verdict),
        "state_label": rules.LABELS[doc.state],
        "sudden_ref": doc.sudden_ref,
        "nominee": dict(doc.nominee),
        "attachments": list(doc.attachments),
        "required_documents": required,
        "missing_documents": rules.missing_documents(required, list(doc.attachments)),
        "eligibility": verdict,
        "appraisal": dict(doc.appraisal) if doc.appraisal else None,
        "overdue": _overdue(doc, today),
        "appraisal_working_days_left": working_days_between(today, date.fromisoformat(due)) if doc.state == "submitted" and due else None,
        "disclosure_id": doc.disclosure_id,
        "history": list(doc.history),
        "created_at": doc.created_at,
        "submitted_at": doc.submitted_at,
        "version": doc.version,
    }
