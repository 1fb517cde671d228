"""How the outside world reaches the notify service: the WSGI app (HTTP API); the consumer and
the outbox relay run from the shared runtime (`python -m tdkt_notify consumer|relay`)."""
