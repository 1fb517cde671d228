"""Server-side request forgery through webhook subscriptions: in production (`TDKT_ENV=production`)
creating a subscription whose URL reaches this machine, a private network, link-local or cloud
metadata, or hides such a host behind another spelling, is refused at creation — 422 naming `url`
— and nothing is stored.

Already covered elsewhere (not repeated): the target rules themselves, host by host, in
services/notify/tests/test_webhooks.py::test_production_refuses (and the send-time re-check after
DNS); five URLs through the API in services/notify/tests/test_notify.py. Here every spelling goes
through the real endpoint, plus spellings those lists lack (octal and dotted-short forms, IPv4-
compatible and 6to4 IPv6, userinfo tricks, a trailing dot, percent-encoded hosts, IDN dots).
"""

from __future__ import annotations

import pytest
from tdkt_notify import settings as notify_settings

from .conftest import names_field

UNIT = "u-binh-lu"
REFUSED = [
    "https://127.0.0.1/x",
    "https://127.0.0.1./x",  # trailing dot
    "https://[::1]/x",  # IPv6 loopback
    "https://[0:0:0:0:0:0:0:1]/x",
    "https://[::ffff:7f00:1]/x",  # IPv4-mapped 127.0.0.1, hex spelling
    "https://[::127.0.0.1]/x",  # IPv4-compatible (deprecated) loopback
    "https://[2002:7f00:1::]/x",  # 6to4 of 127.0.0.1
    "https://[2002:a9fe:a9fe::]/x",  # 6to4 of 169.254.169.254
    "https://0.0.0.0/x",
    "https://0/x",
    "https://2130706433/x",  # 127.0.0.1 as a decimal number
    "https://0x7f.0.0.1/x",
    "https://0177.0.0.1/x",  # octal
    "https://017700000001/x",
    "https://127.1/x",
    "https://10.0.0.1/x",
    "https://172.31.255.255/x",
    "https://192.168.0.1/x",
    "https://100.64.0.1/x",
    "https://169.254.169.254/latest/meta-data/",  # cloud metadata
    "https://[fd00:ec2::254]/latest/meta-data/",  # AWS's IPv6 metadata
    "https://metadata.google.internal./computeMetadata/v1/",  # does not resolve here; refused like any unresolvable name
    "https://[fe80::1]/x",
    "https://good.example@127.0.0.1/x",  # userinfo: the host is 127.0.0.1
    "https://127.0.0.1@good.example/x",  # userinfo: credentials travel in clear, refused as such
    "https://good.example%40127.0.0.1/x",
    "https://127.0.0.1%2f.good.example/x",
    "https://127。0。0。1/x",  # ideographic full stops: IDNA maps them to dots
    "https://localhost/x",
    "https://LOCALHOST./x",
    "https://x.localhost/x",
    "http://hooks.example.org/x",  # production: https only
    "https://127.0.0.1:443\\@good.example/x",
    "https://[::ffff:169.254.169.254]/x",
]


@pytest.fixture
def production_notify(service_app, monkeypatch):
    monkeypatch.setenv("TDKT_ENV", "production")
    notify_settings.current.cache_clear()
    try:
        yield service_app("notify")
    finally:
        notify_settings.current.cache_clear()


@pytest.mark.parametrize("url", REFUSED)
def test_production_refuses_the_target_at_creation(production_notify, as_role, url):
    client = production_notify.test_client()
    head = as_role("unit_head", unit=UNIT)
    body = names_field(client.post("/api/v1/subscriptions", json={"owner": "unit", "channel": "webhook", "url": url}, headers=head), "json", "url")
    assert all(" / " in message for message in body["errors"]["json"]["url"])  # Vietnamese / English
    assert client.get("/api/v1/subscriptions", headers=head).get_json()["total"] == 0


def test_a_public_https_target_is_accepted_in_production(production_notify, as_role):
    """The control: the same request with a public address literal is taken (no DNS needed)."""
    client = production_notify.test_client()
    head = as_role("unit_head", unit=UNIT)
    response = client.post("/api/v1/subscriptions", json={"owner": "unit", "channel": "webhook", "url": "https://93.184.215.14/hooks/tdkt"}, headers=head)
    assert response.status_code == 201, response.get_json()
