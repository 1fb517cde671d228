"""Settings from the environment, validated once at start.

A process that is missing a required variable, or has one that does not parse, must refuse to
start and say which variable is wrong; it must never run with a half-understood configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from environs import Env, EnvValidationError
from marshmallow.validate import OneOf, Range


class SettingsError(Exception):
    """The environment does not describe a runnable configuration; the message names each variable."""


@dataclass(frozen=True)
class KafkaSettings:
    bootstrap_servers: list[str]
    client_id: str
    topic_partitions: int


@dataclass(frozen=True)
class MongoSettings:
    uri: str
    database: str
    server_selection_timeout_ms: int


@dataclass(frozen=True)
class AuthSettings:
    issuer: str
    audience: str
    algorithm: str
    public_key_file: Path | None
    jwks_url: str | None
    leeway_seconds: int


@dataclass(frozen=True)
class RelaySettings:
    poll_interval_ms: int
    batch_size: int
    sweep_interval_s: int
    lease_ttl_s: int


@dataclass(frozen=True)
class ConsumerSettings:
    group_id: str
    max_poll_records: int
    max_poll_interval_ms: int
    max_attempts: int
    retry_backoff_ms: int


@dataclass(frozen=True)
class Settings:
    service: str
    environment: str
    log_level: str
    log_format: str
    kafka: KafkaSettings
    mongo: MongoSettings
    auth: AuthSettings
    relay: RelaySettings
    consumer: ConsumerSettings
    extra: dict = field(default_factory=dict)


ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "EdDSA"]


def load_settings(service: str) -> Settings:
    """Read and validate every variable; raise SettingsError naming all the bad ones at once."""
    env = Env(eager=False)

    default_db = f"tdkt_{service}"
    settings = Settings(
        service=service,
        environment=env.str("TDKT_ENV", "development", validate=OneOf(["development", "test", "production"])),
        log_level=env.str("LOG_LEVEL", "INFO", validate=OneOf(["DEBUG", "INFO", "WARNING", "ERROR"])),
        log_format=env.str("LOG_FORMAT", "json", validate=OneOf(["json", "console"])),
        kafka=KafkaSettings(
            bootstrap_servers=env.list("KAFKA_BOOTSTRAP_SERVERS"),
            client_id=env.str("KAFKA_CLIENT_ID", f"tdkt-{service}"),
            topic_partitions=env.int("KAFKA_TOPIC_PARTITIONS", 6, validate=Range(min=1, max=1000)),
        ),
        mongo=MongoSettings(
            uri=env.str("MONGODB_URI"),
            database=env.str("MONGODB_DATABASE", default_db),
            server_selection_timeout_ms=env.int("MONGODB_TIMEOUT_MS", 3000, validate=Range(min=100)),
        ),
        auth=AuthSettings(
            issuer=env.str("JWT_ISSUER"),
            audience=env.str("JWT_AUDIENCE"),
            algorithm=env.str("JWT_ALGORITHM", "RS256", validate=OneOf(ALGORITHMS)),
            public_key_file=env.path("JWT_PUBLIC_KEY_FILE", None),
            jwks_url=env.url("JWT_JWKS_URL", None, schemes={"http", "https"}, require_tld=False),
            leeway_seconds=env.int("JWT_LEEWAY_SECONDS", 30, validate=Range(min=0, max=300)),
        ),
        relay=RelaySettings(
            poll_interval_ms=env.int("OUTBOX_POLL_INTERVAL_MS", 50, validate=Range(min=5, max=60000)),
            batch_size=env.int("OUTBOX_BATCH_SIZE", 500, validate=Range(min=1, max=10000)),
            sweep_interval_s=env.int("OUTBOX_SWEEP_INTERVAL_S", 30, validate=Range(min=1)),
            lease_ttl_s=env.int("OUTBOX_LEASE_TTL_S", 15, validate=Range(min=2)),
        ),
        consumer=ConsumerSettings(
            group_id=env.str("KAFKA_GROUP_ID", f"tdkt-{service}"),
            max_poll_records=env.int("CONSUMER_MAX_POLL_RECORDS", 200, validate=Range(min=1, max=5000)),
            max_poll_interval_ms=env.int("CONSUMER_MAX_POLL_INTERVAL_MS", 300000, validate=Range(min=1000)),
            max_attempts=env.int("CONSUMER_MAX_ATTEMPTS", 5, validate=Range(min=1, max=100)),
            retry_backoff_ms=env.int("CONSUMER_RETRY_BACKOFF_MS", 200, validate=Range(min=0)),
        ),
    )
    try:
        env.seal()
    except EnvValidationError as exc:
        raise SettingsError(_describe(exc.error_messages)) from None

    if settings.auth.public_key_file is None and settings.auth.jwks_url is None:
        raise SettingsError("JWT_PUBLIC_KEY_FILE or JWT_JWKS_URL: one of them must be set to verify bearer tokens")
    if settings.auth.public_key_file is not None and not settings.auth.public_key_file.is_file():
        raise SettingsError(f"JWT_PUBLIC_KEY_FILE: no such file: {settings.auth.public_key_file}")
    if not settings.mongo.uri.startswith(("mongodb://", "mongodb+srv://")):
        raise SettingsError("MONGODB_URI: must start with mongodb:// or mongodb+srv://")
    return settings


def _describe(messages: dict) -> str:
    parts = []
    for name, errors in sorted(messages.items()):
        text = "; ".join(str(e) for e in errors) if isinstance(errors, list) else str(errors)
        parts.append(f"{name}: {text}")
    return "invalid environment: " + " | ".join(parts)


def load_mongo_settings(service: str) -> MongoSettings:
    """Only the store's settings: what an operator command that touches the store alone needs
    (`tdkt registry import-admin-units` with just MONGODB_URI set)."""
    env = Env(eager=False)
    settings = MongoSettings(
        uri=env.str("MONGODB_URI", "mongodb://127.0.0.1:27017/"),
        database=env.str("MONGODB_DATABASE", f"tdkt_{service}"),
        server_selection_timeout_ms=env.int("MONGODB_TIMEOUT_MS", 3000, validate=Range(min=100)),
    )
    try:
        env.seal()
    except EnvValidationError as exc:
        raise SettingsError(_describe(exc.error_messages)) from None
    return settings
