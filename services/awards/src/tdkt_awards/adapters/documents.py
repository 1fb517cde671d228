"""How the awards service stores its rule catalogue (mongoengine)."""

from __future__ import annotations

from mongoengine import DictField, IntField, ListField, StringField
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


class Decision(AwardsAggregate):
    """An award decision: a draft until issued (numbered, then immutable); revocations are new acts."""

    meta = {"collection": "decisions"}
    id = StringField(primary_key=True)
    issuer = StringField(required=True)  # the catalogue's issuer: "Ủy ban nhân dân tỉnh Lai Châu"
    state = StringField(required=True, default="draft")
    number = IntField()
    symbol = StringField(default="QĐ-UBND")
    content = DictField()  # subject, decision_date, place, legal_bases, proposed_by, funding_source, recipients, signer
    awardees = ListField(DictField())
    totals = DictField()
    catalogue_version = StringField()
    issued_at = StringField()
    issued_by = StringField()
    revocations = ListField(DictField())
