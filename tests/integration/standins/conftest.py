"""moto plus the stand-ins behind one test-only endpoint, dispatched by the SigV4 service name as the real edge
does. State-change events are captured with a default-bus rule whose target is an SQS queue."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.moto_state import reset_moto
from vidsense_local.clients import local_client
from vidsense_local.edge.server import EdgeApp
from vidsense_local.serving import listen, serve
from vidsense_local.standins import ComprehendStandIn, MediaConvertStandIn, TranscribeStandIn, build_standins
from vidsense_shared.resources import StageResources

MEDIA = Path(__file__).resolve().parents[2] / "fixtures" / "media"
REGION = "us-east-1"
ACCOUNT = "123456789012"
NAMES = StageResources("test")
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{NAMES.mediaconvert_role}"
# stop() of every stand-in (see the assertion at the end of the endpoint fixture).
STOP_BOUND_SECONDS = 10.0


def manifest() -> list[dict[str, Any]]:
    return list(json.loads((MEDIA / "manifest.json").read_text())["files"])


def spoken() -> list[dict[str, Any]]:
    return [f for f in manifest() if f["kind"] == "speech" and f["file"] != "benchmark-10s.webm"]


@dataclass
class Events:
    """Everything the default bus delivered to the capture queue, kept across polls."""

    sqs: Any
    queue_url: str
    seen: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, match: Callable[[dict[str, Any]], bool], timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                for event in self.seen:
                    if match(event):
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError("no matching event on the default bus within the timeout")
                answer = self.sqs.receive_message(
                    QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=min(1, max(0, int(remaining)))
                )
                for message in answer.get("Messages", []):
                    event = json.loads(message["Body"])
                    # moto 5.2.5's default SQS-target input template drops the envelope's "account" (EventBridge
                    # sends it); put it back so the production event models can parse what was captured.
                    event.setdefault("account", ACCOUNT)
                    self.seen.append(event)
                    self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def all(self, match: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        with self.lock:
            return [e for e in self.seen if match(e)]


@dataclass
class Endpoint:
    url: str
    mediaconvert: MediaConvertStandIn
    transcribe: TranscribeStandIn
    comprehend: ComprehendStandIn
    events: Events
    bucket: str

    def client(self, service: str) -> Any:
        return local_client(service, self.url, REGION, retries=1, path_style=True)

    def upload(self, name: str, key: str | None = None) -> str:
        key = key or f"media/{uuid.uuid4().hex}/{name}"
        self.client("s3").upload_file(str(MEDIA / name), self.bucket, key)
        return f"s3://{self.bucket}/{key}"


@pytest.fixture(scope="session")
def endpoint() -> Iterator[Endpoint]:
    reset_moto()
    # Port 0: the kernel picks a free port at bind, so no other process can take it between choice and bind.
    # The stand-ins need the endpoint's URL: its port is bound first. The edge's own dispatch, without a runtime.
    sock = listen(0)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    standins = build_standins(url, REGION, ACCOUNT, transcribe_concurrency=2)
    try:
        server = serve(EdgeApp(None, standins), sock.getsockname()[1], name="standins-endpoint", fd=sock.fileno())
    finally:
        sock.close()
    for standin in standins:
        standin.start()
    by_type = {type(s): s for s in standins}
    sqs = local_client("sqs", url, REGION)
    events = local_client("events", url, REGION)
    queue_url = sqs.create_queue(QueueName=f"standin-events-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rule = f"standin-capture-{uuid.uuid4().hex[:8]}"
    events.put_rule(
        Name=rule,
        EventBusName="default",
        EventPattern=json.dumps({"source": ["aws.mediaconvert", "aws.transcribe"]}),
    )
    events.put_targets(Rule=rule, EventBusName="default", Targets=[{"Id": "capture", "Arn": queue_arn}])
    bucket = f"standin-tests-{uuid.uuid4().hex[:12]}"
    local_client("s3", url, REGION).create_bucket(Bucket=bucket)
    yield Endpoint(
        url=url,
        mediaconvert=by_type[MediaConvertStandIn],  # type: ignore[arg-type]
        transcribe=by_type[TranscribeStandIn],  # type: ignore[arg-type]
        comprehend=by_type[ComprehendStandIn],  # type: ignore[arg-type]
        events=Events(sqs, queue_url),
        bucket=bucket,
    )
    started = time.monotonic()
    for standin in standins:
        standin.stop()
    stop_seconds = time.monotonic() - started
    # Later tests' mock_aws resets moto's process-wide backends, so the capture rule may be gone already.
    with contextlib.suppress(ClientError):
        events.remove_targets(Rule=rule, EventBusName="default", Ids=["capture"])
        events.delete_rule(Name=rule, EventBusName="default")
    server.stop()
    reset_moto()
    # Bounded by design: each job pool gives its threads 1.5 s (_common.WorkerPool.stop), two pools 3 s; the bound
    # adds 7 s for a loaded 2-core machine. Not waiting for running jobs is test_stop_returns_while_a_job_runs's.
    assert stop_seconds < STOP_BOUND_SECONDS, f"stand-ins took {stop_seconds:.2f} s to stop"
