"""How the awards service stores its rule catalogue (mongoengine)."""

from __future__ import annotations

from mongoengine import DictField, ListField, StringField
from tdkt.events.outbox import AggregateRoot


class AwardsAggregate(AggregateRoot):
    meta = {"abstract": True}
    event_source = "/awards"


class CatalogueVersion(AwardsAggregate):
    """One version of the rules of one issuing authority; `audit` is its hash-chained change log."""

    meta = {"collection": "catalogue_versions"}
    id = StringField(primary_key=True)
    issuer = StringField(required=True)
    effective_from = StringField(required=True)  # YYYY-MM-DD
    legal_basis = DictField()
    note = StringField()
    status = StringField(required=True, default="draft")  # draft | active | retired
    content = DictField()
    audit = ListField(DictField())
