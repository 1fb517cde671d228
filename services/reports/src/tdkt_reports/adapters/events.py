"""Every event the reports service publishes, and the registry events it reads."""

from tdkt.events.envelope import EventType
from tdkt.events.registry_types import MOVEMENT_TYPES, REGISTRATION_TYPES, UNIT_TYPES  # noqa: F401 (re-exported)

REPORTS_TOPIC = "reports.reports.v1"
PROGRESS_TOPIC = "reports.progress.v1"

REPORT_EVENTS = {name: EventType(f"vn.tdkt.reports.report.{name}.v1", REPORTS_TOPIC) for name in ("submitted", "accepted", "returned", "due_soon", "overdue")}
PROGRESS_UPDATED = EventType("vn.tdkt.reports.movement_progress.updated.v1", PROGRESS_TOPIC)

# what this service consumes (tolerant reader: only the fields it uses, see projections.py)
