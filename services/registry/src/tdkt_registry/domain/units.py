"""Units and their history: a unit is a life span cut into segments, one per stretch of time in
which its code, name, kind and parent stayed the same.

Official codes are reused across time (03390 was Thị trấn Tam Đường until 2025-06-30 and is
Xã Bình Lư since 2025-07-01), so a unit's identity is its internal id, and a code identifies a
unit only together with a date. Everything here is pure data and rules: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from tdkt.clock import local_today
from tdkt.errors import Invalid
from tdkt.text import fold

# kind → (Vietnamese label, administrative tier when the unit *is* an administrative unit)
KINDS: dict[str, tuple[str, str | None]] = {
    "province": ("Tỉnh", "province"),
    "municipality": ("Thành phố trực thuộc trung ương", "province"),
    "district": ("Huyện, quận, thị xã, thành phố thuộc tỉnh (đến 30/6/2025)", "district"),
    "town": ("Thị trấn (đến 30/6/2025)", "commune"),
    "commune": ("Xã", "commune"),
    "ward": ("Phường", "commune"),
    "special_zone": ("Đặc khu", "commune"),
    "agency": ("Cơ quan, phòng, sở, ngành", None),
    "board": ("Ban", None),
    "public_service_unit": ("Đơn vị sự nghiệp công lập", None),
    "mass_organisation": ("Mặt trận, đoàn thể, tổ chức chính trị – xã hội", None),
    "party_organisation": ("Tổ chức Đảng", None),
    "enterprise": ("Doanh nghiệp", None),
    "school": ("Trường học", None),
    "armed_forces": ("Lực lượng vũ trang", None),
    "village": ("Thôn, bản, tổ dân phố", None),
    "other": ("Khác", None),
}
ADMINISTRATIVE_KINDS = frozenset(k for k, (_, tier) in KINDS.items() if tier)

# How a unit's life ended; "ended" when it was recorded with an end date and no act.
END_REASONS = ("merged", "split", "dissolved", "ended")
STATUSES = ("active", "not_yet_established", *END_REASONS)

ONE_DAY = timedelta(days=1)


def parse_day(value: str | date | None, field_name: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid(field_name, f"Ngày không hợp lệ, dùng YYYY-MM-DD / not a date, use YYYY-MM-DD: {value!r}") from None


def day_text(value: date | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True)
class LegalBasis:
    """The document that made an act: "Nghị quyết 1670/NQ-UBTVQH15 ngày 16/6/2025 của UBTVQH"."""

    number: str
    date: date
    issuer: str
    title: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "date": self.date.isoformat(), "issuer": self.issuer, "title": self.title}

    @classmethod
    def from_dict(cls, data: dict | None) -> LegalBasis | None:
        if not data:
            return None
        return cls(data["number"], parse_day(data["date"], "legal_basis.date"), data["issuer"], data.get("title"))


@dataclass(frozen=True)
class Segment:
    """The unit's code, name, kind and parent from `start` to `end` (both inclusive; None = open)."""

    start: date | None
    end: date | None
    name: str
    kind: str
    code: str | None = None
    short_name: str | None = None
    parent_id: str | None = None
    act_id: str | None = None

    def covers(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)

    def overlaps(self, start: date | None, end: date | None) -> bool:
        return (self.start is None or end is None or self.start <= end) and (self.end is None or start is None or start <= self.end)

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": day_text(self.start),
            "end": day_text(self.end),
            "code": self.code,
            "name": self.name,
            "short_name": self.short_name,
            "kind": self.kind,
            "parent_id": self.parent_id,
            "act_id": self.act_id,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Segment:
        return cls(
            start=parse_day(d.get("start"), "start"),
            end=parse_day(d.get("end"), "end"),
            code=d.get("code"),
            name=d["name"],
            short_name=d.get("short_name"),
            kind=d["kind"],
            parent_id=d.get("parent_id"),
            act_id=d.get("act_id"),
        )


