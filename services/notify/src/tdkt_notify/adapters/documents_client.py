"""Fetching the documents an email attaches (a decision's .docx) from the service that owns them.

The rule names them (`attachments`: a path under another service's API, rendered with the event's
data). Notify calls that API with a short-lived token of its own (`communications`, subject
`svc:notify`) signed with NOTIFY_SERVICE_KEY_FILE — in development the platform's dev key; in
production a key whose public half the services trust. Without NOTIFY_<SERVICE>_URL or the key,
the email goes without the attachment and the log says so. A fetch that fails is a temporary
failure: the email is retried, never sent without a document it should carry."""

from __future__ import annotations

import os
from datetime import timedelta

import requests
from tdkt.auth.tokens import mint_token

from tdkt_notify.adapters.mailer import TemporaryFailure

MAX_BYTES = 10 * 1024 * 1024


def configured(service: str) -> bool:
    return bool(os.environ.get(f"NOTIFY_{service.upper()}_URL") and os.environ.get("NOTIFY_SERVICE_KEY_FILE"))


def fetch(service: str, path: str, timeout_s: float = 20.0) -> bytes:
    base = os.environ[f"NOTIFY_{service.upper()}_URL"].rstrip("/")
    with open(os.environ["NOTIFY_SERVICE_KEY_FILE"], "rb") as key:
        token = mint_token(
            key.read(), issuer=os.environ["JWT_ISSUER"], audience=os.environ["JWT_AUDIENCE"], roles=["communications"], unit_id=None, subject="svc:notify", ttl=timedelta(minutes=5)
        )
    try:
        response = requests.get(f"{base}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=timeout_s, stream=True)
        data = response.raw.read(MAX_BYTES + 1, decode_content=True)
    except requests.RequestException as exc:
        raise TemporaryFailure(f"document {path} not fetched from {service}: {exc}") from None
    if response.status_code != 200 or len(data) > MAX_BYTES:
        raise TemporaryFailure(f"document {path} not fetched from {service}: HTTP {response.status_code}")
    return data
