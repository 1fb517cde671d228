"""The caller, as the verified token describes them, and what they may see."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = (
    "unit_reporter",  # writes its unit's progress reports
    "unit_head",  # submits its unit's reports and nominations
    "tdkt_officer",  # the TĐKT standing body (Phòng/Sở Nội vụ)
    "council_member",
    "council_chair",
    "chairman",  # signs decisions (Chủ tịch UBND)
    "finance_officer",
    "communications",  # Phòng Văn hóa và Thông tin
    "integration",  # provincial systems
    "admin",
)

# Roles whose work spans every unit; everyone else sees their own unit's data only.
WIDE_SIGHT_ROLES = frozenset({"tdkt_officer", "council_member", "council_chair", "chairman", "finance_officer", "communications", "integration", "admin"})


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[str]
    unit_id: str | None
    name: str | None = None

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def sees_all_units(self) -> bool:
        return bool(self.roles & WIDE_SIGHT_ROLES)

    def may_see_unit(self, unit_id: str | None) -> bool:
        return self.sees_all_units or (unit_id is not None and unit_id == self.unit_id)

    def unit_filter(self, field: str = "unit_id") -> dict:
        """A query filter that limits a unit-scoped collection to what this caller may see."""
        return {} if self.sees_all_units else {field: self.unit_id}
