"""What every service's operator commands (`tdkt <service> …`) start with: the service's store,
from its settings, reachable — or one clear sentence instead of a traceback."""

from __future__ import annotations

import click
from pymongo.database import Database

from tdkt.logs import configure_logging
from tdkt.settings import SettingsError, load_mongo_settings
from tdkt.store import StoreUnreachable, check_store, connect_store


def operator_store(service: str) -> Database:
    try:
        settings = load_mongo_settings(service)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    configure_logging(service, "WARNING", "console")
    db = connect_store(settings)
    try:
        check_store(db, settings.uri)
    except StoreUnreachable as exc:
        raise click.ClickException(str(exc)) from None
    return db
