"""How the council is stored. See `tdkt_awards.service_layer.council` for why the ballot lives in
two unrelated places (who took part; what was voted) and what each field may and may not hold.

- `councils`: the council and its members (an aggregate, versioned; no events).
- `council_sessions`: the session aggregate — agenda, attendance, state, and after close the
  tally (counts only). Its outbox carries Opened / Closed / BallotTallied.
- `council_participations`: `_id = "<session>:<item>:<member>"`, nothing else but those three ids
  and how the ballot came (in person / written). No choice, no timestamp.
- `council_ballot_boxes`: `_id = "<session>:<item>"`, the counters yes/no/abstain/cast and
  `sealed`. No member id, no timestamp, no per-ballot records.

Only `_id` lookups are used on the hot paths (FerretDB indexes nothing else).
"""

from __future__ import annotations

from mongoengine import BooleanField, DictField, Document, FloatField, IntField, ListField, StringField
from tdkt.events.outbox import AggregateRoot


class CouncilAggregate(AggregateRoot):
    meta = {"abstract": True}
    event_source = "/awards"


class Council(CouncilAggregate):
    meta = {"collection": "councils"}
    id = StringField(primary_key=True)
    name = StringField(required=True)
    issuer_id = StringField(required=True)  # the issuing level (unit) this council advises
    members = ListField(DictField())  # {member_id, name, role}


class CouncilSession(CouncilAggregate):
    meta = {"collection": "council_sessions"}
    id = StringField(primary_key=True)
    council_id = StringField(required=True)
    council_name = StringField()
    date = StringField(required=True)  # YYYY-MM-DD: the finest time any ballot-related record carries
    quorum = FloatField(required=True)
    agenda = ListField(DictField())  # {item_id, nomination_id, candidate, title_code, threshold, quota_group}
    quota_groups = ListField(DictField())  # {code, quota}
    state = StringField(required=True, default="scheduled")
    members = ListField(DictField())  # snapshot of the council's members when the session opened
    present = ListField(StringField())  # member ids recorded present
    result = DictField()  # after close: the tally (domain.council.tally), counts only
    casting = ListField(DictField())  # the chair's casting votes: {quota_group, item_ids}
    integrity_warnings = ListField(StringField())


class Participation(Document):
    meta = {"collection": "council_participations"}
    id = StringField(primary_key=True)  # "<session>:<item>:<member>": unique, so a second ballot is refused
    session_id = StringField(required=True)
    item_id = StringField(required=True)
    member_id = StringField(required=True)
    mode = StringField(required=True)  # in_person | written


class BallotBox(Document):
    meta = {"collection": "council_ballot_boxes"}
    id = StringField(primary_key=True)  # "<session>:<item>"
    session_id = StringField(required=True)
    item_id = StringField(required=True)
    yes = IntField(default=0)
    no = IntField(default=0)
    abstain = IntField(default=0)
    cast = IntField(default=0)
    sealed = BooleanField(default=False)
