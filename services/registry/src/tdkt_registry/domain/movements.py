"""Emulation movements (phong trào thi đua): theme, content areas, quantitative criteria, period,
reporting schedule, participants and the award forms planned — and their lifecycle.

    draft ──launch──► launched ──close──► closed
      │                  │
      └──cancel──► cancelled ◄──cancel──┘

What may change in each state (enforced by `amend`):
- draft: everything.
- launched: description, the end of the period (later only), the reporting schedule, the
  registration deadline, the award forms, the participants (added, never removed: units may have
  registered and reported). The theme, kind, organiser, content areas, criteria and start are
  frozen: registrations and reports refer to them.
- closed, cancelled: nothing.
"""

from __future__ import annotations

import calendar
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from typing import Any

from tdkt.errors import Conflict, Invalid

from tdkt_registry.domain.units import LegalBasis, day_text, parse_day

STATES = ("draft", "launched", "closed", "cancelled")
KINDS = ("regular", "campaign")  # thường xuyên (annual) / theo đợt, chuyên đề
DIRECTIONS = ("higher_is_better", "lower_is_better")
VALUE_TYPES = ("number", "integer", "percent", "boolean")
SELECTORS = ("communes_of", "under_unit", "cluster")
FROZEN_WHEN_LAUNCHED = ("title", "theme", "kind", "organiser_id", "content_areas", "criteria", "period_start", "legal_basis", "allow_lower_targets")


@dataclass(frozen=True)
class ContentArea:
    key: str
    title: str
    description: str | None = None


@dataclass(frozen=True)
class Criterion:
    """A quantitative indicator: "giải ngân vốn đầu tư công ≥ 95 %", "chỉ tiêu giảm hộ nghèo"."""

    key: str
    area: str
    name: str
    unit_of_measure: str
    target: float
    direction: str = "higher_is_better"
    value_type: str = "number"
    weight: float = 1.0
    evidence_required: bool = False

    def meets(self, value: float) -> bool:
        return value >= self.target if self.direction == "higher_is_better" else value <= self.target


@dataclass(frozen=True)
class Schedule:
    """Reports due on `monthly_day` of each month of the period, and a final report by `final_due`."""

    monthly_day: int | None = None
    final_due: date | None = None

    def due_dates(self, start: date, end: date) -> list[dict[str, str]]:
        dues: list[dict[str, str]] = []
        if self.monthly_day:
            year, month = start.year, start.month
            while (year, month) <= (end.year, end.month):
                day = date(year, month, min(self.monthly_day, calendar.monthrange(year, month)[1]))
                if start <= day <= end:
                    dues.append({"kind": "interim", "period": f"{year:04d}-{month:02d}", "due": day.isoformat()})
                year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        if self.final_due:
            dues.append({"kind": "final", "period": "final", "due": self.final_due.isoformat()})
        return dues


@dataclass(frozen=True)
class Participants:
    """Who takes part: an explicit list, or a selector resolved as of the movement's start."""

    unit_ids: tuple[str, ...] = ()
    selector: str | None = None  # communes_of | under_unit | cluster
    selector_id: str | None = None  # the unit or cluster the selector starts from
    kinds: tuple[str, ...] = ()  # under_unit only: keep these kinds


