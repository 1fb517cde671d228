"""Nominations (đề nghị khen thưởng) and their dossiers (hồ sơ): the state machine, the documents
a dossier needs, and the statutory deadlines, as pure rules.

    draft ──submit──▶ submitted ──return──▶ returned ──submit──▶ submitted
                          │
                       appraise ──▶ appraised (eligible | ineligible, with reasons)
                                        │ eligible
                              put on a council agenda ──▶ on_agenda
                                        │ tally
                                approved | rejected
                                        │
                         disclosure ──▶ in_disclosure ──(objection upheld)──▶ rejected
                                        │
                 decided here ──▶ decided ──(revocation)──▶ revoked
                 or, for forms the province confers ──▶ proposed ──(province's answer)──▶ decided | rejected

A draft may be withdrawn by its unit before submission. Deadlines (Decree 152, `design/domain.md`):
an incomplete dossier is returned within 5 working days of receipt; appraisal is due 20 working
days after the dossier became complete (its last submission); returned dossiers are resubmitted by
the unit within 5 working days of being returned.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from tdkt.errors import Conflict, Invalid

from tdkt_awards.domain.calendar import add_working_days

KINDS = ("movement", "annual", "sudden")  # trong phong trào / hằng năm / đột xuất
STATES = ("draft", "withdrawn", "submitted", "returned", "appraised", "on_agenda", "approved", "rejected", "in_disclosure", "proposed", "decided", "revoked")
OPEN_STATES = ("draft", "submitted", "returned", "appraised", "on_agenda", "approved", "in_disclosure", "proposed")  # still heading for an award
DOCUMENT_TYPES = {
    "to_trinh": "Tờ trình đề nghị khen thưởng",
    "bao_cao_thanh_tich": "Báo cáo thành tích",
    "bien_ban_binh_xet": "Biên bản họp bình xét",
    "sang_kien": "Minh chứng sáng kiến (giấy chứng nhận, văn bản công nhận)",
    "khac": "Tài liệu khác",
}
RETURN_WITHIN, APPRAISE_WITHIN, RESUBMIT_WITHIN = 5, 20, 5  # working days
LABELS = {
    "draft": "Dự thảo",
    "withdrawn": "Đã rút",
    "submitted": "Đã gửi, chờ thẩm định",
    "returned": "Trả lại để bổ sung",
    "appraised": "Đã thẩm định",
    "on_agenda": "Đưa ra Hội đồng",
    "approved": "Hội đồng đồng ý",
    "rejected": "Không được khen thưởng",
    "in_disclosure": "Đang công khai",
    "proposed": "Đã trình cấp tỉnh",
    "decided": "Đã có quyết định",
    "revoked": "Đã thu hồi",
}

# action → (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "submit": (("draft", "returned"), "submitted"),
    "withdraw": (("draft", "returned"), "withdrawn"),
    "return": (("submitted",), "returned"),
    "appraise": (("submitted",), "appraised"),
    "put_on_agenda": (("appraised",), "on_agenda"),
    "approve": (("on_agenda", "appraised"), "approved"),  # from appraised: the session was stored, the agenda mark was not
    "reject": (("on_agenda", "appraised", "approved", "in_disclosure", "proposed"), "rejected"),
    "disclose": (("approved",), "in_disclosure"),
    "propose": (("approved", "in_disclosure"), "proposed"),
    "decide": (("approved", "in_disclosure", "proposed"), "decided"),
    "revoke": (("decided",), "revoked"),
}


def transition(state: str, action: str) -> str:
    """The state `action` leads to from `state`, or 409 saying what is allowed."""
    sources, target = TRANSITIONS[action]
    if state not in sources:
        allowed = ", ".join(f"{s} ({LABELS[s]})" for s in sources)
        raise Conflict(
            f"Hồ sơ đang ở trạng thái “{LABELS[state]}”: không thể {action} / the nomination is {state}; {action} needs one of: {allowed}",
            state=state,
            action=action,
        )
    return target


def required_documents(kind: str, subject: str, claims_initiative: bool) -> list[str]:
    """The attachment types a complete dossier has. A sudden achievement needs no ballot minutes
    (it is proposed at once, not voted at year end); an initiative needs its proof."""
    required = ["to_trinh", "bao_cao_thanh_tich"]
    if kind != "sudden":
        required.append("bien_ban_binh_xet")
    if claims_initiative and subject == "individual":
        required.append("sang_kien")
    return required


def missing_documents(required: list[str], attachments: list[dict[str, Any]]) -> list[str]:
    present = {a["type"] for a in attachments}
    return [t for t in required if t not in present]


def check_complete(required: list[str], attachments: list[dict[str, Any]]) -> None:
    missing = missing_documents(required, attachments)
    if missing:
        names = "; ".join(DOCUMENT_TYPES[t] for t in missing)
        raise Invalid("attachments", f"Hồ sơ còn thiếu: {names} / the dossier lacks: {', '.join(missing)}")


def deadlines_on_submit(received: date) -> dict[str, str]:
    """Counted from the day the standing body receives the (re)submitted dossier."""
    return {"return_by": add_working_days(received, RETURN_WITHIN).isoformat(), "appraisal_due": add_working_days(received, APPRAISE_WITHIN).isoformat()}


def resubmit_by(returned_on: date) -> str:
    return add_working_days(returned_on, RESUBMIT_WITHIN).isoformat()


def achievement_key(kind: str, movement_id: str | None, year: int, sudden_ref: str | None) -> str:
    """What "one achievement" means for the one-achievement-one-form rule: a movement's result,
    a year's work, or one sudden deed."""
    if kind == "movement":
        return f"movement:{movement_id}"
    if kind == "sudden":
        return f"sudden:{sudden_ref}"
    return f"year:{year}"


def nominee_key(subject: str, nominee: dict[str, Any]) -> str:
    """Who is nominated, across nominations: a person by the key the unit gives (or name + unit),
    a collective by its unit."""
    if subject == "collective":
        return f"unit:{nominee['unit_id']}"
    return nominee.get("person_key") or f"person:{nominee['name'].casefold()}:{nominee['unit_id']}"
