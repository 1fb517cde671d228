"""Use cases on award decisions: draft (awardees priced from the catalogue in force on the
decision date), edit while a draft, issue (a gapless number per issuer and year, then immutable),
revoke (a new audited act recording the money to recover), and the .docx document."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from tdkt.auth import Principal
from tdkt.errors import Conflict, Invalid, NotFound
from tdkt.events.outbox import ConcurrentUpdate, save_aggregate

from tdkt_awards.adapters.decision_numbers import take_number
from tdkt_awards.adapters.documents import Decision
from tdkt_awards.adapters.events import AWARD_REVOKED, DECISION_ISSUED
from tdkt_awards.domain import decisions as rules
from tdkt_awards.service_layer.catalogue import in_force


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def load(decision_id: str) -> Decision:
    doc = Decision.objects(id=decision_id).first()
    if doc is None:
        raise NotFound(f"Không có quyết định {decision_id} / no decision {decision_id}")
    return doc


def _priced(issuer: str, content: dict[str, Any], awardees: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    version, catalogue = in_force(issuer, date.fromisoformat(content["decision_date"]))
    with_ids = [{**a, "awardee_id": a.get("awardee_id") or uuid.uuid4().hex} for a in awardees]
    return version.id, rules.price(catalogue, date.fromisoformat(content["decision_date"]), with_ids)


def _save(doc: Decision) -> Decision:
    try:
        save_aggregate(doc)
    except ConcurrentUpdate:
        raise Conflict("Quyết định vừa được thay đổi, tải lại rồi thử lại / the decision changed meanwhile: reload and retry") from None
    return doc


NOT_CONTENT = ("issuer", "awardees", "symbol", "nomination_ids")


def _from_nominations(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Awardees named directly plus those of the nominations (each must be ready: approved,
    disclosed, no objection pending — `disclosures.check_ready`)."""
    from tdkt_awards.service_layer.disclosures import check_ready

    ready = check_ready(data.get("nomination_ids") or [], data["issuer"], date.fromisoformat(data["decision_date"]))
    named = list(data.get("awardees") or [])
    if not named and not ready:
        raise Invalid("awardees", "Cần ít nhất một người/tập thể được khen thưởng hoặc một hồ sơ đề nghị / name awardees or nominations")
    return named + [_awardee_of(n) for n in ready]


def _awardee_of(nomination) -> dict[str, Any]:
    nominee = nomination.nominee
    return {
        "subject": nomination.subject,
        "name": nominee["name"],
        "position": nominee.get("position"),
        "unit_id": nominee.get("unit_id"),
        "unit_name": nominee.get("unit_name"),
        "title_code": nomination.title_code,
        "period": nomination.movement_id or str(nomination.year),
        "person_key": nomination.nominee_key,
        "gender": nominee.get("gender"),
        "direct_worker": bool(nominee.get("direct_worker")),
        "nomination_id": nomination.id,
    }


def draft(data: dict[str, Any], actor: str | None) -> Decision:
    content = {k: v for k, v in data.items() if k not in NOT_CONTENT}
    version, priced = _priced(data["issuer"], content, _from_nominations(data))
    doc = Decision(
        id=uuid.uuid4().hex, issuer=data["issuer"], symbol=data.get("symbol") or "QĐ-UBND", content=content, awardees=priced, totals=rules.totals(priced), catalogue_version=version
    )
    return _save(doc)


def edit(decision_id: str, data: dict[str, Any], check_version: Callable[[Decision], None]) -> Decision:
    doc = load(decision_id)
    check_version(doc)
    rules.check_editable(doc.state)
    content = {k: v for k, v in data.items() if k not in NOT_CONTENT}
    doc.catalogue_version, doc.awardees = _priced(doc.issuer, content, _from_nominations({**data, "issuer": doc.issuer}))
    doc.content, doc.totals = content, rules.totals(doc.awardees)
    return _save(doc)


def issue(db, decision_id: str, principal: Principal, check_version: Callable[[Decision], None]) -> Decision:
    doc = load(decision_id)
    check_version(doc)
    rules.check_editable(doc.state)
    from tdkt_awards.service_layer.disclosures import check_ready

    named = [a["nomination_id"] for a in doc.awardees if a.get("nomination_id")]
    check_ready(named, doc.issuer, date.fromisoformat(doc.content["decision_date"]), field="awardees")  # an objection may have come meanwhile
    year = date.fromisoformat(doc.content["decision_date"]).year

    def assign(number: int) -> None:
        doc.number, doc.state, doc.issued_at, doc.issued_by = number, "issued", _now(), principal.subject
        doc.record(DECISION_ISSUED, {"decision": view(doc)})
        _save(doc)

    def holds_number(other_id: str, number: int) -> bool:
        other = Decision.objects(id=other_id).only("number", "state").first()
        return other is not None and other.state == "issued" and other.number == number

    take_number(db, doc.issuer, year, doc.id, assign, holds_number)
    return doc