@dataclass(frozen=True)
class Movement:
    id: str
    title: str
    organiser_id: str
    period_start: date
    period_end: date
    kind: str = "campaign"
    theme: str | None = None
    description: str | None = None
    legal_basis: LegalBasis | None = None
    content_areas: tuple[ContentArea, ...] = ()
    criteria: tuple[Criterion, ...] = ()
    schedule: Schedule = field(default_factory=Schedule)
    participants: Participants = field(default_factory=Participants)
    registration_deadline: date | None = None
    allow_lower_targets: bool = False
    award_forms: tuple[str, ...] = ()
    state: str = "draft"

    def criterion(self, key: str) -> Criterion | None:
        return next((c for c in self.criteria if c.key == key), None)

    @property
    def registration_closes(self) -> date:
        return self.registration_deadline or self.period_end

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "theme": self.theme,
            "kind": self.kind,
            "description": self.description,
            "organiser_id": self.organiser_id,
            "legal_basis": self.legal_basis.to_dict() if self.legal_basis else None,
            "period_start": day_text(self.period_start),
            "period_end": day_text(self.period_end),
            "content_areas": [asdict(a) for a in self.content_areas],
            "criteria": [asdict(c) for c in self.criteria],
            "schedule": {"monthly_day": self.schedule.monthly_day, "final_due": day_text(self.schedule.final_due)},
            "due_dates": self.schedule.due_dates(self.period_start, self.period_end),
            "participants": {
                "unit_ids": list(self.participants.unit_ids),
                "selector": self.participants.selector,
                "selector_id": self.participants.selector_id,
                "kinds": list(self.participants.kinds),
            },
            "registration_deadline": day_text(self.registration_deadline),
            "allow_lower_targets": self.allow_lower_targets,
            "award_forms": list(self.award_forms),
            "state": self.state,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Movement:
        schedule = d.get("schedule") or {}
        participants = d.get("participants") or {}
        return cls(
            id=d["id"],
            title=d["title"],
            theme=d.get("theme"),
            kind=d.get("kind", "campaign"),
            description=d.get("description"),
            organiser_id=d["organiser_id"],
            legal_basis=LegalBasis.from_dict(d.get("legal_basis")),
            period_start=parse_day(d["period_start"], "period_start"),
            period_end=parse_day(d["period_end"], "period_end"),
            content_areas=tuple(ContentArea(**a) for a in d.get("content_areas") or ()),
            criteria=tuple(Criterion(**c) for c in d.get("criteria") or ()),
            schedule=Schedule(schedule.get("monthly_day"), parse_day(schedule.get("final_due"), "schedule.final_due")),
            participants=Participants(
                tuple(participants.get("unit_ids") or ()), participants.get("selector"), participants.get("selector_id"), tuple(participants.get("kinds") or ())
            ),
            registration_deadline=parse_day(d.get("registration_deadline"), "registration_deadline"),
            allow_lower_targets=bool(d.get("allow_lower_targets")),
            award_forms=tuple(d.get("award_forms") or ()),
            state=d.get("state", "draft"),
        )


def check(movement: Movement) -> Movement:
    """The rules every movement obeys, whatever its state."""
    if movement.period_end < movement.period_start:
        raise Invalid("period_end", f"Kết thúc ({movement.period_end}) trước khi bắt đầu ({movement.period_start}) / the period ends before it starts")
    keys = [a.key for a in movement.content_areas]
    if len(set(keys)) != len(keys):
        raise Invalid("content_areas", "Mã nội dung thi đua bị trùng / a content area key is used twice")
    criterion_keys = [c.key for c in movement.criteria]
    if len(set(criterion_keys)) != len(criterion_keys):
        raise Invalid("criteria", "Mã tiêu chí bị trùng / a criterion key is used twice")
    for i, criterion in enumerate(movement.criteria):
        if criterion.area not in keys:
            raise Invalid(f"criteria.{i}.area", f"Không có nội dung thi đua {criterion.area!r} / no content area {criterion.area!r}")
        if criterion.value_type == "percent" and not 0 <= criterion.target <= 100:
            raise Invalid(f"criteria.{i}.target", "Chỉ tiêu phần trăm phải từ 0 đến 100 / a percentage target is between 0 and 100")
        if criterion.value_type == "boolean" and criterion.target not in (0, 1):
            raise Invalid(f"criteria.{i}.target", "Chỉ tiêu có/không là 0 hoặc 1 / a yes/no target is 0 or 1")
    if movement.registration_deadline and not movement.period_start <= movement.registration_deadline <= movement.period_end:
        raise Invalid("registration_deadline", "Hạn đăng ký phải nằm trong thời gian thi đua / the registration deadline falls within the period")
    if movement.schedule.final_due and movement.schedule.final_due < movement.period_start:
        raise Invalid("schedule.final_due", "Hạn báo cáo tổng kết trước khi phong trào bắt đầu / the final report is due before the movement starts")
    if movement.participants.selector and movement.participants.unit_ids:
        raise Invalid("participants", "Chọn danh sách đơn vị hoặc bộ chọn, không cả hai / give unit_ids or a selector, not both")
    return movement


