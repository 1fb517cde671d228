"""Use cases on award decisions: draft (awardees priced from the catalogue in force on the
decision date), edit while a draft, issue (a gapless number per issuer and year, then immutable),
revoke (a new audited act recording the money to recover), and the .docx document."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from tdkt.auth import Principal
from tdkt.errors import Conflict, NotFound
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


def draft(data: dict[str, Any], actor: str | None) -> Decision:
    content = {k: v for k, v in data.items() if k not in ("issuer", "awardees", "symbol")}
    version, priced = _priced(data["issuer"], content, data["awardees"])
    doc = Decision(
        id=uuid.uuid4().hex, issuer=data["issuer"], symbol=data.get("symbol") or "QĐ-UBND", content=content, awardees=priced, totals=rules.totals(priced), catalogue_version=version
    )
    return _save(doc)


def edit(decision_id: str, data: dict[str, Any], check_version: Callable[[Decision], None]) -> Decision:
    doc = load(decision_id)
    check_version(doc)
    rules.check_editable(doc.state)
    content = {k: v for k, v in data.items() if k not in ("issuer", "awardees", "symbol")}
    doc.catalogue_version, doc.awardees = _priced(doc.issuer, content, data["awardees"])
    doc.content, doc.totals = content, rules.totals(doc.awardees)
    return _save(doc)


def issue(db, decision_id: str, principal: Principal, check_version: Callable[[Decision], None]) -> Decision:
    doc = load(decision_id)
    check_version(doc)
    rules.check_editable(doc.state)
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
            "awardees": [{k: a.get(k) for k in ("awardee_id", "name", "unit_id", "title_code", "amount")} for a in taken],
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
