"""Composition root of the reports service: the one place that says what the service is made of.

The shared entrypoints (API, consumer, relay) read `SERVICE` and nothing else. Feature work adds
blueprints, subscriptions and outbox collections here; no module connects to anything at import.
"""

from tdkt.events.topics import TopicSpec
from tdkt.service import ServiceDefinition

SERVICE = ServiceDefinition(
    name="reports",
    title="Reports — Báo cáo tiến độ thi đua / Movement progress reports",
    description="Owners: every unit (its own reports) and the TĐKT standing body (review, reminders, aggregation). Owns reporting periods, progress reports and reviews, deadlines, movement progress figures and exports.",
    default_port=8002,
    topics=(
        TopicSpec("reports.reports.v1"),
        TopicSpec("reports.progress.v1"),
    ),
)
