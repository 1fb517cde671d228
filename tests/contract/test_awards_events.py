"""What the awards service emits validates against the contract: the default catalogue loaded
and a second version activated, each CatalogueActivated checked in its wire form."""

from __future__ import annotations

import mongoengine
from tdkt.web.app import create_app
from tdkt_awards.bootstrap import SERVICE
from tdkt_awards.service_layer import catalogue

from .test_asyncapi import outbox_problems


def test_every_event_the_awards_service_writes_validates(service_env):
    app = create_app(SERVICE)
    try:
        with app.app_context():
            catalogue.seed_default("test")
            draft = catalogue.create_version(
                {
                    "issuer": "Ủy ban nhân dân xã Bình Lư",
                    "effective_from": "2026-01-01",
                    "legal_basis": {"number": "01/QĐ-UBND", "issuer": "UBND xã Bình Lư", "date": None},
                    "copy_from": "default-2025-07-01",
                },
                "test",
            )
            catalogue.activate(draft.id, "test", lambda d: None)
            problems, seen = outbox_problems(app.extensions["tdkt"].db, SERVICE.outbox_collections)
    finally:
        mongoengine.disconnect()
    assert not problems, "\n".join(problems)
    assert seen == {"vn.tdkt.awards.catalogue.activated.v1": 2}
