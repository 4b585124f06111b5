"""schemathesis against docs/openapi.json on the local stack: every operation of the spec, generated inputs (valid
and invalid), through the real HTTP API, authorizer and function. No 5xx, and every response is one the spec
documents (status code, content type, body schema). Without a token every operation is the authorizer's 401.

25 examples per operation in make test, 500 in make test-heavy (the heavy-marked variant)."""

from __future__ import annotations

import time
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.schemas import APIOperation, BaseSchema
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from vidsense_local.auth import issue_token, load_or_create_key
from vidsense_local.demo import ApiClient, StackEndpoints
from vidsense_local.paths import REPO_ROOT

from .support import MEDIA, PIPELINE_TIMEOUT, email, new_project

pytestmark = pytest.mark.e2e

SPEC = REPO_ROOT / "docs" / "openapi.json"
EXAMPLES = 25  # per operation in make test
HEAVY_EXAMPLES = 500  # per operation in make test-heavy
REVIEWER_GROUP = "reviewers"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
TIMEOUT = 120

schema = schemathesis.openapi.from_path(SPEC)
# The bearer token comes from the stack's issuer, not from generated security parameters.
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], with_security_parameters=False
)
fuzz_settings = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def auth_headers(stack: StackEndpoints) -> dict[str, str]:
    """A verified person who is also a reviewer, so the listing's 200 is reachable too."""
    key = load_or_create_key(stack.state_dir)
    token = issue_token(key, email("fuzz"), groups=[REVIEWER_GROUP], issuer=stack.issuer, audience=stack.audience)
    return {"Authorization": f"Bearer {token}"}


def operations(spec: BaseSchema) -> dict[str, APIOperation]:
    found: dict[str, APIOperation] = {}
    for result in spec.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        found[result.ok().label] = result.ok()
    return found


def cases(operation: APIOperation, modes: list[GenerationMode]) -> st.SearchStrategy[Case]:
    return st.one_of(*(operation.as_strategy(generation_mode=mode) for mode in modes))


# One pytest item per operation, each with its own id: `schema.parametrize()` gave all four operations the same node
# id, and xdist's scope scheduling ran one of them (the selection guard in tests/conftest.py now fails such a run).
OPERATIONS = operations(schema)
BOTH_MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]


def fuzz(operation: APIOperation, examples: int, stack: StackEndpoints, headers: dict[str, str]) -> None:
    @given(case=cases(operation, BOTH_MODES))
    @settings(fuzz_settings, max_examples=examples)
    def answers_as_documented(case: Case) -> None:
        case.call_and_validate(base_url=stack.api_url, headers=headers, checks=CHECKS, timeout=TIMEOUT)

    answers_as_documented()


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_every_operation_answers_as_documented(label: str, stack: StackEndpoints, auth_headers: dict[str, str]) -> None:
    fuzz(OPERATIONS[label], EXAMPLES, stack, auth_headers)


@pytest.mark.heavy
@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_every_operation_answers_as_documented_at_length(
    label: str, stack: StackEndpoints, auth_headers: dict[str, str]
) -> None:
    fuzz(OPERATIONS[label], HEAVY_EXAMPLES, stack, auth_headers)


# Valid parameters only: a path that matches no route is the gateway's 404 before any authorizer runs; and no
# generated Authorization header (the point is its absence).
routable = schemathesis.openapi.from_path(SPEC)
routable.config.generation.update(modes=[GenerationMode.POSITIVE], with_security_parameters=False)
ROUTABLE = operations(routable)


@pytest.mark.parametrize("label", sorted(ROUTABLE))
def test_every_operation_without_a_token_is_401(label: str, stack: StackEndpoints) -> None:
    @given(case=cases(ROUTABLE[label], [GenerationMode.POSITIVE]))
    @settings(fuzz_settings, max_examples=min(EXAMPLES, 10))
    def refused(case: Case) -> None:
        # Whatever the parameters, the authorizer refuses before the function sees the request.
        response = case.call(base_url=stack.api_url, timeout=TIMEOUT)
        assert "Authorization" not in response.request.headers
        assert response.status_code == 401, response.text
        assert response.json() == {"message": "Unauthorized"}
        case.validate_response(response, checks=[status_code_conformance, content_type_conformance])

    refused()


DOCUMENTED = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
FINAL = {"ANALYZED", "NO_SPEECH", "FAILED"}
SILENT = MEDIA / "silent.webm"


def test_one_answers_life_is_answered_as_documented(stack: StackEndpoints) -> None:
    """Generated inputs rarely meet a real answer: one silent clip's life, every response checked against the spec
    (own answer while it runs and when final, the reviewers' page with it, a second presign, and erasure)."""
    client = ApiClient(stack, email("life"), groups=[REVIEWER_GROUP])
    params = {"project": new_project("life"), "step": "7"}
    headers = {"Authorization": f"Bearer {client.token}"}
    operations = {(method.upper(), path) for path, item in schema.raw_schema["paths"].items() for method in item}

    def call(method: str, path: str, **query: str) -> Any:
        case = schema[path][method].Case(path_parameters=params, query=query)
        return case.call_and_validate(base_url=stack.api_url, headers=headers, checks=DOCUMENTED, timeout=TIMEOUT)

    own, presign = "/answers/{project}/{step}", "/presignedurl/{project}/{step}"
    listing = "/projects/{project}/steps/{step}/answers"
    assert call("GET", own).status_code == 404
    form = call("GET", presign)
    assert form.status_code == 200
    assert client.upload(form.json(), SILENT.read_bytes()).status_code == 204
    deadline = time.monotonic() + PIPELINE_TIMEOUT
    while (answer := call("GET", own)).status_code == 404 or answer.json()["status"] not in FINAL:
        assert time.monotonic() < deadline, answer.text
        time.sleep(0.5)
    page = call("GET", listing, limit="1")
    assert page.status_code == 200 and len(page.json()["items"]) == 1
    if answer.json()["status"] != "FAILED":
        assert call("GET", presign).status_code == 403
    if ("DELETE", own) in operations:
        assert call("DELETE", own).status_code == 202
        assert call("GET", own).status_code in {200, 404}
