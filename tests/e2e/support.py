"""Helpers for e2e tests on the session's stack (fixtures are in conftest.py: ``running``, ``stack``, ``manifest``,
``faults``): uploads as a browser makes them, boto3 at the stack's local AWS, the real ``vidsense`` CLI, the stack's
functions.log, and polling with a deadline. Every test makes its own people and projects, so tests never depend on
a fresh stack."""

from __future__ import annotations

import json
import os
import subprocess
import time
import tomllib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from boto3.dynamodb.conditions import Attr
from botocore.config import Config

from vidsense_local.clients import aws_environment, local_client, local_resource
from vidsense_local.demo import ApiClient, StackEndpoints, answer_id_from_key
from vidsense_local.paths import REPO_ROOT
from vidsense_shared.resources import LOCAL_STAGE, StageResources

MEDIA = REPO_ROOT / "tests" / "fixtures" / "media"
# Upload to stored result of a few short answers: under a minute idle; at load average 25 four answers took over
# 4 minutes. VIDSENSE_E2E_PIPELINE_TIMEOUT moves it (as VIDSENSE_E2E_START_TIMEOUT moves the stack start).
PIPELINE_TIMEOUT = float(os.environ.get("VIDSENSE_E2E_PIPELINE_TIMEOUT", "240"))
VIDSENSE = REPO_ROOT / ".venv" / "bin" / "vidsense"
LOCAL = StageResources(LOCAL_STAGE)
TABLES = {"answers": LOCAL.answers_table, "jobs": LOCAL.transcode_jobs_table, "metadata": LOCAL.metadata_table}


def email(prefix: str = "e2e") -> str:
    """A person nobody else uses (the local token's sub, hence the user key and the answer's key, derive from it)."""
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


def aws_client(stack: StackEndpoints, service: str, config: Config | None = None) -> Any:
    """A client of the stack's local AWS, with its fake credentials (the test process may have none)."""
    env = aws_environment(stack.aws_url)
    return local_client(service, env["AWS_ENDPOINT_URL"], env["AWS_REGION"], retries=4, config=config)


def aws_resource(stack: StackEndpoints, service: str) -> Any:
    env = aws_environment(stack.aws_url)
    return local_resource(service, env["AWS_ENDPOINT_URL"], env["AWS_REGION"], retries=4)


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


def _source_path() -> str:
    """This checkout's source folders (the pytest pythonpath): .venv's editable install may point at another copy."""
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    return os.pathsep.join(str(REPO_ROOT / p) for p in config["tool"]["pytest"]["ini_options"]["pythonpath"])


def vidsense(stack: StackEndpoints, *args: str, timeout: float = 300.0) -> subprocess.CompletedProcess[str]:
    """The real CLI (.venv's console script: the operator commands and the local stack's), running this checkout's
    code, pointed at the test stack's endpoint as an operator would point it at AWS."""
    env = {**os.environ, **aws_environment(stack.aws_url), "PYTHONPATH": _source_path()}
    return subprocess.run([str(VIDSENSE), *args], env=env, capture_output=True, text=True, timeout=timeout, check=False)


def items_of(stack: StackEndpoints, table: str, project: str) -> dict[str, dict[str, Any]]:
    """Items of ``project`` keyed by their hash key (answer_id or job_key)."""
    dynamodb = aws_resource(stack, "dynamodb")
    found: dict[str, dict[str, Any]] = {}
    kwargs: dict[str, Any] = {"FilterExpression": Attr("answer_id").begins_with(f"{project}/"), "ConsistentRead": True}
    while True:
        page = dynamodb.Table(TABLES[table]).scan(**kwargs)
        for item in page["Items"]:
            found[str(item.get("job_key") or item["answer_id"])] = item
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def mediaconvert_jobs(stack: StackEndpoints, project: str) -> list[str]:
    client = aws_client(stack, "mediaconvert")
    ids: list[str] = []
    for page in client.get_paginator("list_jobs").paginate():
        ids += [j["Id"] for j in page.get("Jobs", []) if j.get("UserMetadata", {}).get("project") == project]
    return sorted(ids)


def transcription_jobs(stack: StackEndpoints, project: str) -> list[str]:
    client = aws_client(stack, "transcribe")
    names: list[str] = []
    kwargs: dict[str, Any] = {"JobNameContains": f".{project}."}
    while True:
        page = client.list_transcription_jobs(**kwargs)
        names += [j["TranscriptionJobName"] for j in page.get("TranscriptionJobSummaries", [])]
        if not page.get("NextToken"):
            return sorted(names)
        kwargs["NextToken"] = page["NextToken"]


@dataclass(frozen=True)
class LogLine:
    function: str
    record: dict[str, Any]


def function_log(stack: StackEndpoints) -> Iterator[LogLine]:
    """The stack's functions.log: ``<function name> <line>``, the JSON lines of Powertools' logger parsed."""
    assert stack.state_dir is not None
    path = Path(stack.state_dir) / "functions.log"
    for line in path.read_text(errors="replace").splitlines():
        function, _, text = line.partition(" ")
        if text.startswith("{"):
            try:
                yield LogLine(function, json.loads(text))
            except ValueError:
                continue


def replay_lines(stack: StackEndpoints, name: str) -> list[LogLine]:
    return [line for line in function_log(stack) if line.record.get("replay_name") == name]


def at(value: Any) -> datetime:
    """A stored time (the tables write ``Z`` or ``+00:00``) as an aware datetime, for comparisons."""
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
