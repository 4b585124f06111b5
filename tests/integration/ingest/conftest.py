"""moto-backed AWS state for the ingest handlers: versioned media bucket, answers table, SSM secret, bus."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from ingest import composition
from ingest.domain.keys import AnswerKey
from ingest.handlers import api, projector, upload_landed
from tests.bus_capture import capture_service, drain
from tests.lambda_context import FakeLambdaContext
from tests.unit.ingest.builders import delivery, fixture
from vidsense_shared import aws
from vidsense_shared.resources import StageResources

REGION = "us-east-1"
NAMES = StageResources("test")
MEDIA_BUCKET = NAMES.media_bucket("123456789012")
WORK_BUCKET = NAMES.work_bucket("123456789012")
ANSWERS_TABLE = NAMES.answers_table
BUS = NAMES.bus
SECRET_PARAMETER = NAMES.user_key_parameter
SECRET = "local-user-key-secret"
# HMAC-SHA256(SECRET, '["<iss>","<sub>"]') of the fixture's token (see test_keys_and_identity).
ADA_KEY = "be220197efda98466ff38bd58864419ad008042045502f120d05f571d1eacd43"
PROJECT, STEP = "onboarding-2026", "3"
ADA = AnswerKey(PROJECT, STEP, ADA_KEY)
PRESIGN = "GET /presignedurl/{project}/{step}"
ANSWER = "GET /answers/{project}/{step}"


def clear_factories() -> None:
    # boto3 clients survive between tests (building one costs seconds on a loaded machine, and moto
    # intercepts every client made after it is imported); the settings-built services do not.
    composition.answer_api.cache_clear()
    composition.upload_recorder.cache_clear()
    composition.answer_projector.cache_clear()


@pytest.fixture(scope="package", autouse=True)
def _fresh_clients() -> Iterator[None]:
    # Clients cached by other suites may point at another endpoint: start and leave this package clean.
    aws.client.cache_clear()
    yield
    aws.client.cache_clear()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    values = {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "STAGE": "test",
        "POWERTOOLS_SERVICE_NAME": "ingest",
        "POWERTOOLS_METRICS_NAMESPACE": "vidsense",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "MEDIA_BUCKET": MEDIA_BUCKET,
        "ANSWERS_TABLE": ANSWERS_TABLE,
        "USER_KEY_PARAMETER": SECRET_PARAMETER,
        "EVENT_BUS_NAME": BUS,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    clear_factories()
    yield
    clear_factories()


class Aws:
    """Handles on the mocked account, created the way the ingest stack declares them."""

    def __init__(self) -> None:
        self.s3 = aws.client("s3")
        self.ddb = aws.client("dynamodb")
        self.ssm = aws.client("ssm")
        self.events = aws.client("events")
        self.sqs = aws.client("sqs")
        self.queue_url = ""

    def create(self) -> None:
        for bucket in (MEDIA_BUCKET, WORK_BUCKET):
            self.s3.create_bucket(Bucket=bucket)
        self.s3.put_bucket_versioning(Bucket=MEDIA_BUCKET, VersioningConfiguration={"Status": "Enabled"})
        self.ddb.create_table(
            TableName=ANSWERS_TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "answer_id", "AttributeType": "S"},
                {"AttributeName": "project_step", "AttributeType": "S"},
                {"AttributeName": "user_key", "AttributeType": "S"},
            ],
            KeySchema=[{"AttributeName": "answer_id", "KeyType": "HASH"}],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "by_step",
                    "KeySchema": [
                        {"AttributeName": "project_step", "KeyType": "HASH"},
                        {"AttributeName": "user_key", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
        self.ssm.put_parameter(Name=SECRET_PARAMETER, Value=SECRET, Type="SecureString")
        self.queue_url = self.sqs.create_queue(QueueName="published-events")["QueueUrl"]
        self.create_bus()

    def create_bus(self) -> None:
        """The stage bus with a rule that copies everything ingest publishes to the capture queue."""
        self.events.create_event_bus(Name=BUS)
        capture_service(self.events, self.sqs, bus=BUS, service="ingest", queue_url=self.queue_url)

    def published(self) -> list[dict[str, Any]]:
        """Every event the bus delivered to the capture queue since the last call."""
        return drain(self.sqs, self.queue_url)

    def answer_item(self, answer_id: str) -> dict[str, Any] | None:
        item = self.ddb.get_item(TableName=ANSWERS_TABLE, Key={"answer_id": {"S": answer_id}}).get("Item")
        return item

    def put_video(self, key: str, body: bytes = b"\x1aE\xdf\xa3webm", content_type: str = "video/webm") -> str:
        return str(self.s3.put_object(Bucket=MEDIA_BUCKET, Key=key, Body=body, ContentType=content_type)["VersionId"])

    def versions(self, key: str) -> list[str]:
        listed = self.s3.list_object_versions(Bucket=MEDIA_BUCKET, Prefix=key).get("Versions", [])
        return [v["VersionId"] for v in listed if v["Key"] == key]


@pytest.fixture
def cloud(env: None) -> Iterator[Aws]:
    with mock_aws():
        handles = Aws()
        handles.create()
        yield handles


@pytest.fixture
def context() -> FakeLambdaContext:
    return FakeLambdaContext("vidsense-test-ingest")


def s3_event(key: str, version_id: str | None, *, encoded_key: str | None = None, size: int = 1024) -> dict[str, Any]:
    """An S3 ObjectCreated notification as AWS sends it (key URL-encoded)."""
    event = fixture("s3_object_created.json")
    obj = event["Records"][0]["s3"]["object"]
    obj["key"] = encoded_key if encoded_key is not None else key
    obj["size"] = size
    if version_id is None:
        del obj["versionId"]
    else:
        obj["versionId"] = version_id
    return event


ADA_CLAIMS: dict[str, Any] = fixture("apigw_http_get.json")["requestContext"]["authorizer"]["jwt"]["claims"]


def someone_else(name: str, **claims: Any) -> dict[str, Any]:
    """Claims of another account of Ada's identity provider: its own subject (a person is iss + sub)."""
    subject = str(uuid.uuid5(uuid.NAMESPACE_URL, f"vidsense-test:{name}"))
    return {**ADA_CLAIMS, "sub": subject, "email": f"{name}@example.org", **claims}


