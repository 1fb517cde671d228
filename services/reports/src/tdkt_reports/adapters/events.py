"""Every event the reports service publishes, and the registry events it reads."""

from tdkt.events.envelope import EventType

REPORTS_TOPIC = "reports.reports.v1"
PROGRESS_TOPIC = "reports.progress.v1"

REPORT_EVENTS = {name: EventType(f"vn.tdkt.reports.report.{name}.v1", REPORTS_TOPIC) for name in ("submitted", "accepted", "returned", "due_soon", "overdue")}
PROGRESS_UPDATED = EventType("vn.tdkt.reports.movement_progress.updated.v1", PROGRESS_TOPIC)

# what this service consumes (tolerant reader: only the fields it uses, see projections.py)
UNIT_TYPES = [f"vn.tdkt.registry.unit.{n}.v1" for n in ("established", "updated", "renamed", "moved", "merged", "split", "dissolved")]
MOVEMENT_TYPES = [f"vn.tdkt.registry.movement.{n}.v1" for n in ("launched", "amended", "closed", "cancelled")]
REGISTRATION_TYPES = [f"vn.tdkt.registry.registration.{n}.v1" for n in ("submitted", "amended")]
