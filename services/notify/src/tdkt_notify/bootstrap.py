"""Composition root of the notify service: the one place that says what the service is made of.

The shared entrypoints (API, consumer, relay) read `SERVICE` and nothing else; nothing here
connects to anything at import.
"""

from tdkt.events.topics import TopicSpec
from tdkt.service import ServiceDefinition

from tdkt_notify.adapters.events import DELIVERIES_TOPIC


def _blueprints():
    from tdkt_notify.entrypoints.api import notify

    return notify.blueprints


def _subscriptions():
    from tdkt_notify.service_layer import intake

    return intake.subscriptions()


def _periodic_jobs():
    from tdkt_notify.service_layer.digests import digest_job
    from tdkt_notify.service_layer.dispatch import dispatch_job

    return [dispatch_job(), digest_job()]


def _cli():
    from tdkt_notify.entrypoints.cli import notify

    return notify


SERVICE = ServiceDefinition(
    name="notify",
    title="Notify — Thông báo / Email, webhooks, in-app inbox",
    description="Owner: communications (Phòng Văn hóa và Thông tin). Owns recipients and preferences, routing rules, templates, and every delivery (email, webhook, in-app inbox) with its log.",
    default_port=8004,
    topics=(TopicSpec(DELIVERIES_TOPIC),),
    outbox_collections=("dead_letters",),
    blueprints=_blueprints,
    subscriptions=_subscriptions,
    periodic_jobs=_periodic_jobs,  # the dispatcher and the digests, in the relay process
    cli=_cli,
    setup_commands=(("seed-routes",),),
)
