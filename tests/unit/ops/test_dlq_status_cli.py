"""vidsense dlq list|show|redrive and vidsense status."""

from __future__ import annotations

import argparse
import io
import json

import boto3
import pytest
from moto import mock_aws

from vidsense_ops import commands
from vidsense_shared.answers import user_key_for
from vidsense_shared.resources import StageResources

REGION = "us-east-1"
STAGE = "t2"
NAMES = StageResources(STAGE)
FN = f"arn:aws:lambda:{REGION}:123456789012:function:{NAMES.function('nlp', 'analyzeSentiment')}"


class FakeLambda:
    """Records invocations; fails for payloads marked {"fail": true}."""

    def __init__(self, functions=()):
        self.calls = []
        self._functions = list(functions)

    def invoke(self, FunctionName, InvocationType, Payload):
        payload = json.loads(Payload)
        self.calls.append((FunctionName, payload))
        if payload.get("fail"):
            return {"FunctionError": "Unhandled", "Payload": io.BytesIO(b'{"errorMessage": "still broken"}')}
        return {"StatusCode": 200, "Payload": io.BytesIO(b"null")}

    def get_paginator(self, _):
        functions = self._functions

        class P:
            def paginate(self):
                return [{"Functions": functions}]

        return P()


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield


def _queue(name, *, stage=STAGE, service=None, function="fn", kind=None):
    """A queue tagged as the deploy tags a dead-letter queue (untagged when ``kind`` is None)."""
    sqs = boto3.client("sqs", REGION)
    tags = {}
    if kind is not None:
        tags = {"vidsense:stage": stage, "vidsense:service": service, "vidsense:function": function}
        tags["vidsense:kind"] = kind
    url = sqs.create_queue(QueueName=name, tags=tags)["QueueUrl"]
    return sqs, url


def _args(action, **kw):
    return argparse.Namespace(action=action, stage=STAGE, service=kw.get("service"), queue=kw.get("queue"), max=100)


def _client_factory(fake_lambda):
    def factory(service):
        return fake_lambda if service == "lambda" else boto3.client(service, REGION)

    return factory


def test_redrive_destination_records_to_their_function_and_keep_failures(aws):
    # Given an on-failure destination queue holding two records, one of which will fail again
    sqs, url = _queue(f"vidsense-{STAGE}-nlp-analyzeSentiment-dlq", service="nlp", kind="failed")
    _queue(f"vidsense-{STAGE}-nlp-work-queue")  # not a dead-letter queue: ignored
    for payload in ({"detail-type": "TranscriptReady", "n": 1}, {"fail": True}):
        record = {
            "version": "1.0",
            "requestContext": {"requestId": "r", "functionArn": FN + ":$LATEST", "condition": "RetriesExhausted"},
            "requestPayload": payload,
            "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
        }
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record))
    fake = FakeLambda()

    listing = io.StringIO()
    assert commands.run_dlq(_args("list"), out=listing, client=_client_factory(fake)) == 0
    assert "analyzeSentiment-dlq" in listing.getvalue() and "work-queue" not in listing.getvalue()
    shown = io.StringIO()
    assert commands.run_dlq(_args("show"), out=shown, client=_client_factory(fake)) == 0
    assert "RetriesExhausted" in shown.getvalue()

    # When redriving
    out = io.StringIO()
    code = commands.run_dlq(_args("redrive", service="nlp"), out=out, client=_client_factory(fake))

    # Then each payload went to the function without its qualifier, the success left the queue, the failure stayed
    assert code == 1
    assert [c[0] for c in fake.calls] == [FN, FN]
    assert {json.dumps(c[1], sort_keys=True) for c in fake.calls} == {
        json.dumps({"detail-type": "TranscriptReady", "n": 1}, sort_keys=True),
        json.dumps({"fail": True}, sort_keys=True),
    }
    assert "redriven 1, failed 1" in out.getvalue() and "still broken" in out.getvalue()
    left = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"])["requestPayload"] for m in left] == [{"fail": True}]


