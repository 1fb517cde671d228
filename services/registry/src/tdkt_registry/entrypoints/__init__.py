"""How the outside world reaches the registry service: the WSGI app (HTTP API); the consumer and
the outbox relay run from the shared runtime (`python -m tdkt_registry consumer|relay`)."""
