"""Composition root of the reports service: the one place that says what the service is made of.

The shared entrypoints (API, consumer, relay) read `SERVICE` and nothing else; nothing here
connects to anything at import.
"""

from tdkt.events.topics import TopicSpec
from tdkt.service import ServiceDefinition

from tdkt_reports.adapters.events import PROGRESS_TOPIC, REPORTS_TOPIC


def _blueprints():
    from tdkt_reports.entrypoints.api import aggregation, projections, reports

    return [reports.blp, projections.blp, aggregation.blp]


def _cli():
    from tdkt_reports.entrypoints.cli import reports

    return reports


def _periodic_jobs():
    from tdkt_reports.service_layer.deadlines import deadline_job

    return [deadline_job()]


def _subscriptions():
    from tdkt_reports.service_layer import clusters, progress, projections

    return projections.subscriptions() + progress.subscriptions() + clusters.subscriptions()


SERVICE = ServiceDefinition(
    name="reports",
    title="Reports — Báo cáo tiến độ thi đua / Movement progress reports",
    description="Owners: every unit (its own reports) and the TĐKT standing body (review, reminders, aggregation). Owns reporting periods, progress reports and reviews, deadlines, movement progress figures and exports.",
    default_port=8002,
    topics=(
        TopicSpec(REPORTS_TOPIC),
        TopicSpec(PROGRESS_TOPIC, compacted=True),  # one record per <movement>.<unit>: its latest standing
    ),
    outbox_collections=("reports", "progress"),
    blueprints=_blueprints,
    subscriptions=_subscriptions,
    cli=_cli,
    periodic_jobs=_periodic_jobs,  # ReportDueSoon / ReportOverdue reminders, in the relay process
)
