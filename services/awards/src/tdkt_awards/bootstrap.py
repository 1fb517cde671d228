"""Composition root of the awards service: the one place that says what the service is made of.

The shared entrypoints (API, consumer, relay) read `SERVICE` and nothing else. Feature work adds
blueprints, subscriptions and outbox collections here; no module connects to anything at import.
"""

from tdkt.events.topics import TopicSpec
from tdkt.service import ServiceDefinition


def _blueprints():
    from tdkt_awards.entrypoints.api import catalogue, council, decisions, disclosures, ledger, nominations, province

    return [catalogue.blp, *nominations.blueprints, *council.blueprints, *disclosures.blueprints, decisions.blp, ledger.blp, *province.blueprints]


def _cli():
    from tdkt_awards.entrypoints.cli import awards

    return awards


def _subscriptions():
    from tdkt.events.consumer import combine

    from tdkt_awards.service_layer import ledger, own_events, projections

    # own_events and the ledger both handle DecisionIssued and AwardRevoked: one handler per type
    return combine(projections.subscriptions() + own_events.subscriptions() + ledger.subscriptions())


SERVICE = ServiceDefinition(
    name="awards",
    title="Awards — Khen thưởng / Nominations, appraisal, council, decisions",
    description="Owners: the TĐKT standing body, the council, the chair who signs, the finance office. Owns the rule catalogue, nominations and dossiers, appraisal, council sessions and ballots, decisions and the bonus ledger.",
    default_port=8003,
    topics=(
        TopicSpec("awards.catalogue.v1"),
        TopicSpec("awards.nominations.v1"),
        TopicSpec("awards.councils.v1"),
        TopicSpec("awards.decisions.v1"),
    ),
    outbox_collections=("catalogue_versions", "nominations", "nomination_holds", "council_sessions", "disclosures", "decisions", "province_proposals"),
    blueprints=_blueprints,
    subscriptions=_subscriptions,
    cli=_cli,
    setup_commands=(("seed-catalogue",),),
)
