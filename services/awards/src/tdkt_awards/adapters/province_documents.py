"""How the exchange with the province is stored. See `tdkt_awards.service_layer.province`.

- `province_proposals`: the proposal aggregate — the nominations sent, the export exactly as it
  was sent (`proposal.json` of the zip, the payload of `ProvinceProposalSent`), and the answers
  the province's callbacks brought. Its outbox carries `ProvinceProposalSent`.
- `province_claims`: `_id = <nomination id>`, `proposal_id`: a nomination goes to the province
  once; the unique `_id` keeps two concurrent proposals from both taking it.
- `province_deliveries`: `_id = <X-TDKT-Delivery>`, the sha256 of the body, the state
  (in_progress | done) and the first answer: replay protection and idempotency of callbacks.

Only `_id` lookups are used for claims and deliveries (FerretDB indexes nothing else).
"""

from __future__ import annotations

from mongoengine import DictField, ListField, StringField

from tdkt_awards.adapters.documents import AwardsAggregate

CLAIMS = "province_claims"
DELIVERIES = "province_deliveries"


class ProvinceProposal(AwardsAggregate):
    """Nominations for forms the province confers, sent as one proposal (tờ trình đề nghị cấp tỉnh)."""

    meta = {"collection": "province_proposals"}
    id = StringField(primary_key=True)
    state = StringField(required=True, default="sent")  # sent | answered (every nomination has its answer)
    nomination_ids = ListField(StringField())
    export = DictField()  # what was sent: never changed after
    answers = ListField(DictField())  # {nomination_id, outcome, decision | reason, delivery_id, answered_at}
    created_by = StringField()
    created_at = StringField()
    answered_at = StringField()
