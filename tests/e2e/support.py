"""Helpers for e2e tests on the session's stack (fixtures are in conftest.py: ``running``, ``stack``, ``manifest``,
``faults``). Every test makes its own people and projects, so tests never depend on a fresh stack."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3

from vidsense_local.auth.state import REPO_ROOT
from vidsense_local.demo import ApiClient, StackEndpoints, answer_id_from_key
from vidsense_local.stack import aws_environment

MEDIA = REPO_ROOT / "tests" / "fixtures" / "media"
# Upload to stored result of a few short answers: under a minute idle; at load average 25 four answers took over
# 4 minutes. VIDSENSE_E2E_PIPELINE_TIMEOUT moves it (as VIDSENSE_E2E_START_TIMEOUT moves the stack start).
PIPELINE_TIMEOUT = float(os.environ.get("VIDSENSE_E2E_PIPELINE_TIMEOUT", "240"))


def email(prefix: str = "e2e") -> str:
    """A person nobody else uses (the user key, hence the answer's key, derives from the email)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


def new_project(prefix: str = "e2e") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Submitted:
    """An answer uploaded through the API as a browser does it: presign, then the form POST."""

    client: ApiClient
    project: str
    step: str
    answer_id: str
    key: str
    file: str

    def wait_final(self, timeout: float = PIPELINE_TIMEOUT) -> dict[str, Any]:
        return self.client.wait_final(self.project, self.step, timeout)


def submit(stack: StackEndpoints, project: str, step: str, file: str, client: ApiClient | None = None) -> Submitted:
    """Presign and upload ``file`` (from tests/fixtures/media), as ``client`` or a new person."""
    client = client or ApiClient(stack, email())
    presigned = client.presign(project, step)
    assert presigned.status_code == 200, f"presign {project}/{step}: {presigned.status_code} {presigned.text}"
    body = presigned.json()
    upload = client.upload(body, (MEDIA / file).read_bytes())
    assert upload.status_code < 300, f"upload {body['key']}: {upload.status_code} {upload.text}"
    return Submitted(client, project, step, answer_id_from_key(body["key"]), body["key"], file)


def _local_aws(stack: StackEndpoints) -> dict[str, str]:
    """boto3 arguments for the stack's local AWS, with its fake credentials (the test process may have none)."""
    env = aws_environment(stack.aws_url)
    return {
        "endpoint_url": env["AWS_ENDPOINT_URL"],
        "region_name": env["AWS_REGION"],
        "aws_access_key_id": env["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"],
    }


def aws_client(stack: StackEndpoints, service: str) -> Any:
    return boto3.client(service, **_local_aws(stack))  # type: ignore[call-overload]


def aws_resource(stack: StackEndpoints, service: str) -> Any:
    return boto3.resource(service, **_local_aws(stack))  # type: ignore[call-overload]


def poll[T](check: Callable[[], T | None], timeout: float, what: str, interval: float = 0.5) -> T:
    """``check()`` until it returns something truthy; fails with its last AssertionError after the deadline."""
    deadline = time.monotonic() + timeout
    last: AssertionError | None = None
    while True:
        try:
            result = check()
        except AssertionError as exc:
            last = exc
        else:
            if result:
                return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s ({last})")
        time.sleep(interval)