def test_redrive_eventbridge_target_dlq_and_function_dlq(aws):
    sqs, url = _queue(f"vidsense-{STAGE}-transcode-rules-dlq", service="transcode", kind="dlq")
    event = {"detail-type": "VideoUploaded", "detail": {"x": 1}}
    sqs.send_message(
        QueueUrl=url,
        MessageBody=json.dumps(event),
        MessageAttributes={"TARGET_ARN": {"DataType": "String", "StringValue": FN}},
    )
    sqs2, url2 = _queue(f"vidsense-{STAGE}-ingest-upload-dlq", service="ingest", kind="dlq")
    arn2 = sqs2.get_queue_attributes(QueueUrl=url2, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs2.send_message(QueueUrl=url2, MessageBody=json.dumps({"Records": [{"s3": {}}]}))
    upload_fn = FN.replace("nlp", "ingest").replace("analyzeSentiment", "uploadLanded")
    fake = FakeLambda(functions=[{"FunctionArn": upload_fn, "DeadLetterConfig": {"TargetArn": arn2}}])

    assert commands.run_dlq(_args("redrive"), out=io.StringIO(), client=_client_factory(fake)) == 0
    assert (FN, event) in fake.calls
    assert (upload_fn, {"Records": [{"s3": {}}]}) in fake.calls


def test_redrive_unknown_destination_keeps_the_message(aws):
    sqs, url = _queue(f"vidsense-{STAGE}-nlp-orphan-dlq", service="nlp", kind="dlq")
    sqs.send_message(QueueUrl=url, MessageBody="not json")
    out = io.StringIO()
    assert commands.run_dlq(_args("redrive"), out=out, client=_client_factory(FakeLambda())) == 1
    assert "destination unknown" in out.getvalue()
    assert len(sqs.receive_message(QueueUrl=url)["Messages"]) == 1


def test_queues_are_found_by_the_deploys_tags_not_by_their_names(aws):
    # Given the stage's tagged queues under any name, and queues whose names look like dead-letter queues but whose
    # tags say otherwise (another stage, a work queue) or are missing
    _queue("renamed-by-someone", service="nlp", function="analyzeSentiment", kind="failed")
    _queue(f"vidsense-{STAGE}-ingest-uploadLanded-dlq", service="ingest", function="uploadLanded", kind="dlq")
    _queue(f"vidsense-{STAGE}-nlp-eraseAnswer-dlq")  # no tags
    _queue(f"vidsense-{STAGE}-nlp-work-dlq", service="nlp", kind="work")
    _queue(f"vidsense-{STAGE}x-nlp-analyzeSentiment-failed", stage=f"{STAGE}x", service="nlp", kind="failed")

    # When listing all of them, then one service's
    every = io.StringIO()
    assert commands.run_dlq(_args("list"), out=every, client=_client_factory(FakeLambda())) == 0
    nlp = io.StringIO()
    assert commands.run_dlq(_args("list", service="nlp"), out=nlp, client=_client_factory(FakeLambda())) == 0

    # Then exactly the queues tagged for the stage (and the service) are listed
    assert [line.split()[0] for line in every.getvalue().splitlines()] == [
        "renamed-by-someone",
        f"vidsense-{STAGE}-ingest-uploadLanded-dlq",
    ]
    assert [line.split()[0] for line in nlp.getvalue().splitlines()] == ["renamed-by-someone"]


def test_the_tags_are_the_ones_the_deploy_plugin_puts_on_the_queues():
    from pathlib import Path  # noqa: PLC0415

    from vidsense_ops import dlq  # noqa: PLC0415

    plugin = (Path(__file__).resolve().parents[3] / "deploy" / "plugins" / "vidsense-failure-paths.js").read_text()
    for tag in (dlq.STAGE_TAG, dlq.SERVICE_TAG, dlq.FUNCTION_TAG, dlq.KIND_TAG):
        assert f"'{tag}'" in plugin, tag
    assert "[consumer.dlqLogicalId, 'dlq']" in plugin and "[consumer.failedLogicalId, 'failed']" in plugin
    assert {"dlq", "failed"} == dlq.KINDS


def test_dlq_unknown_queue_is_a_usage_error(aws):
    args = _args("show", queue="nope")
    assert commands.run_dlq(args, out=io.StringIO(), client=_client_factory(FakeLambda())) == 2


TRAIL = [
    {"detail_type": "SentimentDetected", "event_id": "e3", "occurred_at": "2026-11-29T10:00:09Z", "attempt": 1},
    {"detail_type": "VideoUploaded", "event_id": "e1", "occurred_at": "2026-11-29T10:00:01Z", "attempt": 1},
]


ISSUER = "https://login.example.org/tenant"


def _status_args(project: str = "demo", step: str = "1") -> argparse.Namespace:
    """Ada named by her token's subject, with the stage's issuer given: no stack lookup."""
    fields = {"project": project, "step": step, "person": "ada-sub", "issuer": ISSUER, "user_key_parameter": None}
    return argparse.Namespace(stage=STAGE, **fields)


# The projector stores the trail as a map keyed by event id (see ingest's answers_table); a list works too.
@pytest.mark.parametrize("trail", [{e["event_id"]: e for e in TRAIL}, TRAIL], ids=["map", "list"])
def test_status_prints_state_and_ordered_trail(aws, trail):
    ssm = boto3.client("ssm", REGION)
    ssm.put_parameter(Name=NAMES.user_key_parameter, Value="s3cret", Type="SecureString")
    ddb = boto3.resource("dynamodb", REGION)
    table = ddb.create_table(
        TableName=NAMES.answers_table,
        KeySchema=[{"AttributeName": "answer_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "answer_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    user_key = user_key_for("s3cret", ISSUER, "ada-sub")
    table.put_item(
        Item={
            "answer_id": f"demo/1/{user_key}",
            "status": "ANALYZED",
            "attempt": 1,
            "sentiment": "POSITIVE",
            "updated_at": "2026-11-29T10:00:09Z",
            "trail": trail,
        }
    )
    args = _status_args(step="1")
    out = io.StringIO()
    factory = lambda s: boto3.client(s, REGION)  # noqa: E731
    assert commands.run_status(args, out=out, client=factory) == 0
    text = out.getvalue()
    assert "ANALYZED" in text and "POSITIVE" in text
    assert text.index("VideoUploaded") < text.index("SentimentDetected")
    assert "e1" in text and "e3" in text

    missing = _status_args(step="2")
    assert commands.run_status(missing, out=io.StringIO(), client=factory) == 1
    bad = _status_args(project="../x")
    assert commands.run_status(bad, out=io.StringIO(), client=factory) == 2


def test_status_reads_what_the_ingest_read_model_wrote(aws):
    # Given an answer the ingest service's own adapter saved (published: its VideoUploaded is on the trail)
    from datetime import UTC, datetime  # noqa: PLC0415

    from ingest.adapters.answers_table import DynamoAnswerRepository  # noqa: PLC0415
    from ingest.domain.keys import AnswerKey  # noqa: PLC0415
    from ingest.domain.upload import (  # noqa: PLC0415
        LandedObject,
        NewAttempt,
        decide_upload,
        mark_published,
        video_uploaded_event,
    )

    boto3.client("ssm", REGION).put_parameter(Name=NAMES.user_key_parameter, Value="s3cret", Type="SecureString")
    boto3.client("dynamodb", REGION).create_table(
        TableName=NAMES.answers_table,
        KeySchema=[{"AttributeName": "answer_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "answer_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    now = datetime(2026, 11, 29, 10, 0, 1, tzinfo=UTC)
    key = AnswerKey("demo", "1", user_key_for("s3cret", ISSUER, "ada-sub"))
    decision = decide_upload(None, LandedObject("media", key, "v1", 2048, "video/webm", now), max_bytes=10_000, now=now)
    assert isinstance(decision, NewAttempt)
    event = video_uploaded_event(decision.record)
    published = mark_published(decision.record, event, now=now)
    assert published is not None
    DynamoAnswerRepository(NAMES.answers_table, boto3.client("dynamodb", REGION)).save(published, None)

    # When the operator asks for its status
    out = io.StringIO()
    code = commands.run_status(_status_args(), out=out, client=lambda s: boto3.client(s, REGION))

    # Then the CLI finds it under the same key and reads the same item: status, attempt and trail
    assert code == 0, out.getvalue()
    text = out.getvalue()
    assert f"answer    {key.answer_id}" in text
    assert "status    UPLOADED (attempt 1)" in text
    assert "VideoUploaded" in text and event.metadata.event_id in text
