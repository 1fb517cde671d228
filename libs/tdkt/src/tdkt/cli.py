"""`tdkt`: operator commands.

tdkt token --role tdkt_officer                  a bearer token for the local stack
tdkt token --role unit_reporter --unit 03390    scoped to one unit
tdkt topics                                     create every service's topics (idempotent)
tdkt dlq list                                   dead-letter topics and how many records wait
tdkt dlq redrive registry.units.v1.dlq          put dead letters back on their topic
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import click

from tdkt.auth.principal import ROLES, WIDE_SIGHT_ROLES
from tdkt.auth.tokens import mint_token
from tdkt.events.dlq import REDRIVE_GROUP, redrive
from tdkt.events.kafka import BrokerUnreachable, make_admin, make_consumer, make_producer
from tdkt.events.topics import DLQ_SUFFIX, ensure_topics
from tdkt.services import installed_services
from tdkt.settings import KafkaSettings


def var_dir() -> Path:
    return Path(os.environ.get("TDKT_VAR", "var")).resolve()


def _kafka() -> KafkaSettings:
    servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    return KafkaSettings(bootstrap_servers=servers.split(","), client_id="tdkt-cli", topic_partitions=int(os.environ.get("KAFKA_TOPIC_PARTITIONS", "6")))


@click.group(help=__doc__)
def main() -> None:
    pass


@main.command(help="Print a bearer token signed with the local stack's development key.")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES), help="Repeat for several roles.")
@click.option("--unit", "unit_id", default=None, help="The caller's unit id (required for unit-scoped roles).")
@click.option("--name", default=None, help="Display name put in the token.")
@click.option("--hours", default=8, show_default=True, type=click.IntRange(1, 24 * 30))
@click.option("--key", "key_file", type=click.Path(dir_okay=False, path_type=Path), default=None, help="PEM private key; default: $TDKT_VAR/keys/dev-private.pem")
def token(roles, unit_id, name, hours, key_file) -> None:
    key_file = key_file or Path(os.environ.get("TDKT_DEV_PRIVATE_KEY", var_dir() / "keys" / "dev-private.pem"))
    if not key_file.is_file():
        raise click.ClickException(f"no development key at {key_file}: start the local stack once (`make up`) to create it, or pass --key")

    if not unit_id and not WIDE_SIGHT_ROLES.intersection(roles):
        raise click.ClickException(f"role(s) {', '.join(roles)} see one unit only: pass --unit UNIT_ID")
    click.echo(
        mint_token(
            key_file.read_bytes(),
            issuer=os.environ.get("JWT_ISSUER", "tdkt-local"),
            audience=os.environ.get("JWT_AUDIENCE", "tdkt"),
            roles=list(roles),
            unit_id=unit_id,
            name=name,
            ttl=timedelta(hours=hours),
        )
    )


@main.command(help="Create every installed service's topics and dead-letter topics.")
def topics() -> None:
    settings = _kafka()
    try:
        admin = make_admin(settings)
    except BrokerUnreachable as exc:
        raise click.ClickException(str(exc)) from None
    try:
        specs = [t for s in installed_services() for t in s.topics]
        created = ensure_topics(admin, specs, settings.topic_partitions)
    finally:
        admin.close()
    click.echo(f"{len(specs)} topics declared; created: {', '.join(created) or 'none (all existed)'}")


@main.group(help="Dead-letter topics.")
def dlq() -> None:
    pass


@dlq.command("list", help="Dead-letter topics with the records not yet re-driven.")
def dlq_list() -> None:
    settings = _kafka()
    try:
        consumer = make_consumer(settings, REDRIVE_GROUP)
    except BrokerUnreachable as exc:
        raise click.ClickException(str(exc)) from None
    try:
        from kafka import TopicPartition

        names = sorted(t for t in consumer.topics() if t.endswith(DLQ_SUFFIX))
        for name in names:
            parts = [TopicPartition(name, p) for p in sorted(consumer.partitions_for_topic(name) or [])]
            ends = consumer.end_offsets(parts)
            waiting = sum(ends[tp] - (consumer.committed(tp) or 0) for tp in parts)
            click.echo(f"{name}\t{waiting} waiting")
        if not names:
            click.echo("no dead-letter topics")
    finally:
        consumer.close()


@dlq.command("redrive", help="Republish a dead-letter topic's records to their origin topic.")
@click.argument("topic")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many records.")
def dlq_redrive(topic: str, limit: int | None) -> None:
    settings = _kafka()
    try:
        consumer = make_consumer(settings, REDRIVE_GROUP)
        producer = make_producer(settings)
    except BrokerUnreachable as exc:
        raise click.ClickException(str(exc)) from None
    try:
        report = redrive(consumer, producer, topic, limit)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        consumer.close()
        producer.close(timeout=10)
    click.echo(f"{report.redriven} record(s) re-driven from {report.topic}" + "".join(f"\n  → {t}: {n}" for t, n in report.by_origin.items()))


def _mount_service_commands() -> None:
    """Each service's own commands, e.g. `tdkt registry import-admin-units`."""
    for service in installed_services():
        if service.cli is not None:
            main.add_command(service.cli(), service.name)


_mount_service_commands()

if __name__ == "__main__":
    main()
