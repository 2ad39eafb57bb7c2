"""schemathesis against the OpenAPI document `python -m adapter serve` publishes at /swagger.json: generated
requests for every documented operation must get answers the document describes, no server error the script did not
flag (`x-ms-run-function-failed: True`), and no traceback in any body."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks
from targets import Serve, script_env

FAILED_HEADER = "x-ms-run-function-failed"

#: Checks that do not apply to this server, each for a reason the README or the host gives.
NOT_APPLICABLE = [
    checks.not_a_server_error,  # replaced by `only_flagged_server_errors`: a 500 the script caused is allowed
    checks.ignored_auth,  # the host enforces the documented Functions keys on Azure; serve, like func start, does not
    checks.unsupported_method,  # undocumented methods get the host's empty 404 (azure-functions-host#10098)
    checks.negative_data_rejection,  # as under azmlinfsrv, the input schema describes the script, it is not enforced
    # The document, like azmlinfsrv's, does not list run()'s parameters without a default as `required`, so `{}`
    # looks valid; the 400 naming the missing parameter is azmlinfsrv's answer.
    checks.positive_data_acceptance,
]
#: The health probe answers text/html, as azmlinfsrv's does, while the document (azmlinfsrv's, copied) says JSON.
HEALTH_EXCEPTIONS = [checks.content_type_conformance]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    with Serve(script_env("schema_standard.py"), tmp_path_factory.mktemp("fuzz") / "serve.log") as target:
        yield target


@pytest.fixture(scope="module", params=["", "?version=3"], ids=["swagger-2", "openapi-3"])
def api(server: Serve, request: pytest.FixtureRequest) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{server.base}/swagger.json{request.param}")


@schemathesis.check
def only_flagged_server_errors(ctx: schemathesis.CheckContext, response: schemathesis.Response, case: object) -> None:
    if response.status_code >= 500:
        assert response.headers.get(FAILED_HEADER) == ["True"], f"unflagged {response.status_code}: {response.text}"


@schemathesis.check
def no_traceback(ctx: schemathesis.CheckContext, response: schemathesis.Response, case: object) -> None:
    assert "Traceback" not in response.text and 'File "' not in response.text, response.text


def test_answers_conform_to_the_document(api: schemathesis.BaseSchema) -> None:
    operations = [result.ok() for result in api.get_all_operations()]
    assert {op.label for op in operations} >= {"GET /", "POST /score"}
    for operation in operations:
        fuzz(operation, NOT_APPLICABLE + (HEALTH_EXCEPTIONS if operation.path == "/" else []))


def fuzz(operation: schemathesis.APIOperation, excluded: list[schemathesis.CheckFunction]) -> None:
    """Draw the operation's cases with hypothesis directly (schemathesis' lazy pytest loader needs an older pytest)."""

    @given(operation.as_strategy())
    @settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def conforms(case: schemathesis.Case) -> None:
        case.call_and_validate(excluded_checks=excluded, additional_checks=[only_flagged_server_errors, no_traceback])

    conforms()
