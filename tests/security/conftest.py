"""Fixtures of the authorization matrix: one in-process app per service (its own database on the
test FerretDB, seeded once), and every token the matrix sends, minted once.

The shared plugin's `service_env` and `mongo_db` are per test; the matrix sends thousands of
requests, so each service is set up once (module scope) and its tests reuse it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta

import mongoengine
import pytest
from pymongo import MongoClient
from tdkt.auth import ROLES
from tdkt.auth.tokens import mint_token
from tdkt.services import service_named
from tdkt.web.app import create_app
from tdkt_localstack.pytest_plugin import TEST_AUDIENCE, TEST_ISSUER

from . import seeds
from .matrix import BAD_TOKENS, SERVICES, Outcomes

PROVINCE_SECRET = "tdkt-test-province-secret-0123456789abcdef"


@pytest.fixture(scope="session")
def outcomes() -> Iterator[Outcomes]:
    """Every request's (service, route, case, status), summarised at the end of the session."""
    found = Outcomes()
    yield found
    if found.rows:
        print("\n" + found.summary())


def make_tokens(dev_keys, own: str, other: str) -> dict[str, str]:
    """`role@own`, `role@other` for every role, plus each of BAD_TOKENS (all claiming `admin`, the
    widest role, so a wrongly accepted one would show as a 2xx/4xx rather than hide behind a 403)."""
    private, public = dev_keys[0].read_bytes(), dev_keys[1].read_bytes()

    def mint(roles=("admin",), unit=own, **kwargs) -> str:
        return mint_token(private, issuer=kwargs.pop("issuer", TEST_ISSUER), audience=kwargs.pop("audience", TEST_AUDIENCE), roles=list(roles), unit_id=unit, **kwargs)

    found = {f"{role}@{where}": mint((role,), unit) for role in ROLES for where, unit in (("own", own), ("other", other))}
    header, payload, signature = mint().split(".")
    claims = json.loads(_unb64(payload))
    found["expired"] = mint(ttl=timedelta(hours=-1))
    found["wrong_audience"] = mint(audience="another-audience")
    found["wrong_issuer"] = mint(issuer="another-issuer")
    # the payload changed (made admin of every unit), the signature left as it was
    found["tampered"] = ".".join((header, _b64(json.dumps({**claims, "roles": ["admin", "tdkt_officer"], "unit_id": None}).encode()), signature))
    found["alg_none"] = ".".join((_b64(b'{"alg":"none","typ":"JWT"}'), payload, ""))
    # the classic confusion: HS256 keyed with the RSA public key, as a verifier that trusts `alg` would check it
    unsigned = _b64(b'{"alg":"HS256","typ":"JWT"}') + "." + payload
    found["hs256_public_key"] = f"{unsigned}.{_b64(hmac.new(public, unsigned.encode(), hashlib.sha256).digest())}"
    assert set(BAD_TOKENS) <= set(found)
    return found


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def service_env(servers, dev_keys, database: str) -> dict[str, str]:
    return {
        "TDKT_ENV": "test",
        "MONGODB_URI": servers.mongo_uri,
        "MONGODB_DATABASE": database,
        "KAFKA_BOOTSTRAP_SERVERS": servers.kafka_bootstrap,
        "KAFKA_TOPIC_PARTITIONS": "3",
        "KAFKA_GROUP_ID": f"authz-{uuid.uuid4().hex[:8]}",
        "JWT_ISSUER": TEST_ISSUER,
        "JWT_AUDIENCE": TEST_AUDIENCE,
        "JWT_PUBLIC_KEY_FILE": str(dev_keys[1]),
        "LOG_LEVEL": "ERROR",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": "9",  # nothing is mailed in-process: no dispatcher runs here
        "SMTP_STARTTLS": "false",
        "TDKT_AWARDS_PROVINCE_SECRET": PROVINCE_SECRET,
    }


@contextmanager
def running_service(name: str, servers, dev_keys) -> Iterator[seeds.Seeded]:
    """The named service's app on a fresh database, seeded with one resource of each kind for the
    own unit (ids in `.ids`), and the tokens of every case (`.tokens`)."""
    database = f"t_authz_{name}_{uuid.uuid4().hex[:8]}"
    with pytest.MonkeyPatch.context() as patch:
        for key, value in service_env(servers, dev_keys, database).items():
            patch.setenv(key, value)
        patch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
        app = create_app(service_named(name))
        try:
            with app.app_context():

                def headers(role: str, unit: str | None) -> dict[str, str]:
                    return {"Authorization": f"Bearer {mint_token(dev_keys[0].read_bytes(), issuer=TEST_ISSUER, audience=TEST_AUDIENCE, roles=[role], unit_id=unit)}"}

                seeded = seeds.seed(name, app, headers)
                seeded.tokens = make_tokens(dev_keys, seeded.own, seeded.other)
                yield seeded
        finally:
            mongoengine.disconnect()
            client = MongoClient(servers.mongo_uri, serverSelectionTimeoutMS=5000)
            client.drop_database(database)
            client.close()


class Services:
    """One service up at a time (their documents share mongoengine's default connection): asking
    for another closes the current one. The matrix's tests come grouped by service, so each is
    set up and seeded once per run."""

    def __init__(self, servers, dev_keys):
        self.servers, self.dev_keys = servers, dev_keys
        self.current: tuple[str, seeds.Seeded] | None = None
        self.stack = ExitStack()

    def get(self, name: str) -> seeds.Seeded:
        if self.current is None or self.current[0] != name:
            self.close()
            self.current = (name, self.stack.enter_context(running_service(name, self.servers, self.dev_keys)))
        return self.current[1]

    def close(self) -> None:
        self.stack.close()
        self.current = None


@pytest.fixture(scope="session")
def services(servers, dev_keys) -> Iterator[Services]:
    found = Services(servers, dev_keys)
    try:
        yield found
    finally:
        found.close()


def pytest_collection_modifyitems(items) -> None:
    """Group the matrix's tests by service (stable within a service), so each service is set up
    and seeded once: the route-coverage test of a service runs just before its rows."""

    def service_of(item) -> str | None:
        params = getattr(getattr(item, "callspec", None), "params", {})
        return params["row"].service if "row" in params else params.get("name")

    mine = [i for i, item in enumerate(items) if item.nodeid.startswith("tests/security/") and service_of(item) in SERVICES]
    ordered = sorted((items[i] for i in mine), key=lambda item: SERVICES.index(service_of(item)))
    for position, item in zip(mine, ordered, strict=True):
        items[position] = item
