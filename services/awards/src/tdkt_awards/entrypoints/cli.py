"""`tdkt awards …`: the awards service's operator commands.

tdkt awards seed-catalogue     the default rule catalogue (design/domain.md) as an active version
"""

from __future__ import annotations

import click
from tdkt.errors import DomainError
from tdkt.logs import configure_logging
from tdkt.settings import SettingsError, load_mongo_settings
from tdkt.store import StoreUnreachable, check_store, connect_store


@click.group(help=__doc__)
def awards() -> None:
    pass


@awards.command("seed-catalogue", help="Load the default rule catalogue as an active version; idempotent.")
def seed_catalogue_command() -> None:
    from tdkt_awards.service_layer.catalogue import seed_default

    try:
        settings = load_mongo_settings("awards")
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    configure_logging("awards", "WARNING", "console")
    db = connect_store(settings)
    try:
        check_store(db, settings.uri)
        click.echo(seed_default("cli:seed-catalogue"))
    except (StoreUnreachable, DomainError) as exc:
        raise click.ClickException(str(exc)) from None
