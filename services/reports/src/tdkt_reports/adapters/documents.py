"""How the reports service stores what it owns (reports, progress) and what it copies from the
registry (projections of units, movements and registrations, each kept with the sequence of the
last event applied, so a replayed or re-delivered event never moves it backwards).

Dates are ISO `YYYY-MM-DD` strings. Indexes are declared for MongoDB; the local FerretDB uses
only `_id`, which is why the hot paths read by deterministic ids
(`<movement>.<unit>.<period>` for a report, `<movement>.<unit>` for a unit's progress).
"""

from __future__ import annotations

from mongoengine import BooleanField, DictField, Document, IntField, ListField, StringField
from tdkt.events.outbox import AggregateRoot


class UnitView(Document):
    meta = {"collection": "unit_views"}
    id = StringField(primary_key=True)
    seq = IntField(default=0)
    code = StringField()
    name = StringField()
    kind = StringField()
    parent_id = StringField()
    valid_from = StringField()
    valid_to = StringField()
    end_reason = StringField()
    successor_ids = ListField(StringField())
    predecessor_ids = ListField(StringField())


class MovementView(Document):
    meta = {"collection": "movement_views"}
    id = StringField(primary_key=True)
    seq = IntField(default=0)
    state = StringField()
    title = StringField()
    organiser_id = StringField()
    period_start = StringField()
    period_end = StringField()
    content_areas = ListField(DictField())
    criteria = ListField(DictField())
    due_dates = ListField(DictField())
    participant_ids = ListField(StringField())


class RegistrationView(Document):
    meta = {"collection": "registration_views", "indexes": ["movement_id"]}
    id = StringField(primary_key=True)  # <movement>.<unit>, as the registry names it
    seq = IntField(default=0)
    movement_id = StringField()
    unit_id = StringField()
    targets = DictField()


class ClusterView(Document):
    """A cluster (cụm) or block (khối) of units that emulate together, for ranking within it."""

    meta = {"collection": "cluster_views"}
    id = StringField(primary_key=True)
    seq = IntField(default=0)
    name = StringField()
    kind = StringField()  # cluster | block
    member_ids = ListField(StringField())


class ReportsAggregate(AggregateRoot):
    meta = {"abstract": True}
    event_source = "/reports"


class Report(ReportsAggregate):
    """One unit's report for one period of one movement (id `<movement>.<unit>.<period>`, the unit
    being the one the period was generated for; `unit_id` moves to a successor on a merger)."""

    meta = {"collection": "reports", "indexes": [("movement_id", "unit_id"), "unit_id", "state"]}
    id = StringField(primary_key=True)
    movement_id = StringField(required=True)
    unit_id = StringField(required=True)
    original_unit_id = StringField(required=True)
    period = StringField(required=True)
    kind = StringField(required=True)
    opens = StringField(required=True)
    due = StringField(required=True)
    state = StringField(required=True, default="open")
    draft = DictField()
    versions = ListField(DictField())
    reviews = ListField(DictField())
    attachments = ListField(DictField())  # metadata only; the bytes live in the attachment store
    reminders = ListField(StringField())  # thresholds already announced, e.g. "due_soon:3"
    late = BooleanField(default=False)
    history = ListField(DictField())  # who did what when (inherited, cancelled, …)


class Progress(ReportsAggregate):
    """A unit's standing in a movement (id `<movement>.<unit>`), fed by its reports' events and
    published as MovementProgressUpdated for the awards service."""

    meta = {"collection": "progress", "indexes": ["movement_id"]}
    id = StringField(primary_key=True)
    movement_id = StringField(required=True)
    unit_id = StringField(required=True)
    periods = DictField()  # period key → {report_id, state, late, version, values, seq}
