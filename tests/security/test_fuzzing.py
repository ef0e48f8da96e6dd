"""schemathesis against every service's OpenAPI document, on the running platform, with a valid
admin token:

- valid requests (positive data) and invalid ones (negative data) for every operation: no
  server error (5xx), and every answer is one the document declares — its status, its media
  type and its body's schema; invalid data is refused (4xx);
- stateful sequences that follow the links schemathesis infers between operations (a POST's
  ids fed to the GETs and writes that take them), with the same checks and the stateful ones
  (a resource just created is found; a deleted one is gone).

Not checked: ``positive_data_acceptance`` (a schema-valid request may still be refused by a
domain rule, an unknown id, or the caller's scope: 404, 409, 422 are right answers to it) and
``ignored_auth`` (tests/security/test_route_access.py calls every route without a token).

``FURSA_FUZZ_EXAMPLES`` is the budget: examples per operation and mode, and state-machine
scenarios per service.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Flaky
from schemathesis import Case, GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    ensure_resource_availability,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)
from schemathesis.core.failures import FailureGroup
from schemathesis.core.transport import Response

from fursa.shared.auth import dev_authorization
from tests.reliability.flow import SERVICES
from tests.security.conftest import Seeded, seeded_platform

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

EXAMPLES = int(os.environ.get("FURSA_FUZZ_EXAMPLES", "25"))

CONFORMANCE: list[Callable[..., Any]] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
CHECKS = {
    GenerationMode.POSITIVE: CONFORMANCE,
    GenerationMode.NEGATIVE: [*CONFORMANCE, negative_data_rejection],
}
# Sequences mix valid and invalid requests, as schemathesis' own stateful phase does.
STATEFUL_CHECKS = [
    *CONFORMANCE,
    negative_data_rejection,
    ensure_resource_availability,
    use_after_free,
]


def hypothesis_settings(**overrides: Any) -> settings:
    chosen: dict[str, Any] = {
        "deadline": None,
        "derandomize": True,
        "database": None,
        "suppress_health_check": list(HealthCheck),
    }
    return settings(**(chosen | overrides))


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    """One keep-alive session for every request of the module (a connection per request would
    cost more than the service's answer)."""
    with requests.Session() as opened:
        yield opened


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """The fuzzing's own seeded platform: its linked sequences revoke, withdraw and erase what
    they find, which the other security suites' seeded records must not suffer."""
    yield from seeded_platform(tmp_path_factory)


def openapi_of(seeded: Seeded, service: str) -> Any:
    schema = schemathesis.openapi.from_url(f"{seeded.platform.url(service)}/openapi.json")
    # Every request carries the admin token (the ``headers`` below): the bearer header is not
    # generated data, so negative cases never "remove" it only to have the token put back.
    schema.config.generation.update(with_security_parameters=False)
    return schema


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
@pytest.mark.parametrize("service", SERVICES)
def test_generated_requests_get_declared_answers(
    seeded: Seeded, service: str, mode: GenerationMode, session: requests.Session
) -> None:
    schema = openapi_of(seeded, service)
    headers = dev_authorization()
    operations = [result.ok() for result in schema.get_all_operations()]
    if mode is GenerationMode.NEGATIVE:
        # An operation without parameters or body has nothing to make invalid.
        operations = [
            operation
            for operation in operations
            if operation.definition.raw.get("parameters")
            or operation.definition.raw.get("requestBody")
        ]
    assert operations
    failures: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @hypothesis_settings(max_examples=EXAMPLES)
        def answers_as_declared(case: Case) -> None:
            case.call_and_validate(session=session, headers=headers, checks=CHECKS[mode])

        try:
            answers_as_declared()
        except Exception as exc:  # every operation's failure is reported, not only the first
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("service", SERVICES)
def test_linked_sequences_get_declared_answers(
    seeded: Seeded, service: str, session: requests.Session
) -> None:
    schema = openapi_of(seeded, service)
    headers = dev_authorization()
    workflow = schema.as_state_machine()
    assert schema.statistic.transitions.total > 0, f"{service}: no links to follow"
    failures: list[str] = []
    scenarios = 0

    class Sequences(workflow):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Case) -> dict[str, Any]:
            return {"session": session, "headers": headers}

        def validate_response(
            self, response: Response, case: Case, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            try:
                case.validate_response(
                    response,
                    checks=STATEFUL_CHECKS,
                    headers=headers,
                    transport_kwargs=kwargs,
                    recorder=self.recorder,
                )
            except FailureGroup as exc:
                failures.append(str(exc))  # kept here: a replay may not meet it again
                raise

        def teardown(self) -> None:
            nonlocal scenarios
            scenarios += 1
            super().teardown()

    # As schemathesis' own stateful phase: generation only, and a run that Hypothesis stops as
    # flaky goes on in a new run. A sequence depends on the server's state, which earlier
    # sequences changed (a name now taken, a resource now gone), so the same draws can meet
    # other answers; that is not a failure of the API, a failed check is.
    for attempt in range(5):
        try:
            Sequences.run(
                settings=hypothesis_settings(
                    max_examples=EXAMPLES - scenarios,
                    stateful_step_count=6,
                    phases=[Phase.generate],
                    derandomize=attempt == 0,
                )
            )
        except Flaky:
            if failures or scenarios >= EXAMPLES:
                break
        else:
            break
    assert not failures, "\n\n".join(failures)
    assert scenarios > 0
