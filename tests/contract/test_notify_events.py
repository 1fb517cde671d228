"""What the notify service emits validates against the contract: a webhook refused for good and
an email interrupted mid-SMTP become DeliveryDead (dead, uncertain), each checked in its wire form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import mongoengine
from tdkt.events.consumer import HandlerContext
from tdkt.events.envelope import Event, EventType
from tdkt.web.app import create_app
from tdkt_notify.adapters.mailer import Mailer, load_smtp_settings
from tdkt_notify.bootstrap import SERVICE
from tdkt_notify.service_layer import config, intake
from tdkt_notify.service_layer.dispatch import Channels, Dispatcher

from .test_asyncapi import outbox_problems


def test_dead_deliveries_validate(service_env, as_role, webhook_receiver):
    app = create_app(SERVICE)
    client = app.test_client()
    try:
        with app.app_context():
            db = app.extensions["tdkt"].db
            config.seed_routes(db)
            unit = Event.new(EventType("vn.tdkt.registry.unit.established.v1", "registry.units.v1"), source="/registry", subject="u1", data={}, sequence=1)
            intake.on_unit(unit, HandlerContext(db=db, data={"unit": {"name": "Xã Bình Lư", "contacts": {"email": "binhlu@example.vn"}}}, attempt=1))
            hook = {"owner": "unit", "unit_id": "u1", "channel": "webhook", "url": webhook_receiver.url("/hook"), "scope": "all"}
            assert client.post("/api/v1/subscriptions", json=hook, headers=as_role("tdkt_officer")).status_code == 201
            webhook_receiver.respond("/hook", [410])
            report = {
                "id": "mv.u1.2026-11",
                "movement_id": "mv",
                "unit_id": "u1",
                "period": "2026-11",
                "kind": "interim",
                "due": "2026-11-25",
                "state": "accepted",
                "version": 1,
                "late": False,
            }
            event = Event.new(EventType("vn.tdkt.reports.report.accepted.v1", "reports.reports.v1"), source="/reports", subject=report["id"], data={"report": report}, sequence=2)
            intake.on_event(event, HandlerContext(db=db, data={"report": report}, attempt=1))
            email = f"{event.id}:unit:u1:email"
            db[intake.DELIVERIES].update_one({"_id": email}, {"$set": {"state": "committing"}})  # as a dispatcher killed during DATA leaves it
            db[intake.QUEUE].update_one({"_id": email}, {"$set": {"claimed_until": datetime.now(UTC) - timedelta(seconds=1)}})
            dispatcher = Dispatcher(db, Channels(mailer=Mailer(load_smtp_settings())), workers=2)
            dispatcher.drain()
            dispatcher.pool.shutdown(wait=True)
        problems, seen = outbox_problems(db, SERVICE.outbox_collections)
    finally:
        mongoengine.disconnect()
    assert not problems, "\n".join(problems)
    assert seen == {"vn.tdkt.notify.delivery.dead.v1": 2}
