"""How the registry's aggregates are stored (mongoengine documents).

Dates are stored as ISO `YYYY-MM-DD` strings: a date has no time zone, and strings compare in
date order on every store. Units are read into the in-memory directory (see `unit_store`), so
their documents carry no query indexes beyond `_id`.
"""

from __future__ import annotations

from mongoengine import DictField, IntField, ListField, StringField
from tdkt.events.outbox import AggregateRoot


class RegistryAggregate(AggregateRoot):
    meta = {"abstract": True}
    event_source = "/registry"


class UnitDocument(RegistryAggregate):
    meta = {"collection": "units"}
    id = StringField(primary_key=True)
    code = StringField()
    name = StringField(required=True)
    short_name = StringField()
    kind = StringField(required=True)
    parent_id = StringField()
    valid_from = StringField()
    valid_to = StringField()
    end_reason = StringField()
    segments = ListField(DictField())
    contacts = DictField()
    head = DictField()
    note = StringField()
    predecessor_ids = ListField(StringField())
    successor_ids = ListField(StringField())
    acts = ListField(StringField())


class ClusterDocument(RegistryAggregate):
    meta = {"collection": "clusters"}
    id = StringField(primary_key=True)
    name = StringField(required=True)
    name_folded = StringField()
    kind = StringField(required=True)
    description = StringField()
    member_ids = ListField(StringField())
    terms = ListField(DictField())


class MovementDocument(RegistryAggregate):
    meta = {"collection": "movements"}
    id = StringField(primary_key=True)
    state = StringField(required=True)
    title_folded = StringField()  # for diacritic-insensitive search
    content = DictField()  # everything the organiser edits, as the domain's Movement.to_dict()
    participant_ids = ListField(StringField())
    history = ListField(DictField())


class RegistrationDocument(RegistryAggregate):
    meta = {"collection": "registrations"}
    id = StringField(primary_key=True)
    movement_id = StringField(required=True)
    unit_id = StringField(required=True)
    targets = DictField()
    titles = ListField(StringField())
    note = StringField()
    submitted_at = StringField()
    amended_at = StringField()
    amendments = IntField(default=0)
    submitted_by = StringField()
