"""moto for S3, DynamoDB, EventBridge and SQS; botocore Stubber for Comprehend.

moto's Comprehend always answers NEUTRAL and lacks the batch calls, so Comprehend is stubbed on the very
client the handler uses (the shared client factory caches it). Published events are captured by a rule on
the stage bus whose target is an SQS queue, so tests see exactly what EventBridge accepted.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext as PowertoolsLambdaContext
from botocore.stub import Stubber
from moto import mock_aws

from nlp import composition
from nlp.handlers import analyze
from tests.bus_capture import capture_service, drain
from tests.lambda_context import lambda_context as fake_context
from vidsense_shared import aws
from vidsense_shared.observability import logger
from vidsense_shared.resources import StageResources

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "nlp"
REGION = "us-east-1"
STAGE = "test"
NAMES = StageResources(STAGE)
BUS = NAMES.bus
METADATA_TABLE = NAMES.metadata_table
WORK_BUCKET = NAMES.work_bucket("123456789012")
FUNCTION = NAMES.function("nlp", "analyzeSentiment")
TRANSCRIPT_RETENTION_DAYS = 14


def lambda_context() -> PowertoolsLambdaContext:
    return fake_context(FUNCTION, memory_limit_in_mb=512)


def _clear_caches() -> None:
    aws.client.cache_clear()
    composition.analyzer.cache_clear()


@dataclass
class Stack:
    """The nlp service's AWS surroundings, plus what the handler sent to Comprehend."""

    queue_url: str
    comprehend: Stubber
    comprehend_requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def put_transcript(self, key: str, body: bytes) -> None:
        boto3.client("s3").put_object(Bucket=WORK_BUCKET, Key=key, Body=body, ContentType="application/json")

    def put_fixture_transcript(self, delivery: dict[str, Any], name: str) -> None:
        key = delivery["detail"]["data"]["transcript"]["key"]
        self.put_transcript(key, (FIXTURES / f"transcript-{name}.json").read_bytes())

    def invoke(self, delivery: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = analyze.handler(delivery, lambda_context())
        return result

    def item(self, answer_id: str) -> dict[str, Any] | None:
        table = boto3.resource("dynamodb").Table(METADATA_TABLE)
        found: dict[str, Any] | None = table.get_item(Key={"answer_id": answer_id}, ConsistentRead=True).get("Item")
        return found

    def published(self) -> list[dict[str, Any]]:
        return drain(boto3.client("sqs"), self.queue_url)


def load_delivery(name: str) -> dict[str, Any]:
    delivery: dict[str, Any] = json.loads((FIXTURES / f"eventbridge-transcript-ready-{name}.json").read_text())
    return delivery


@dataclass
class _Aws:
    """One moto world for the nlp integration tests: resources are created once, emptied between tests."""

    queue_url: str
    comprehend_client: Any
    comprehend_requests: list[tuple[str, dict[str, Any]]]


@pytest.fixture(scope="package")
def _aws() -> Iterator[_Aws]:
    # Creating moto's resources and boto3's clients takes seconds on a loaded machine: once for the package.
    with pytest.MonkeyPatch.context() as monkeypatch:
        for key, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "STAGE": STAGE,
            "POWERTOOLS_SERVICE_NAME": "nlp",
            "POWERTOOLS_METRICS_NAMESPACE": "vidsense",
            "METADATA_TABLE": METADATA_TABLE,
            "EVENT_BUS_NAME": BUS,
            "TRANSCRIPT_RETENTION_DAYS": str(TRANSCRIPT_RETENTION_DAYS),
        }.items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        _clear_caches()
        with mock_aws():
            boto3.client("s3").create_bucket(Bucket=WORK_BUCKET)
            boto3.client("dynamodb").create_table(
                TableName=METADATA_TABLE,
                KeySchema=[{"AttributeName": "answer_id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "answer_id", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            events = boto3.client("events")
            events.create_event_bus(Name=BUS)
            sqs = boto3.client("sqs")
            queue_url = sqs.create_queue(QueueName="nlp-captured-events")["QueueUrl"]
            capture_service(events, sqs, bus=BUS, service="nlp", queue_url=queue_url)
            # The same cached client the handler's factory will pick up.
            comprehend = aws.client("comprehend")
            requests: list[tuple[str, dict[str, Any]]] = []
            comprehend.meta.events.register(
                "provide-client-params.comprehend.*",
                lambda params, model, **_: requests.append((model.name, dict(params))),
            )
            yield _Aws(queue_url=queue_url, comprehend_client=comprehend, comprehend_requests=requests)
        _clear_caches()


def _empty(world: _Aws) -> None:
    """Every test starts from an empty table, bucket and queue, and a fresh Comprehend stub."""
    table = boto3.resource("dynamodb").Table(METADATA_TABLE)
    for item in table.scan(ProjectionExpression="answer_id")["Items"]:
        table.delete_item(Key={"answer_id": item["answer_id"]})
    s3 = boto3.client("s3")
    for listed in s3.list_objects_v2(Bucket=WORK_BUCKET).get("Contents", []):
        s3.delete_object(Bucket=WORK_BUCKET, Key=listed["Key"])
    Stack(queue_url=world.queue_url, comprehend=Stubber(world.comprehend_client)).published()  # drain
    world.comprehend_requests.clear()


@pytest.fixture
def stack(_aws: _Aws) -> Iterator[Stack]:
    _empty(_aws)
    stack = Stack(
        queue_url=_aws.queue_url,
        comprehend=Stubber(_aws.comprehend_client),
        comprehend_requests=_aws.comprehend_requests,
    )
    with stack.comprehend:
        yield stack
        stack.comprehend.assert_no_pending_responses()


@dataclass
class Logs:
    """Everything the function logged: the Powertools logger's own output plus any other logger's records."""

    stream: io.StringIO
    caplog: pytest.LogCaptureFixture

    def text(self) -> str:
        return self.stream.getvalue() + "\n".join(record.getMessage() for record in self.caplog.records)

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines() if line.strip()]


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[Logs]:
    # Powertools writes JSON lines to the stream its handler was built with (stdout at import): point that
    # very handler at a buffer, at DEBUG, so every line the function would print is seen.
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    previous_stream, previous_level = handler.setStream(buffer), logger.log_level
    logger.setLevel("DEBUG")
    caplog.set_level(logging.INFO)  # other libraries' records, at Lambda's usual level
    try:
        yield Logs(stream=buffer, caplog=caplog)
    finally:
        handler.setStream(previous_stream)
        logger.setLevel(previous_level)
