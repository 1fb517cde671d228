"""Errors the domain raises, in the users' terms; the web layer turns each into a problem.

The domain never imports Flask: it raises `Invalid` (a field's value breaks a rule → 422 naming
the field), `Conflict` (the request is well-formed but the current state forbids it → 409),
`NotFound` (→ 404) or `Busy` (another writer holds the resource → 503 with Retry-After).
Messages are "Vietnamese / English", as every message users see.
"""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    slug = "bad-request"

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = details


class Invalid(DomainError):
    """One or more fields break a rule; `errors` maps each field (dotted path) to its messages."""

    status = 422
    slug = "validation"

    def __init__(self, field: str, message: str, location: str = "json"):
        super().__init__(message, field=field)
        self.errors = {location: {field: [message]}}


class Conflict(DomainError):
    status = 409
    slug = "conflict"


class NotFound(DomainError):
    status = 404
    slug = "not-found"


class Busy(DomainError):
    status = 503
    slug = "busy"
