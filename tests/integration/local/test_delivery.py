"""Given the edge's moto hooks, rules, SNS subscriptions and S3 notifications reach Lambda functions as AWS
shapes them, and failed async invocations end in the on-failure destination or the DLQ after retries."""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote_plus

import requests
from moto.s3.models import FakeKey

from tests.integration.local.conftest import ACCOUNT, REGION, Stack

ISO_SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def _bodies(msgs: list[dict]) -> list[dict]:
    return [json.loads(m["Body"]) for m in msgs]


def _rule_to(stack: Stack, bus: str, pattern: dict, *arns: str) -> str:
    events = stack.client("events")
    rule = f"r-{uuid.uuid4().hex[:8]}"
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": f"t{i}", "Arn": arn} for i, arn in enumerate(arns)])
    return rule


def test_eventbridge_rule_delivers_the_aws_event_shape_to_lambda_and_sqs(stack: Stack) -> None:
    record_q, _ = stack.queue("rec")
    direct_q, direct_arn = stack.queue("direct")
    _, fn_arn = stack.function("record", env={"RECORD_QUEUE_URL": record_q})
    events = stack.client("events")
    bus = f"bus-{uuid.uuid4().hex[:6]}"
    events.create_event_bus(Name=bus)
    _rule_to(stack, bus, {"source": ["vidsense.test"], "detail-type": ["ThingHappened"]}, fn_arn, direct_arn)

    out = events.put_events(
        Entries=[
            {
                "Source": "vidsense.test",
                "DetailType": "ThingHappened",
                "Detail": json.dumps({"answer": "p/s/u"}),
                "EventBusName": bus,
                "Resources": ["arn:aws:s3:::x"],
            },
            {"Source": "vidsense.test", "DetailType": "Other", "Detail": "{}", "EventBusName": bus},
        ]
    )
    assert out["FailedEntryCount"] == 0

    (delivered,) = _bodies(stack.received(record_q, 1))
    event = delivered["event"]
    assert set(event) == {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
    assert event["id"] == out["Entries"][0]["EventId"]
    assert event["detail-type"] == "ThingHappened"
    assert event["source"] == "vidsense.test"
    assert event["account"] == ACCOUNT
    assert event["region"] == REGION
    assert event["resources"] == ["arn:aws:s3:::x"]
    assert event["detail"] == {"answer": "p/s/u"}
    assert ISO_SECONDS.match(event["time"])
    # moto's own SQS target on the same rule still gets its copy (exactly one: no 500-and-retry).
    (copy,) = _bodies(stack.received(direct_q, 1))
    assert copy["id"] == event["id"]


def test_replayed_events_carry_replay_name(stack: Stack) -> None:
    record_q, _ = stack.queue("rec")
    _, fn_arn = stack.function("record", env={"RECORD_QUEUE_URL": record_q})
    events = stack.client("events")
    bus = f"bus-{uuid.uuid4().hex[:6]}"
    bus_arn = events.create_event_bus(Name=bus)["EventBusArn"]
    archive = events.create_archive(ArchiveName=f"a-{uuid.uuid4().hex[:6]}", EventSourceArn=bus_arn)
    _rule_to(stack, bus, {"source": ["vidsense.replay"]}, fn_arn)
    events.put_events(
        Entries=[{"Source": "vidsense.replay", "DetailType": "X", "Detail": '{"n": 1}', "EventBusName": bus}]
    )
    assert len(stack.received(record_q, 1)) == 1

    replay = f"replay-{uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC)
    events.start_replay(
        ReplayName=replay,
        EventSourceArn=archive["ArchiveArn"],
        EventStartTime=now - timedelta(hours=1),
        EventEndTime=now + timedelta(hours=1),
        Destination={"Arn": bus_arn},
    )
    (replayed,) = _bodies(stack.received(record_q, 1))
    assert replayed["event"]["replay-name"] == replay
    assert replayed["event"]["detail"] == {"n": 1}


def test_stand_in_event_sink_reaches_default_bus_rules(stack: Stack) -> None:
    record_q, _ = stack.queue("rec")
    _, fn_arn = stack.function("record", env={"RECORD_QUEUE_URL": record_q})
    job = f"vidsense.local.{uuid.uuid4().hex[:6]}"
    _rule_to(
        stack,
        "default",
        {"source": ["aws.transcribe"], "detail": {"TranscriptionJobName": [{"prefix": job}]}},
        fn_arn,
    )
    stack.standin.sink(
        "aws.transcribe",
        "Transcribe Job State Change",
        {"TranscriptionJobName": job, "TranscriptionJobStatus": "COMPLETED"},
    )
    (delivered,) = _bodies(stack.received(record_q, 1))
    assert delivered["event"]["source"] == "aws.transcribe"
    assert delivered["event"]["detail"]["TranscriptionJobStatus"] == "COMPLETED"


def test_a_scheduled_rule_is_not_fired_by_events_on_its_bus(stack: Stack) -> None:
    record_q, _ = stack.queue("rec")
    _, fn_arn = stack.function("record", env={"RECORD_QUEUE_URL": record_q})
    events = stack.client("events")
    scheduled = f"s-{uuid.uuid4().hex[:8]}"
    events.put_rule(Name=scheduled, EventBusName="default", ScheduleExpression="rate(5 minutes)")
    events.put_targets(Rule=scheduled, EventBusName="default", Targets=[{"Id": "s", "Arn": fn_arn}])
    job = f"vidsense.local.{uuid.uuid4().hex[:6]}"
    _rule_to(stack, "default", {"source": ["aws.transcribe"], "detail": {"TranscriptionJobName": [job]}}, fn_arn)
    stack.standin.sink("aws.transcribe", "Transcribe Job State Change", {"TranscriptionJobName": job})
    # Only the pattern rule delivers: one invocation, not two (received also collects what came late)
    (delivered,) = _bodies(stack.received(record_q, 1))
    assert delivered["event"]["detail"]["TranscriptionJobName"] == job


def _notifying_bucket(s3: Any, fn_arn: str, *, suffix: str | None = None) -> str:
    """A new versioned bucket whose created objects (ending in ``suffix``, if given) invoke ``fn_arn``."""
    bucket = f"media-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    target: dict[str, Any] = {"LambdaFunctionArn": fn_arn, "Events": ["s3:ObjectCreated:*"]}
    if suffix:
        target["Filter"] = {"Key": {"FilterRules": [{"Name": "suffix", "Value": suffix}]}}
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"LambdaFunctionConfigurations": [target]}
    )
    return bucket


