"""The Flask app factory every service uses: `create_app(SERVICE)`.

It wires, in one place: settings, the store (lazily connected), flask-smorest with problem+json
errors and OpenAPI at /openapi.json (Swagger UI at /docs), request ids and trace context, JSON
logs, metrics, health, bearer-token auth and Idempotency-Key. The service adds its blueprints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import marshmallow as ma
from flask import Flask
from flask.json.provider import DefaultJSONProvider
from flask_smorest import Blueprint
from pymongo.database import Database

from tdkt.auth import TokenVerifier
from tdkt.logs import configure_logging
from tdkt.service import ServiceDefinition
from tdkt.settings import Settings, load_settings
from tdkt.store import connect_store
from tdkt.web.auth import BEARER_SCHEME
from tdkt.web.bodies import BoundedRequest
from tdkt.web.context import install_request_context
from tdkt.web.health import BrokerProbe, health
from tdkt.web.idempotency import install_idempotency
from tdkt.web.metrics import install_metrics
from tdkt.web.problems import ProblemApi, install_error_handlers

API_PREFIX = "/api/v1"


@dataclass
class TdktExtension:
    service: ServiceDefinition
    settings: Settings
    db: Database
    verifier: TokenVerifier
    broker_probe: BrokerProbe
    api: ProblemApi | None = None
    components: dict[str, Any] = field(default_factory=dict)  # a service's own per-app objects (e.g. a cache)


class _JSON(DefaultJSONProvider):
    ensure_ascii = False  # Vietnamese stays readable in responses
    sort_keys = False


def _refuse_unknown_query_arguments() -> None:
    """webargs drops unknown query arguments by default: a misspelt filter (`yaer=2026`) or an
    operator-shaped one (`unit_id[$ne]=x`) then answers the unfiltered list as if it were filtered.
    Every service refuses them instead, a 422 naming the argument, as it refuses unknown JSON fields."""
    parser = Blueprint.ARGUMENTS_PARSER
    parser.DEFAULT_UNKNOWN_BY_LOCATION = {**type(parser).DEFAULT_UNKNOWN_BY_LOCATION, "query": ma.RAISE, "querystring": ma.RAISE}


def create_app(service: ServiceDefinition, settings: Settings | None = None, extra_blueprints: list | None = None) -> Flask:
    settings = settings or load_settings(service.name)
    configure_logging(service.name, settings.log_level, settings.log_format)

    _refuse_unknown_query_arguments()
    app = Flask(f"tdkt_{service.name}")
    app.request_class = BoundedRequest  # 413, not a truncated body, when a chunked body passes the limit
    app.json = _JSON(app)
    app.config.update(
        API_TITLE=service.title,
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/",
        API_SPEC_OPTIONS={"info": {"description": service.description}},
        MAX_CONTENT_LENGTH=service.max_body_bytes,
    )

    db = connect_store(settings.mongo)
    ext = TdktExtension(service, settings, db, TokenVerifier(settings.auth), BrokerProbe(settings.kafka))
    app.extensions["tdkt"] = ext

    install_request_context(app)
    install_metrics(app, service.name, db)
    api = ProblemApi(app)
    ext.api = api
    api.spec.components.security_scheme("bearerAuth", BEARER_SCHEME)
    install_error_handlers(app)
    install_idempotency(app)

    api.register_blueprint(health)
    for blueprint in [*service.blueprints(), *(extra_blueprints or [])]:
        api.register_blueprint(blueprint, url_prefix=f"{API_PREFIX}{blueprint.url_prefix or ''}")
    return app
