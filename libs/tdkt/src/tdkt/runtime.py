"""Process entrypoints shared by the services: `python -m tdkt_<service> api|consumer|relay`.

Each refuses to start with a one-sentence reason and exit status 2 when its configuration is
wrong or the store or broker does not answer, instead of a stack trace or a silent hang; and
each stops cleanly on SIGTERM or Ctrl-C (finishing the batch in hand, committing nothing
half-done).
"""

from __future__ import annotations

import os
import signal
import sys
import threading

from tdkt.events.consumer import ConsumerRunner
from tdkt.events.kafka import BrokerUnreachable, make_admin, make_consumer, make_producer
from tdkt.events.relay import OutboxRelay
from tdkt.events.topics import ensure_topics
from tdkt.housekeeping import sweep_expired
from tdkt.logs import configure_logging, get_logger
from tdkt.scheduler import Scheduler
from tdkt.service import ServiceDefinition
from tdkt.settings import Settings, SettingsError, load_settings
from tdkt.store import StoreUnreachable, check_store, connect_store

USAGE = "usage: python -m tdkt_{service} api|consumer|relay|topics"


class StartupError(Exception):
    pass


def main(service: ServiceDefinition, argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = argv[0] if argv else ""
    runners = {"api": run_api, "consumer": run_consumer, "relay": run_relay, "topics": run_topics}
    if command not in runners:
        print(USAGE.format(service=service.name), file=sys.stderr)
        return 2
    try:
        return runners[command](service) or 0
    except (SettingsError, StoreUnreachable, BrokerUnreachable, StartupError) as exc:
        print(f"tdkt-{service.name} {command}: cannot start: {exc}", file=sys.stderr)
        return 2


def _prepare(service: ServiceDefinition) -> Settings:
    settings = load_settings(service.name)
    configure_logging(service.name, settings.log_level, settings.log_format)
    return settings


def run_api(service: ServiceDefinition) -> int:
    """Replace this process with gunicorn running the service's app factory."""
    load_settings(service.name)  # refuse here, with the variable named, rather than in a worker
    app = f"tdkt_{service.name}.entrypoints.wsgi:create_app()"
    os.execvp(sys.executable, [sys.executable, "-m", "gunicorn", "--config", "python:tdkt.gunicorn_conf", app])
    return 0  # not reached


def _create_topics(service: ServiceDefinition, settings: Settings) -> list[str]:
    admin = make_admin(settings.kafka)
    try:
        return ensure_topics(admin, list(service.topics), settings.kafka.topic_partitions)
    finally:
        admin.close()


def _store(settings: Settings):
    db = connect_store(settings.mongo)
    check_store(db, settings.mongo.uri)
    return db


def run_topics(service: ServiceDefinition) -> int:
    created = _create_topics(service, _prepare(service))
    print(f"{service.name}: topics created: {', '.join(created) or 'none (all existed)'}")
    return 0


def run_relay(service: ServiceDefinition) -> int:
    settings = _prepare(service)
    log = get_logger("tdkt.relay")
    jobs = service.periodic_jobs()  # first: a job's bad setting refuses the start (SettingsError)
    db = _store(settings)
    _create_topics(service, settings)
    producer = make_producer(settings.kafka)
    relay = OutboxRelay(db, producer, list(service.outbox_collections), settings.relay, name=f"{service.name}-outbox-relay", housekeeping=lambda: sweep_expired(db))
    # The service's periodic jobs share this process: it runs on every deployment already, and
    # whatever the jobs record in outboxes is published by the relay beside them.
    # A job's lease lives as long as the relay's (OUTBOX_LEASE_TTL_S): a replica killed while
    # holding one is replaced after that long, whichever it held.
    scheduler = Scheduler(db, jobs, name=f"{service.name}-scheduler", lease_ttl_s=float(settings.relay.lease_ttl_s))
    _on_stop_signal(relay.stop)
    if not service.outbox_collections:
        log.info("this service publishes no events yet; the relay idles until one is declared")
    scheduler.start()
    try:
        relay.run()
    finally:
        scheduler.stop()
        producer.close(timeout=10)
    return 0


def run_consumer(service: ServiceDefinition) -> int:
    settings = _prepare(service)
    log = get_logger("tdkt.consumer")
    db = _store(settings)
    subscriptions = service.subscriptions()
    if not subscriptions:
        # Nothing to consume yet: stay up (so the process layout is the same for every service)
        # but do not join a consumer group with no topics.
        log.info("this service consumes no events yet; the consumer idles")
        stopped = threading.Event()
        _on_stop_signal(stopped.set)
        while not stopped.wait(1.0):
            pass
        return 0
    producer = make_producer(settings.kafka)  # for dead letters
    consumer = make_consumer(
        settings.kafka,
        settings.consumer.group_id,
        max_poll_records=settings.consumer.max_poll_records,
        max_poll_interval_ms=settings.consumer.max_poll_interval_ms,
    )
    runner = ConsumerRunner(db, consumer, producer, settings.consumer.group_id, subscriptions, settings.consumer)
    _on_stop_signal(runner.stop)
    try:
        runner.run()
    finally:
        producer.close(timeout=10)
    return 0


def _on_stop_signal(callback) -> None:
    def handler(signum, _frame):
        get_logger("tdkt.runtime").info("stop signal received; finishing the work in hand", signal=signal.Signals(signum).name)
        callback()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