def test_s3_notification_invokes_lambda_with_url_encoded_key_and_version(stack: Stack) -> None:
    record_q, _ = stack.queue("rec")
    _, fn_arn = stack.function("record", env={"RECORD_QUEUE_URL": record_q})
    s3 = stack.client("s3")
    bucket = _notifying_bucket(s3, fn_arn, suffix=".webm")
    key = "proj 1/step+2/user@x.webm"
    put = s3.put_object(Bucket=bucket, Key=key, Body=b"v" * 123)
    s3.put_object(Bucket=bucket, Key="proj/notes.txt", Body=b"ignored")

    (delivered,) = _bodies(stack.received(record_q, 1))
    (record,) = delivered["event"]["Records"]
    assert record["eventSource"] == "aws:s3"
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["bucket"]["name"] == bucket
    obj = record["s3"]["object"]
    assert obj["key"] == quote_plus(key)
    assert obj["size"] == 123
    assert obj["eTag"] == put["ETag"].strip('"')
    assert obj["versionId"] == put["VersionId"]
    assert obj["sequencer"]


def test_s3_notification_leaves_after_the_request_that_stored_the_object(stack: Stack, monkeypatch) -> None:
    # Given a warm function that HEADs each notified version at once (as uploadLanded does)
    record_q, _ = stack.queue("rec")
    name, fn_arn = stack.function("head_then_record", env={"RECORD_QUEUE_URL": record_q})
    stack.client("lambda").invoke(FunctionName=name, Payload=b'{"Records": []}')
    s3 = stack.client("s3")
    bucket = _notifying_bucket(s3, fn_arn)
    # And moto slow between storing a POSTed object and setting the form's Content-Type on it, as a busy edge's
    # request thread can be (moto announces the object in between)
    set_metadata = FakeKey.set_metadata

    def slow_set_metadata(self: FakeKey, *args: Any, **kwargs: Any) -> None:
        time.sleep(2.0)
        set_metadata(self, *args, **kwargs)

    monkeypatch.setattr(FakeKey, "set_metadata", slow_set_metadata)

    # When a browser form POST stores a video/webm object
    form = s3.generate_presigned_post(
        Bucket=bucket,
        Key="p/1/u.webm",
        Fields={"Content-Type": "video/webm"},
        Conditions=[{"Content-Type": "video/webm"}],
    )
    posted = requests.post(form["url"], data=form["fields"], files={"file": ("u.webm", b"w" * 321)}, timeout=30)
    assert posted.status_code == 204, posted.text

    # Then the function, notified, read the object as S3 stored it: with its Content-Type
    (delivered,) = _bodies(stack.received(record_q, 1))
    assert delivered["heads"] == [{"key": "p/1/u.webm", "content_type": "video/webm", "size": 321}]