def launch(movement: Movement, participant_ids: list[str]) -> Movement:
    if movement.state != "draft":
        raise Conflict(f"Chỉ phát động được phong trào ở trạng thái nháp (đang: {movement.state}) / only a draft can be launched (this one is {movement.state})")
    if not movement.criteria:
        raise Invalid("criteria", "Cần ít nhất một tiêu chí định lượng trước khi phát động / a movement needs at least one quantitative criterion to launch")
    if not participant_ids:
        raise Invalid("participants", "Chưa có đơn vị tham gia / the movement has no participants")
    return replace(check(movement), state="launched")


def amend(current: Movement, proposed: Movement) -> tuple[Movement, list[str]]:
    """The movement after an edit, and the names of the fields that changed; refuses what the
    state does not allow (409 naming the fields)."""
    if current.state in ("closed", "cancelled"):
        raise Conflict(f"Phong trào đã {'kết thúc' if current.state == 'closed' else 'bị hủy'}: không sửa được / a {current.state} movement cannot change")
    before, after = current.to_dict(), check(replace(proposed, state=current.state)).to_dict()
    changed = [k for k in after if k not in ("due_dates", "state") and before[k] != after[k]]
    if current.state == "launched":
        frozen = [k for k in changed if k in FROZEN_WHEN_LAUNCHED]
        if frozen:
            raise Conflict(f"Phong trào đã phát động: không sửa được {', '.join(frozen)} / once launched these fields are frozen: {', '.join(frozen)}", fields=frozen)
        if proposed.period_end < current.period_end:
            raise Conflict("Chỉ được kéo dài thời gian thi đua / a launched movement's period can only be extended", fields=["period_end"])
        removed = set(current.participants.unit_ids) - set(proposed.participants.unit_ids)
        if removed or (current.participants.selector, current.participants.selector_id) != (proposed.participants.selector, proposed.participants.selector_id):
            raise Conflict("Chỉ được bổ sung đơn vị tham gia / participants can be added, not removed or reselected", fields=["participants"])
    return replace(proposed, state=current.state), changed


def close(movement: Movement) -> Movement:
    if movement.state != "launched":
        raise Conflict(f"Chỉ kết thúc được phong trào đang diễn ra (đang: {movement.state}) / only a launched movement can be closed")
    return replace(movement, state="closed")


def cancel(movement: Movement) -> Movement:
    if movement.state not in ("draft", "launched"):
        raise Conflict(f"Không hủy được phong trào {movement.state} / a {movement.state} movement cannot be cancelled")
    return replace(movement, state="cancelled")


def check_target(movement: Movement, criterion_key: str, value: float, field_name: str) -> None:
    """A registration's target may not be easier than the movement's, unless the movement allows it."""
    criterion = movement.criterion(criterion_key)
    if criterion is None:
        raise Invalid(field_name, f"Phong trào không có tiêu chí {criterion_key!r} / the movement has no criterion {criterion_key!r}")
    if criterion.value_type == "percent" and not 0 <= value <= 100:
        raise Invalid(field_name, "Phần trăm phải từ 0 đến 100 / a percentage is between 0 and 100")
    if criterion.value_type in ("integer", "boolean") and value != int(value):
        raise Invalid(field_name, "Cần một số nguyên / a whole number is expected")
    if not movement.allow_lower_targets and not criterion.meets(value):
        word = "thấp hơn" if criterion.direction == "higher_is_better" else "cao hơn"
        raise Invalid(
            field_name,
            f"Chỉ tiêu đăng ký {word} chỉ tiêu của phong trào ({criterion.target} {criterion.unit_of_measure}) / the target is easier than the movement's ({criterion.target})",
        )
