"""`tdkt reports …`: the reports service's operator commands.

tdkt reports rebuild-projections     replay the registry's topics into fresh copies
"""

from __future__ import annotations

import sys

import click
from tdkt.logs import configure_logging
from tdkt.settings import SettingsError, load_settings
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
