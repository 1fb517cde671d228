"""Shared library of the TĐKT services.

Everything every service needs exactly once: settings from the environment, CloudEvents on
Kafka, the outbox and its relay, the consumer runner with dead letters, the Flask app factory
with problem+json errors, auth, health, metrics, pagination and idempotency, and Vietnamese text
folding. Nothing here connects to a server at import time.
"""
