"""moto for DynamoDB, EventBridge and SQS; botocore Stubber for MediaConvert and Transcribe.

Published events are captured by a rule on the stage bus whose target is an SQS queue, so tests see exactly
what EventBridge accepted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from tests.bus_capture import capture_service, drain
from tests.lambda_context import FakeLambdaContext
from tests.unit.transcode.fixtures import STAGE, WORK_BUCKET
from transcode import composition
from vidsense_shared import aws
from vidsense_shared.resources import StageResources

REGION = "us-east-1"
NAMES = StageResources(STAGE)
BUS = NAMES.bus
JOBS_TABLE = NAMES.transcode_jobs_table
ROLE_ARN = f"arn:aws:iam::123456789012:role/{NAMES.mediaconvert_role}"
DATA_ACCESS_ROLE_ARN = f"arn:aws:iam::123456789012:role/{NAMES.transcribe_data_access_role}"
# As services/transcode/serverless.yml declares it, with the reconciler's sparse index of open attempts.
JOBS_TABLE_DEFINITION: dict[str, Any] = {
    "TableName": JOBS_TABLE,
    "KeySchema": [{"AttributeName": "job_key", "KeyType": "HASH"}],
    "AttributeDefinitions": [
        {"AttributeName": "job_key", "AttributeType": "S"},
        {"AttributeName": "open_shard", "AttributeType": "S"},
        {"AttributeName": "open_since", "AttributeType": "S"},
    ],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "open_attempts",
            "KeySchema": [
                {"AttributeName": "open_shard", "KeyType": "HASH"},
                {"AttributeName": "open_since", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }
    ],
    "BillingMode": "PAY_PER_REQUEST",
}


def _clear_caches() -> None:
    aws.client.cache_clear()
    for factory in (
        composition.transcode_starter,
        composition.transcoder_relay,
        composition.transcription_starter,
        composition.transcription_completer,
        composition.reconciler,
        composition.answer_eraser,
    ):
        factory.cache_clear()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    values = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "STAGE": STAGE,
        "POWERTOOLS_SERVICE_NAME": "transcode",
        "POWERTOOLS_METRICS_NAMESPACE": "vidsense",
        "JOBS_TABLE": JOBS_TABLE,
        "WORK_BUCKET": WORK_BUCKET,
        "MEDIACONVERT_ROLE_ARN": ROLE_ARN,
        "TRANSCRIBE_DATA_ACCESS_ROLE_ARN": DATA_ACCESS_ROLE_ARN,
        "EVENT_BUS_NAME": BUS,
    }
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    _clear_caches()
    yield values
    _clear_caches()


class Captured:
    """Events published to the stage bus, read back from the capture queue."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._url = queue_url

    def drain(self) -> list[dict[str, Any]]:
        return drain(self._sqs, self._url)


@dataclass
class Stack:
    dynamodb: Any
    events: Captured


@pytest.fixture
def stack(env: dict[str, str]) -> Iterator[Stack]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(**JOBS_TABLE_DEFINITION)
        events = boto3.client("events", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        events.create_event_bus(Name=BUS)
        queue_url = sqs.create_queue(QueueName="captured-transcode-events")["QueueUrl"]
        capture_service(events, sqs, bus=BUS, service="transcode", queue_url=queue_url)
        yield Stack(dynamodb=dynamodb, events=Captured(sqs, queue_url))


@pytest.fixture
def context() -> FakeLambdaContext:
    return FakeLambdaContext("vidsense-transcode-dev-test")


@pytest.fixture
def mediaconvert(stack: Stack) -> Iterator[Stubber]:
    """A Stubber on the MediaConvert client the composition root builds without a configured endpoint (cached:
    startTranscode's CreateJob and the reconciler's GetJob); it validates against the model."""
    with Stubber(aws.client("mediaconvert", None)) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def transcribe(stack: Stack) -> Iterator[Stubber]:
    """A Stubber on the Transcribe client every transcode use case is built with (cached)."""
    with Stubber(aws.client("transcribe")) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def job_item(dynamodb: Any, job_key: str) -> dict[str, Any]:
    item: dict[str, Any] | None = dynamodb.get_item(TableName=JOBS_TABLE, Key={"job_key": {"S": job_key}}).get("Item")
    assert item is not None, f"no jobs-table item {job_key}"
    return item


def put_job(dynamodb: Any, job_key: str, **attributes: dict[str, Any]) -> None:
    """A jobs-table item as the functions leave it (typed DynamoDB attribute values)."""
    answer_id, _, attempt = job_key.rpartition("#")
    item = {"job_key": {"S": job_key}, "answer_id": {"S": answer_id}, "attempt": {"N": attempt}, **attributes}
    dynamodb.put_item(TableName=JOBS_TABLE, Item=item)
