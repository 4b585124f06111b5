"""One edge + function runtime on free ports for the local-stack integration tests."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.moto_state import reset_moto
from vidsense_local.clients import local_client
from vidsense_local.edge import EdgeHandle, start_edge
from vidsense_local.runtime import FunctionRuntime
from vidsense_local.serving import listen

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "local"
REGION = "us-east-1"
ACCOUNT = "123456789012"
HANDLERS = "vidsense_local_test_handlers"


class FakeStandIn:
    """A stand-in with one signing name that answers every request with a JSON echo of what it received."""

    signing_names = ("transcribe",)

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        self.started = False
        self.stopped = False
        self.sink: Any = None

    def set_event_sink(self, sink: Any) -> None:
        self.sink = sink

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.stopped = True

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.requests.append({"path": environ.get("PATH_INFO", ""), "target": environ.get("HTTP_X_AMZ_TARGET", "")})
        body = json.dumps({"TranscriptionJobSummaries": [], "Status": "COMPLETED"}).encode()
        start_response("200 OK", [("Content-Type", "application/x-amz-json-1.1")])
        return [body]


@dataclass
class Stack:
    edge: EdgeHandle
    runtime: FunctionRuntime
    standin: FakeStandIn
    role_arn: str
    created: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.edge.url

    def client(self, service: str) -> Any:
        return local_client(service, self.url, REGION, retries=1)

    def queue(self, prefix: str = "q") -> tuple[str, str]:
        sqs = self.client("sqs")
        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        return url, f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"

    def function(
        self, handler: str, env: dict[str, str] | None = None, timeout: int = 5, **extra: Any
    ) -> tuple[str, str]:
        name = f"fn-{handler}-{uuid.uuid4().hex[:8]}"
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("placeholder.txt", "source comes from the repository, not the zip")
        arn = self.client("lambda").create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=self.role_arn,
            Handler=f"{HANDLERS}.{handler}",
            Code={"ZipFile": buf.getvalue()},
            Timeout=timeout,
            MemorySize=256,
            Environment={"Variables": env or {}},
            **extra,
        )["FunctionArn"]
        self.runtime.refresh()
        return name, arn

    def received(self, queue_url: str, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        """Wait for ``count`` messages (and check no more arrive once the runtime is idle)."""
        sqs = self.client("sqs")
        out: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while len(out) < count and time.monotonic() < deadline:
            msgs = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, MessageAttributeNames=["All"]
            ).get("Messages", [])
            for m in msgs:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
            out += msgs
            if not msgs:
                time.sleep(0.1)
        assert self.runtime.wait_idle(timeout=20)
        extra = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        return out + extra


@pytest.fixture(scope="package")
def stack() -> Iterator[Stack]:
    reset_moto()
    # Bound before the runtime needs its URL, and handed to the edge: no port chosen now and bound later.
    sock = listen(0)
    port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    runtime = FunctionRuntime(url, REGION, ACCOUNT, extra_pythonpath=[FIXTURES], retry_delays=(0.2, 0.3))
    standin = FakeStandIn()
    try:
        edge = start_edge(port, runtime, [standin], fd=sock.fileno())
    finally:
        sock.close()
    iam = local_client("iam", url, REGION)
    role = iam.create_role(
        RoleName=f"local-test-{uuid.uuid4().hex[:6]}",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    try:
        yield Stack(edge, runtime, standin, role)
    finally:
        runtime.stop()
        edge.stop()
        reset_moto()
