"""A sample event for each template, to check an edited template renders before it is saved
(and to preview it). Shaped like the real payloads of `contracts/asyncapi.yaml`."""

from __future__ import annotations

from typing import Any

REPORT = {
    "id": "mv.u1.2023-07",
    "movement_id": "mv",
    "unit_id": "u1",
    "period": "2023-07",
    "kind": "interim",
    "due": "2023-07-25",
    "state": "submitted",
    "version": 1,
    "late": False,
}
NOMINATION = {
    "id": "n1",
    "state": "returned",
    "title_code": "TTLDTT",
    "nominating_unit_id": "u1",
    "nominee": {"name": "Xã Bình Lư", "unit_id": "u1"},
    "deadlines": {"appraisal_due": "2023-12-01", "resubmit_by": "2023-11-20"},
}
DECISION = {
    "reference": "12/QĐ-UBND",
    "decision_date": "2023-12-15",
    "subject": "khen thưởng các tập thể, cá nhân có thành tích xuất sắc",
    "issuer": "Ủy ban nhân dân tỉnh Lai Châu",
    "awardees": [{"name": "Xã Bình Lư", "unit_name": "Xã Bình Lư", "title_name": "Tập thể lao động tiên tiến", "amount": 2030000}],
    "totals": {"total_amount": 2030000},
}
DATA: dict[str, dict[str, Any]] = {
    "movement_launched": {
        "movement": {
            "title": "Phong trào thi đua đặc biệt",
            "theme": "Chào mừng",
            "period_start": "2023-06-15",
            "period_end": "2023-10-30",
            "criteria": [{"name": "Giải ngân", "target": 95, "unit_of_measure": "%"}],
        }
    },
    "registration_submitted": {"registration": {"movement_id": "mv", "unit_id": "u1"}},
    "report_submitted": {"report": REPORT},
    "report_accepted": {"report": REPORT},
    "report_returned": {"report": REPORT},
    "report_due_soon": {"report": REPORT},
    "report_overdue": {"report": REPORT},
    "nomination_submitted": {"nomination": NOMINATION},
    "nomination_update": {"nomination": NOMINATION, "reasons": ["Thiếu biên bản bình xét"]},
    "council_session_opened": {"session": {"date": "2023-12-01", "present": 9, "total_members": 11, "items": 4}},
    "disclosure_opened": {
        "disclosure": {
            "title": "Công khai danh sách",
            "opens": "2023-12-02",
            "closes": "2023-12-09",
            "entries": [{"name": "Xã Bình Lư", "unit_name": "Xã Bình Lư", "title_name": "Tập thể lao động tiên tiến", "achievement": "Hoàn thành xuất sắc"}],
        }
    },
    "decision_issued": {"decision": DECISION},
    "award_revoked": {
        "number": 12,
        "issuer": "Ủy ban nhân dân tỉnh Lai Châu",
        "revocation": {"reason": "Khai man", "money_to_recover": 2030000},
        "awardees": [{"name": "Xã Bình Lư", "title_code": "TTLDTT", "amount": 2030000}],
    },
    "province_proposal_sent": {"proposal": {"id": "p1", "nominations": [{"id": "n1"}]}},
}


def context(name: str) -> dict[str, Any]:
    return {
        "event": {"id": "sample", "type": "sample", "subject": "sample", "time": "2023-12-01T08:00:00+07:00"},
        "data": DATA.get(name, {}),
        "recipient": {"key": "unit:u1", "name": "Xã Bình Lư", "unit_id": "u1"},
        "link": "https://tdkt.example/inbox",
        "unit_name": lambda unit_id: "Xã Bình Lư",
        "state_label": lambda state: state,
        "day": "2023-12-01",
        "items": [{"subject": "Nhắc hạn nộp báo cáo kỳ 2023-07"}],
    }
