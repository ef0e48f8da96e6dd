"""schemathesis against every service's OpenAPI document: whatever it sends, with a valid admin
token, no route answers with a server error (5xx)."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import Case
from schemathesis.checks import not_a_server_error

from fursa.shared.auth import dev_authorization
from tests.reliability.flow import SERVICES
from tests.security.conftest import Seeded

EXAMPLES = int(os.environ.get("FURSA_FUZZ_EXAMPLES", "25"))


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("service", SERVICES)
def test_no_generated_request_gets_a_server_error(seeded: Seeded, service: str) -> None:
    schema = schemathesis.openapi.from_url(f"{seeded.platform.url(service)}/openapi.json")
    headers = dev_authorization()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def answers_without_server_error(case: Case) -> None:
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        answers_without_server_error()