def http_event(
    path: str,
    route_key: str,
    *,
    claims: dict[str, Any] | None = ADA_CLAIMS,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) request through the JWT authorizer; claims=None: no authorizer."""
    event = fixture("apigw_http_get.json")
    event["routeKey"] = event["requestContext"]["routeKey"] = route_key
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    names = [part[1:-1] for part in route_key.split(" ", 1)[1].split("/") if part.startswith("{")]
    values = [
        v for v, t in zip(path.split("/"), route_key.split(" ", 1)[1].split("/"), strict=True) if t.startswith("{")
    ]
    event["pathParameters"] = dict(zip(names, values, strict=True))
    if claims is None:
        del event["requestContext"]["authorizer"]
    else:
        event["requestContext"]["authorizer"]["jwt"]["claims"] = dict(claims)
    if query:
        event["queryStringParameters"] = dict(query)
        event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    return event


def emitted_metrics(output: str) -> dict[str, float]:
    """Metric values from the CloudWatch embedded-metric-format lines a handler printed."""
    values: dict[str, float] = {}
    for line in output.splitlines():
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        document = json.loads(line)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                value = document[metric["Name"]]
                values[metric["Name"]] = values.get(metric["Name"], 0) + (
                    sum(value) if isinstance(value, list) else value
                )
    return values


# --- driving the handlers as API Gateway, S3 and EventBridge do ----------------------------------------------------


def call(event: dict[str, Any], context: Any) -> tuple[int, dict[str, str], Any]:
    """The API handler's answer: status, lower-cased headers, and the body (parsed when it is JSON)."""
    response = api.handler(event, context)
    headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
    body = response["body"]
    if headers.get("content-type", "").startswith("application/json"):
        body = json.loads(body)
    return response["statusCode"], headers, body


def land(cloud: Aws, context: Any, body: bytes = b"\x1aE\xdf\xa3webm", content_type: str = "video/webm") -> str:
    """Ada's video lands in the media bucket and S3 notifies uploadLanded; returns the object's version."""
    version = cloud.put_video(ADA.video_key, body, content_type)
    upload_landed.handler(s3_event(ADA.video_key, version), context)
    return version


def project_events(context: Any, *events: Any) -> None:
    for event in events:
        projector.handler(delivery(event), context)
