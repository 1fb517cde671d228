"""`tdkt notify …`: the notify service's operator commands.

tdkt notify seed-routes      load the default routing rules (edited rules are kept; idempotent)
tdkt notify resend ID        send a delivery again (an email or a webhook, whatever its state)
tdkt notify dead             list the dead and uncertain deliveries (newest first)
"""

from __future__ import annotations

import click
from tdkt.operator import operator_store


def _db():
    return operator_store("notify")


@click.group(help=__doc__)
def notify() -> None:
    pass


@notify.command("seed-routes", help="Load the default routing rules for event types that have none.")
def seed_routes_command() -> None:
    from tdkt_notify.service_layer.config import seed_routes

    added = seed_routes(_db())
    click.echo(f"routing rules: {added} added" if added else "routing rules: nothing changed (every event type has its rule)")


@notify.command("resend", help="Queue a delivery to be sent again; the dispatcher sends it within a second.")
@click.argument("delivery_id")
def resend_command(delivery_id: str) -> None:
    from tdkt_notify.service_layer.dispatch import resend

    found = resend(_db(), delivery_id, "cli")
    if found is None:
        raise click.ClickException(f"no email or webhook delivery {delivery_id}")
    click.echo(f"queued again: {delivery_id} ({found['channel']} to {found.get('address')})")


@notify.command("dead", help="The deliveries given up on: dead (failed for good) and uncertain (interrupted mid-SMTP).")
def dead_command() -> None:
    from tdkt_notify.service_layer.intake import DELIVERIES

    found = list(_db()[DELIVERIES].find({"state": {"$in": ["dead", "uncertain"]}}, {"content": 0, "body": 0}))
    for doc in sorted(found, key=lambda d: d["created_at"], reverse=True):
        click.echo(f"{doc['state']:9} {doc['channel']:7} {doc['_id']}  {doc.get('address') or ''}  {doc.get('error') or ''}")
    click.echo(f"{len(found)} deliveries")
