"""The awards service reading its own topics: the council's tally, an issued decision and a
revocation move the nominations they name on. Going through the topic instead of writing the
nominations in the same request keeps every write to one document (atomic with its event), and a
crash between the session's close and the nominations' update is finished by the consumer.
Each step is idempotent (`nominations._advance`): re-delivery and replay change nothing."""

from __future__ import annotations

from tdkt.events.consumer import HandlerContext, Subscription
from tdkt.events.envelope import Event

from tdkt_awards.adapters.council_events import BALLOT_TALLIED
from tdkt_awards.adapters.events import AWARD_REVOKED, DECISION_ISSUED
from tdkt_awards.service_layer import nominations


def on_tally(event: Event, ctx: HandlerContext) -> None:
    nominations.apply_tally(ctx.data["session_id"], ctx.data["tally"])


def on_decision_issued(event: Event, ctx: HandlerContext) -> None:
    nominations.apply_decision(ctx.data["decision"])


def on_award_revoked(event: Event, ctx: HandlerContext) -> None:
    nominations.apply_revocation(ctx.data)


def subscriptions() -> list[Subscription]:
    return [
        Subscription(BALLOT_TALLIED.type, BALLOT_TALLIED.topic, on_tally),
        Subscription(DECISION_ISSUED.type, DECISION_ISSUED.topic, on_decision_issued),
        Subscription(AWARD_REVOKED.type, AWARD_REVOKED.topic, on_award_revoked),
    ]