def test_sns_subscription_invokes_lambda_with_the_sns_record(stack: Stack) -> None:
    record_q, _ = stack.queue("rec")
    _, fn_arn = stack.function("record", env={"RECORD_QUEUE_URL": record_q})
    sns = stack.client("sns")
    topic = sns.create_topic(Name=f"topic-{uuid.uuid4().hex[:6]}")["TopicArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=fn_arn, ReturnSubscriptionArn=True)
    published = sns.publish(
        TopicArn=topic,
        Message='{"status": "COMPLETE"}',
        Subject="job",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "mediaconvert"}},
    )
    (delivered,) = _bodies(stack.received(record_q, 1))
    (record,) = delivered["event"]["Records"]
    assert record["EventSource"] == "aws:sns"
    assert record["EventSubscriptionArn"] == sub["SubscriptionArn"]
    msg = record["Sns"]
    assert msg["Type"] == "Notification"
    assert msg["MessageId"] == published["MessageId"]
    assert msg["TopicArn"] == topic
    assert msg["Subject"] == "job"
    assert msg["Message"] == '{"status": "COMPLETE"}'
    assert msg["MessageAttributes"] == {"kind": {"Type": "String", "Value": "mediaconvert"}}
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", msg["Timestamp"])


def test_rule_with_sns_target_publishes_the_event_to_the_topic(stack: Stack) -> None:
    record_q, _ = stack.queue("rec")
    _, fn_arn = stack.function("record", env={"RECORD_QUEUE_URL": record_q})
    sns = stack.client("sns")
    topic = sns.create_topic(Name=f"on-complete-{uuid.uuid4().hex[:6]}")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=fn_arn)
    tag = uuid.uuid4().hex[:6]
    _rule_to(stack, "default", {"source": ["aws.mediaconvert"], "detail": {"userMetadata": {"tag": [tag]}}}, topic)
    stack.standin.sink(
        "aws.mediaconvert", "MediaConvert Job State Change", {"status": "COMPLETE", "userMetadata": {"tag": tag}}
    )
    (delivered,) = _bodies(stack.received(record_q, 1))
    inner = json.loads(delivered["event"]["Records"][0]["Sns"]["Message"])
    assert inner["detail-type"] == "MediaConvert Job State Change"
    assert inner["detail"]["status"] == "COMPLETE"


def test_failed_async_invocation_is_retried_then_sent_to_the_on_failure_destination(stack: Stack) -> None:
    record_q, _ = stack.queue("rec")
    dest_q, dest_arn = stack.queue("onfailure")
    name, fn_arn = stack.function("record_then_fail", env={"RECORD_QUEUE_URL": record_q})
    stack.client("lambda").put_function_event_invoke_config(
        FunctionName=name,
        MaximumRetryAttempts=2,
        DestinationConfig={"OnFailure": {"Destination": dest_arn}},
    )
    stack.runtime.refresh()
    started = time.monotonic()
    resp = stack.client("lambda").invoke(FunctionName=name, InvocationType="Event", Payload=b'{"n": 7}')
    assert resp["StatusCode"] == 202

    attempts = stack.received(record_q, 3)
    assert len(attempts) == 3  # first try + MaximumRetryAttempts
    assert {json.dumps(b["event"]) for b in _bodies(attempts)} == {'{"n": 7}'}
    (record,) = _bodies(stack.received(dest_q, 1))
    assert time.monotonic() - started >= 0.5  # the two retry delays were waited
    assert record["version"] == "1.0"
    ctx = record["requestContext"]
    assert ctx["condition"] == "RetriesExhausted"
    assert ctx["approximateInvokeCount"] == 3
    assert ctx["functionArn"] == f"{fn_arn}:$LATEST"
    assert record["requestPayload"] == {"n": 7}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert record["responsePayload"]["errorType"] == "RuntimeError"
    assert record["responsePayload"]["errorMessage"] == "always fails"
