"""How the awards service stores its rule catalogue (mongoengine)."""

from __future__ import annotations

from mongoengine import BooleanField, DictField, IntField, ListField, StringField
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


class Nomination(AwardsAggregate):
    """A nomination and its dossier, owned by the nominating unit until submitted; `history` is
    its audit trail (who, when, from → to, why)."""

    meta = {"collection": "nominations"}
    id = StringField(primary_key=True)
    state = StringField(required=True, default="draft")
    nominating_unit_id = StringField(required=True)  # whose draft it is: only that unit sees it before submission
    issuer = StringField(required=True)  # the catalogue's issuer
    kind = StringField(required=True)  # movement | annual | sudden
    movement_id = StringField()
    year = IntField(required=True)
    sudden_ref = StringField()  # what the sudden deed was: one deed, one form
    title_code = StringField(required=True)
    subject = StringField(required=True)  # individual | collective | household
    nominee = DictField()
    nominee_key = StringField(required=True)
    achievement_key = StringField(required=True)
    achievement = StringField()  # tóm tắt thành tích: what the public list shows
    attachments = ListField(DictField())
    deadlines = DictField()  # return_by, appraisal_due, resubmit_by
    appraisal = DictField()
    council = DictField()  # session_id, item_id, outcome, yes/no/abstain
    disclosure_id = StringField()
    decision = DictField()  # id, reference, awardee_id, amount — or the province's decision
    province = DictField()  # proposal_id, sent_at
    history = ListField(DictField())
    created_at = StringField()
    submitted_at = StringField()


class Hold(AwardsAggregate):
    """A person or unit under discipline, inspection or complaint: their nominations wait (Decree 152 Art 4)."""

    meta = {"collection": "nomination_holds"}
    id = StringField(primary_key=True)
    nominee_key = StringField(required=True)
    kind = StringField(required=True)  # discipline | inspection | complaint
    reference = StringField()
    note = StringField()
    active = BooleanField(default=True)
    placed_by = StringField()
    placed_at = StringField()
    lifted_by = StringField()
    lifted_at = StringField()


class Disclosure(AwardsAggregate):
    """The public list of approved nominations before the decision, and the objections it drew."""

    meta = {"collection": "disclosures"}
    id = StringField(primary_key=True)
    title = StringField(required=True)
    issuer = StringField(required=True)
    nomination_ids = ListField(StringField())
    entries = ListField(DictField())  # the public list as published (names, units, forms, achievements)
    opens = StringField(required=True)
    closes = StringField(required=True)  # last day objections are received
    objections = ListField(DictField())
    opened_by = StringField()
