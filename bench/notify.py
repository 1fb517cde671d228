"""Notify fan-out: N ReportAccepted events (default 10,000) for units drawn from 3,000, each routed to
the unit's email and inbox and to one webhook subscriber, then sent by the dispatcher's workers to
a real SMTP server (aiosmtpd) and a real HTTP receiver, both in this process.

Baselines, measured in the same run against the same servers: plain `smtplib` sending one message
per connection in a loop of the same concurrency, and plain `http.client` POSTs likewise — the
cost of the transport alone. The ratios say what notify's bookkeeping (intent, claim, committing,
outcome: four store writes per delivery on FerretDB) costs on top.

    uv run python -m bench.notify [--events 10000] [--units 3000] [--workers 16]
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import resource
import smtplib
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from pathlib import Path

from tdkt.events.consumer import HandlerContext
from tdkt.events.envelope import Event, EventType
from tdkt.settings import MongoSettings
from tdkt.store import connect_store

from bench.common import bench_servers, record, row


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def baseline_smtp(host: str, port: int, count: int, workers: int) -> float:
    def send(i: int) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "bench@tdkt.local", f"u{i}@example.vn", f"Nhắc hạn nộp báo cáo {i}"
        message.set_content("Kính gửi đơn vị, báo cáo kỳ này đến hạn.")
        with smtplib.SMTP(host, port) as smtp:
            smtp.send_message(message)

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(send, range(count)))
    return count / (time.perf_counter() - started)


def baseline_http(port: int, count: int, workers: int, secret: str) -> float:
    from tdkt import signing

    def post(i: int) -> None:
        body = b'{"n": %d}' % i
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("POST", "/baseline", body=body, headers={"Content-Type": "application/json", **signing.headers(secret, f"b{i}", body)})
        connection.getresponse().read()
        connection.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(post, range(count)))
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--units", type=int, default=3_000)
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args()
    rnd = random.Random(20261129)

    from tdkt_localstack.mailcatcher import start_catcher
    from tdkt_localstack.pytest_plugin import WebhookReceiver

    with bench_servers() as (bootstrap, mongo_uri), WebhookReceiver() as receiver:
        catcher = start_catcher(Path(tempfile.mkdtemp()) / "Maildir")
        os.environ |= {"SMTP_HOST": catcher.host, "SMTP_PORT": str(catcher.port), "SMTP_STARTTLS": "false", "TDKT_ENV": "test", "NOTIFY_DISPATCH_WORKERS": str(args.workers)}
        from tdkt_notify import settings as notify_settings
        from tdkt_notify.adapters.mailer import Mailer, load_smtp_settings
        from tdkt_notify.service_layer import config, intake
        from tdkt_notify.service_layer.dispatch import Channels, Dispatcher

        notify_settings.current.cache_clear()
        name = f"bench_notify_{os.getpid()}"
        db = connect_store(MongoSettings(mongo_uri, name, 5000))
        try:
            rss_start = rss_mb()
            config.seed_routes(db)
            db[config.SUBSCRIPTIONS].insert_one(
                {
                    "_id": "bench-hook",
                    "owner": "unit:u0",
                    "channel": "webhook",
                    "event_types": ["*"],
                    "url": receiver.url("/hook"),
                    "scope": "all",
                    "secret": receiver.secret,
                    "active": True,
                }
            )
            config.bump(db)
            print(f"{args.units:,} units with an address …", flush=True)
            db[intake.UNITS].insert_many([{"_id": f"u{i}", "seq": 1, "name": f"Đơn vị {i}", "contacts": {"email": f"u{i}@example.vn"}} for i in range(args.units)])

            print(f"{args.events:,} events through intake …", flush=True)
            started = time.perf_counter()
            for i in range(args.events):
                unit = f"u{rnd.randrange(args.units)}"
                report = {
                    "id": f"mv.{unit}.{i}",
                    "unit_id": unit,
                    "period": f"p{i}",
                    "due": "2026-12-25",
                    "movement_id": "mv",
                    "kind": "interim",
                    "state": "accepted",
                    "version": 1,
                    "late": False,
                }
                event = Event.new(EventType("vn.tdkt.reports.report.accepted.v1", "reports.reports.v1"), source="/bench", subject=report["id"], data={"report": report}, sequence=1)
                intake.on_event(event, HandlerContext(db=db, data={"report": report}, attempt=1))
            intake_s = time.perf_counter() - started
            rss_intake = rss_mb()

            print(f"dispatching {2 * args.events:,} deliveries with {args.workers} workers …", flush=True)
            dispatcher = Dispatcher(db, Channels(mailer=Mailer(load_smtp_settings())), workers=args.workers)
            started = time.perf_counter()
            dispatcher.drain(timeout=3600)
            dispatch_s = time.perf_counter() - started
            dispatcher.pool.shutdown(wait=True)
            sent = {c: db[intake.DELIVERIES].count_documents({"channel": c, "state": "sent"}) for c in ("email", "webhook")}
            rss_end = rss_mb()

            sample = min(1000, args.events)
            print(f"baselines: {sample:,} plain SMTP messages and webhook POSTs …", flush=True)
            smtp_rate = baseline_smtp(catcher.host, catcher.port, sample, args.workers)
            http_rate = baseline_http(receiver.port, sample, args.workers, receiver.secret)
        finally:
            db.client.drop_database(name)
            catcher.stop()

    total = sent["email"] + sent["webhook"]
    per_channel_s = dispatch_s  # both channels share the workers and the wall time
    rows = [
        row(f"notify: intake, {args.events:,} events → email + inbox + webhook intents", args.events / intake_s, "events/s"),
        row(f"notify: emails sent ({sent['email']:,}), with bookkeeping", sent["email"] / per_channel_s, "emails/s", smtp_rate),
        row(f"notify: webhooks delivered ({sent['webhook']:,}), signed, with bookkeeping", sent["webhook"] / per_channel_s, "deliveries/s", http_rate),
        row("notify: all deliveries", total / dispatch_s, "deliveries/s", smtp_rate),
        row("notify: RSS at start", rss_start, "MB"),
        row("notify: RSS after intake", rss_intake, "MB", rss_start),
        row("notify: RSS after dispatch (peak)", rss_end, "MB", rss_start),
    ]
    record(rows, "notify")
    print("baselines: plain smtplib (a connection per message) and plain http.client POSTs, same concurrency, same servers; RSS against the start")


if __name__ == "__main__":
    main()
