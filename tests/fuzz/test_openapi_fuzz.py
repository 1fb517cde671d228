"""Fuzz every operation of the four services from their own OpenAPI documents (schemathesis).

Each service's real app runs in-process over WSGI against the real store; schemathesis generates
requests from the committed `services/<name>/openapi.json`, valid and invalid (mode "all"), and
checks every answer: never a 5xx, a documented status code and content type, a body that matches
the documented schema, documented headers, invalid input refused with a 4xx, and no operation
that declares bearerAuth answering 2xx without it.

Two passes per service: with a token that holds every role (so the fuzzer gets past the role
checks to the handlers), and without one on a sample of valid cases (every protected operation
answers a documented 401, the public ones still answer as documented).

A third pass is stateful: scenarios that follow the links schemathesis infers between operations.

The schemas are loaded at import (one pytest item per operation) and the app is bound per call:
schemathesis' `pytest.from_fixture` would build the app from fixtures, but it fails on pytest 9.2
(it sets `Function._nodeid`, which pytest no longer has).

Reproduce a failure with the seed printed in the header: TDKT_FUZZ_SEED=… TDKT_FUZZ_EXAMPLES=…
"""

from __future__ import annotations

import hypothesis
import pytest
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .targets import EXAMPLES, SEEN, fuzz_config, load_schema

CONFORMANCE = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance, response_headers_conformance]
CHECKS = [*CONFORMANCE, negative_data_rejection, ignored_auth]

AUTHORISED = fuzz_config(mode="all", examples=EXAMPLES)
ANONYMOUS = fuzz_config(mode="positive", examples=max(1, EXAMPLES // 4))
STATEFUL = fuzz_config(mode="positive", examples=EXAMPLES)  # valid steps: a scenario must create before it can read
STATEFUL_STEPS = 6

pytestmark = pytest.mark.servers


def protected(case) -> bool:
    return bool(case.operation.definition.raw.get("security"))


def bind(case, target) -> None:
    """Point the (cloned) schema at this session's app, as `from_wsgi` would: checks that send
    requests of their own (ignored_auth's probes) use the schema's transport, not the call's."""
    case.operation.schema.app = target.app


def authorised(case, target) -> None:
    bind(case, target)
    headers = {"Authorization": f"Bearer {target.token}"} if protected(case) else None
    response = case.call_and_validate(app=target.app, headers=headers, checks=CHECKS)
    SEEN[(target.name, "authorised", case.operation.label)][response.status_code] += 1


def anonymous(case, target) -> None:
    bind(case, target)
    response = case.call_and_validate(app=target.app, checks=CONFORMANCE)
    SEEN[(target.name, "anonymous", case.operation.label)][response.status_code] += 1
    if protected(case):
        assert response.status_code == 401, (case.method, case.formatted_path, response.status_code)


@load_schema("registry", AUTHORISED).parametrize()
def test_registry_answers_as_documented(case, fuzz_targets):
    authorised(case, fuzz_targets.get("registry"))


@load_schema("registry", ANONYMOUS).parametrize()
def test_registry_without_a_token(case, fuzz_targets):
    anonymous(case, fuzz_targets.get("registry"))


@load_schema("reports", AUTHORISED).parametrize()
def test_reports_answers_as_documented(case, fuzz_targets):
    authorised(case, fuzz_targets.get("reports"))


@load_schema("reports", ANONYMOUS).parametrize()
def test_reports_without_a_token(case, fuzz_targets):
    anonymous(case, fuzz_targets.get("reports"))


@load_schema("awards", AUTHORISED).parametrize()
def test_awards_answers_as_documented(case, fuzz_targets):
    authorised(case, fuzz_targets.get("awards"))


@load_schema("awards", ANONYMOUS).parametrize()
def test_awards_without_a_token(case, fuzz_targets):
    anonymous(case, fuzz_targets.get("awards"))


@load_schema("notify", AUTHORISED).parametrize()
def test_notify_answers_as_documented(case, fuzz_targets):
    authorised(case, fuzz_targets.get("notify"))


@load_schema("notify", ANONYMOUS).parametrize()
def test_notify_without_a_token(case, fuzz_targets):
    anonymous(case, fuzz_targets.get("notify"))


@pytest.mark.parametrize("service", ["registry", "reports", "awards", "notify"])
def test_linked_operations_answer_as_documented(service, fuzz_targets):
    """Stateful: schemathesis links operations by what one returns and another takes (its
    dependency analysis: POST /units gives an `id`, GET /units/{unit_id} takes one), so a
    scenario creates a resource and then reads, changes or acts on it: the handlers past the
    404 a random id meets."""
    target = fuzz_targets.get(service)
    schema = load_schema(service, STATEFUL)
    schema.app = target.app
    machine = schema.as_state_machine()
    links = [
        link
        for path in schema.raw_schema["paths"].values()
        for op in path.values()
        if isinstance(op, dict)
        for r in op.get("responses", {}).values()
        for link in r.get("links", {})
    ]
    assert links, "dependency analysis found no links: the scenarios would be single requests"

    class Scenario(machine):
        def get_call_kwargs(self, case):
            return {"app": target.app, "headers": {"Authorization": f"Bearer {target.token}"} if protected(case) else None}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            SEEN[(service, "stateful", case.operation.label)][response.status_code] += 1
            case.validate_response(response, checks=CONFORMANCE, headers=kwargs.get("headers"), transport_kwargs=kwargs)

    Scenario.run(
        settings=hypothesis.settings(
            max_examples=EXAMPLES, stateful_step_count=STATEFUL_STEPS, derandomize=True, deadline=None, database=None, suppress_health_check=list(hypothesis.HealthCheck)
        )
    )
