"""Composition root of the awards service: the one place that says what the service is made of.

The shared entrypoints (API, consumer, relay) read `SERVICE` and nothing else. Feature work adds
blueprints, subscriptions and outbox collections here; no module connects to anything at import.
"""

from tdkt.events.topics import TopicSpec
from tdkt.service import ServiceDefinition


def _blueprints():
    from tdkt_awards.entrypoints.api import catalogue, council, decisions

    return [catalogue.blp, *council.blueprints, decisions.blp]


def _cli():
    from tdkt_awards.entrypoints.cli import awards

    return awards


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
    outbox_collections=("catalogue_versions", "council_sessions", "decisions"),
    blueprints=_blueprints,
    cli=_cli,
    setup_commands=(("seed-catalogue",),),
)