@dataclass(frozen=True)
class Unit:
    """A unit's whole life. `segments` are in date order, contiguous, the last one possibly open."""

    id: str
    segments: tuple[Segment, ...]
    contacts: dict[str, str | None] = field(default_factory=dict)  # email, phone, webhook_url
    head: dict[str, str | None] = field(default_factory=dict)  # name, title
    note: str | None = None
    end_reason: str | None = None
    predecessor_ids: tuple[str, ...] = ()
    successor_ids: tuple[str, ...] = ()
    acts: tuple[str, ...] = ()  # ids of the acts applied to this unit (makes re-applying one a no-op)
    version: int = 0

    @property
    def current(self) -> Segment:
        return self.segments[-1]

    @property
    def valid_from(self) -> date | None:
        return self.segments[0].start

    @property
    def valid_to(self) -> date | None:
        return self.segments[-1].end

    def at(self, day: date) -> Segment | None:
        for segment in reversed(self.segments):
            if segment.covers(day):
                return segment
        return None

    def status(self, day: date) -> str:
        if self.at(day):
            return "active"
        if self.valid_from and day < self.valid_from:
            return "not_yet_established"
        return self.end_reason or "ended"

    def codes(self) -> set[str]:
        return {s.code for s in self.segments if s.code}

    def parents(self) -> set[str]:
        return {s.parent_id for s in self.segments if s.parent_id}

    def search_text(self) -> str:
        """Every name and code the unit ever had, folded: search finds a unit by an old name too."""
        return " | ".join(sorted({fold(s.name) for s in self.segments} | {fold(s.short_name) for s in self.segments if s.short_name} | self.codes()))

    # ---- changes (each returns a new Unit; the caller validates against the directory) ----

    def changed_from(self, day: date, act_id: str | None, **attributes) -> Unit:
        """A new segment from `day` on with some attributes changed (rename, move, recode)."""
        last = self.current
        if last.end is not None:
            raise Invalid("effective_date", f"Đơn vị đã chấm dứt từ {last.end + ONE_DAY} / the unit no longer exists on {day}")
        if last.start is not None and day <= last.start:
            raise Invalid(
                "effective_date",
                f"Ngày hiệu lực phải sau lần thay đổi gần nhất ({last.start}) / acts on a unit are recorded in date order: {day} is not after its latest change on {last.start}",
            )
        closed = replace(last, end=day - ONE_DAY)
        opened = replace(last, start=day, end=None, act_id=act_id, **attributes)
        return replace(self, segments=(*self.segments[:-1], closed, opened), acts=self._with_act(act_id))

    def ended_on(self, day: date, reason: str, act_id: str | None, successor_ids: tuple[str, ...] = ()) -> Unit:
        """The unit ceases to exist from `day` (its last day is the day before)."""
        last = self.current
        if last.end is not None:
            raise Invalid("effective_date", f"Đơn vị đã chấm dứt ({self.end_reason or 'ended'}) từ {last.end + ONE_DAY} / the unit already ended on {last.end}")
        if last.start is not None and day <= last.start:
            raise Invalid("effective_date", f"Ngày hiệu lực phải sau {last.start} / the act's date must be after the unit's latest change on {last.start}")
        closed = replace(last, end=day - ONE_DAY)
        return replace(self, segments=(*self.segments[:-1], closed), end_reason=reason, successor_ids=_merge_ids(self.successor_ids, successor_ids), acts=self._with_act(act_id))

    def succeeding(self, predecessor_ids: tuple[str, ...], act_id: str | None) -> Unit:
        return replace(self, predecessor_ids=_merge_ids(self.predecessor_ids, predecessor_ids), acts=self._with_act(act_id))

    def _with_act(self, act_id: str | None) -> tuple[str, ...]:
        return self.acts if act_id is None or act_id in self.acts else (*self.acts, act_id)

    # ---- storage form (also the event payload's `unit`) ----

    def to_dict(self, today: date | None = None) -> dict[str, Any]:
        current = self.current
        return {
            "id": self.id,
            "code": current.code,
            "name": current.name,
            "short_name": current.short_name,
            "kind": current.kind,
            "parent_id": current.parent_id,
            "valid_from": day_text(self.valid_from),
            "valid_to": day_text(self.valid_to),
            "status": self.status(today or local_today()),
            "end_reason": self.end_reason,
            "contacts": dict(self.contacts),
            "head": dict(self.head),
            "note": self.note,
            "predecessor_ids": list(self.predecessor_ids),
            "successor_ids": list(self.successor_ids),
            "segments": [s.to_dict() for s in self.segments],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Unit:
        return cls(
            id=d.get("id") or d["_id"],
            segments=tuple(Segment.from_dict(s) for s in d["segments"]),
            contacts=dict(d.get("contacts") or {}),
            head=dict(d.get("head") or {}),
            note=d.get("note"),
            end_reason=d.get("end_reason"),
            predecessor_ids=tuple(d.get("predecessor_ids") or ()),
            successor_ids=tuple(d.get("successor_ids") or ()),
            acts=tuple(d.get("acts") or ()),
            version=d.get("version", 0),
        )


def _merge_ids(old: tuple[str, ...], new: tuple[str, ...]) -> tuple[str, ...]:
    return (*old, *(i for i in new if i not in old))


def check_kind(kind: str, field_name: str = "kind") -> str:
    if kind not in KINDS:
        raise Invalid(field_name, f"Loại đơn vị không hợp lệ / unknown kind {kind!r}; one of: {', '.join(KINDS)}")
    return kind
