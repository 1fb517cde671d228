"""`tdkt awards …`: the awards service's operator commands.

tdkt awards seed-catalogue     the default rule catalogue (design/domain.md) as an active version
"""

from __future__ import annotations

import click
from tdkt.errors import DomainError
from tdkt.operator import operator_store


@click.group(help=__doc__)
def awards() -> None:
    pass


@awards.command("seed-catalogue", help="Load the default rule catalogue as an active version; idempotent.")
def seed_catalogue_command() -> None:
    from tdkt_awards.service_layer.catalogue import seed_default

    operator_store("awards")
    try:
        click.echo(seed_default("cli:seed-catalogue"))
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
