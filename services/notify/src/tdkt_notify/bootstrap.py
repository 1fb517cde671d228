"""Composition root of the notify service: the one place that says what the service is made of.

The shared entrypoints (API, consumer, relay) read `SERVICE` and nothing else. Feature work adds
blueprints, subscriptions and outbox collections here; no module connects to anything at import.
"""

from tdkt.events.topics import TopicSpec
from tdkt.service import ServiceDefinition

SERVICE = ServiceDefinition(
    name="notify",
    title="Notify — Thông báo / Email, webhooks, in-app inbox",
    description="Owner: communications (Phòng Văn hóa và Thông tin). Owns recipients and preferences, routing rules, templates, and every delivery (email, webhook, in-app inbox) with its log.",
    default_port=8004,
    topics=(TopicSpec("notify.deliveries.v1"),),
)