def revoke(decision_id: str, data: dict[str, Any], principal: Principal, check_version: Callable[[Decision], None]) -> Decision:
    doc = load(decision_id)
    check_version(doc)
    if doc.state != "issued":
        raise Conflict("Chỉ thu hồi được khen thưởng của quyết định đã ban hành / only an issued decision's awards can be revoked")
    already = {i for r in doc.revocations for i in r["awardee_ids"]}
    taken, money = rules.revocation(list(doc.awardees), data.get("awardee_ids"), already)
    act = {
        "id": uuid.uuid4().hex,
        "awardee_ids": [a["awardee_id"] for a in taken],
        "reason": data["reason"],
        "legal_basis": data["legal_basis"],
        "money_to_recover": money,
        "by": principal.subject,
        "at": _now(),
    }
    doc.revocations = [*doc.revocations, act]
    doc.record(
        AWARD_REVOKED,
        {
            "decision_id": doc.id,
            "number": doc.number,
            "issuer": doc.issuer,
            "revocation": act,
            "awardees": [{k: a.get(k) for k in ("awardee_id", "name", "unit_id", "title_code", "amount", "nomination_id")} for a in taken],
        },
    )
    return _save(doc)


def document(decision_id: str) -> tuple[str, bytes]:
    """The decision as .docx in the Vietnamese administrative layout (a draft is marked as such by
    having no number yet: "Số: /QĐ-UBND" is how a draft is circulated)."""
    from tdkt_awards.adapters.decision_docx import render_decision

    doc = load(decision_id)
    content = doc.content
    data = {
        "number": doc.number or 0,
        "symbol": doc.symbol,
        "issuer_name": content["issuer_name"],
        "place": content["place"],
        "date": content["decision_date"],
        "subject": content["subject"],
        "legal_bases": content["legal_bases"],
        "proposed_by": content["proposed_by"],
        "awardees": [{k: a.get(k) for k in ("name", "position", "unit_name", "title_name", "amount", "subject")} for a in doc.awardees],
        "total_amount": doc.totals["total_amount"],
        "funding_source": content["funding_source"],
        "recipients": content["recipients"],
        "signer_title": content["signer"].get("title") or "CHỦ TỊCH",
        "signed_by": content["signer"]["name"],
    }
    name = f"quyet-dinh-{doc.number or 'du-thao'}-{doc.symbol}.docx"
    return name, render_decision(data)


def view(doc: Decision) -> dict[str, Any]:
    return {
        "id": doc.id,
        "issuer": doc.issuer,
        "state": doc.state,
        "number": doc.number,
        "symbol": doc.symbol,
        "reference": f"{doc.number}/{doc.symbol}" if doc.number else None,
        **doc.content,
        "awardees": list(doc.awardees),
        "totals": dict(doc.totals),
        "catalogue_version": doc.catalogue_version,
        "issued_at": doc.issued_at,
        "issued_by": doc.issued_by,
        "revocations": list(doc.revocations),
        "version": doc.version,
    }


def certificates(decision_id: str) -> tuple[str, bytes]:
    """The certificates of an issued decision as one PDF, a page per awardee whose award stands
    (revoked ones are left out): "Giấy khen"/"Bằng khen" for a form, "Giấy chứng nhận" for a title.
    Whether a line is a title or a form comes from the catalogue version the decision was priced
    with, not the one in force today, so a later catalogue cannot change an issued certificate."""
    from tdkt_awards.adapters.certificate_pdf import render_certificates
    from tdkt_awards.domain.catalogue import parse
    from tdkt_awards.service_layer import catalogue as catalogues

    doc = load(decision_id)
    if doc.state != "issued":
        raise Conflict("Chỉ in giấy khen cho quyết định đã ban hành / certificates are printed only for an issued decision")
    revoked = {i for r in doc.revocations for i in r["awardee_ids"]}
    standing = [a for a in doc.awardees if a.get("awardee_id") not in revoked]
    if not standing:
        raise Conflict("Mọi khen thưởng của quyết định đã bị thu hồi / every award of this decision has been revoked")
    kinds = {t.code: t.kind for t in parse(catalogues.load(doc.catalogue_version).content).titles}
    content = doc.content
    data = {
        "issuer": doc.issuer,
        "issuer_name": content["issuer_name"],
        "number": doc.number,
        "symbol": doc.symbol,
        "place": content["place"],
        "date": content["decision_date"],
        "issued_at": doc.issued_at,
        "subject": content["subject"],
        "signer_title": content["signer"].get("title") or "CHỦ TỊCH",
        "signed_by": content["signer"]["name"],
        # A code the version lacks cannot happen (the line was priced from it); print its name as a form then.
        "awardees": [{**{k: a.get(k) for k in ("name", "position", "unit_name", "title_name")}, "kind": kinds.get(a.get("title_code"), "form")} for a in standing],
    }
    return f"giay-khen-{doc.number:02d}-{doc.symbol}.pdf", render_certificates(data)
