"""`tdkt reports …`: the reports service's operator commands.

tdkt reports rebuild-projections     replay the registry's topics into fresh copies
tdkt reports check-deadlines         record today's due-soon and overdue reminders (idempotent)
"""

from __future__ import annotations

import sys

import click
from tdkt.logs import configure_logging
from tdkt.settings import SettingsError, load_mongo_settings, load_settings
from tdkt.store import StoreUnreachable, check_store, connect_store


def _connect():
    try:
        settings = load_settings("reports")
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    configure_logging("reports", "WARNING", "console")
    db = connect_store(settings.mongo)
    try:
        check_store(db, settings.mongo.uri)
    except StoreUnreachable as exc:
        raise click.ClickException(str(exc)) from None
    return settings, db


@click.group(help=__doc__)
def reports() -> None:
    pass


@reports.command("rebuild-projections", help="Empty the copies of units, movements and registrations and replay the registry's topics into them.")
def rebuild_projections_command() -> None:
    from tdkt.events.kafka import BrokerUnreachable

    from tdkt_reports.bootstrap import SERVICE
    from tdkt_reports.service_layer.rebuild import rebuild

    settings, db = _connect()
    replayed = [0]

    def progress(n: int) -> None:
        replayed[0] += n
        print(f"\r  {replayed[0]} records replayed", end="", file=sys.stderr, flush=True)

    try:
        result = rebuild(db, settings.kafka, SERVICE.subscriptions(), progress)
    except BrokerUnreachable as exc:
        raise click.ClickException(str(exc)) from None
    print(file=sys.stderr)
    click.echo(f"{result.records} records replayed, {sum(result.applied.values())} applied, {result.skipped} skipped")
    for event_type, count in sorted(result.applied.items()):
        click.echo(f"  {event_type}: {count}")


def _store():
    """Only the store: the deadline check needs neither Kafka nor token settings (the relay
    publishes what it records)."""
    try:
        settings = load_mongo_settings("reports")
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    configure_logging("reports", "WARNING", "console")
    db = connect_store(settings)
    try:
        check_store(db, settings.uri)
    except StoreUnreachable as exc:
        raise click.ClickException(str(exc)) from None
    return db


@reports.command("check-deadlines", help="Record the due-soon and overdue reminders owed today, as the relay process does periodically; safe to repeat.")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Check as of this Vietnamese date (YYYY-MM-DD); default: today in Vietnam.")
def check_deadlines_command(today) -> None:
    from tdkt.clock import local_today

    from tdkt_reports.service_layer.deadlines import check_deadlines, load_deadline_settings

    try:
        settings = load_deadline_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    result = check_deadlines(_store(), today.date() if today else local_today(), settings.due_soon_days, settings.overdue_days)
    click.echo(result.sentence())
