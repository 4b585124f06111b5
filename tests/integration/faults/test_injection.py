"""Faults answered in each protocol's AWS error shape, as botocore parses and retries them."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from vidsense_local.faults import FaultRule, RuleError

TEXT: dict[str, Any] = {"Text": "I like this product.", "LanguageCode": "en"}


def code(exc: ClientError) -> tuple[str, int]:
    return exc.response["Error"]["Code"], exc.response["ResponseMetadata"]["HTTPStatusCode"]


def test_comprehend_throttles_n_times_then_answers(aws):
    rule = aws.registry.add(service="comprehend", operation="DetectSentiment", code="ThrottlingException", count=2)
    comprehend = aws.client("comprehend")
    for _ in range(2):
        with pytest.raises(ClientError) as raised:
            comprehend.detect_sentiment(**TEXT)
        assert code(raised.value) == ("ThrottlingException", 400)
    assert comprehend.detect_sentiment(**TEXT)["Sentiment"]
    assert (rule.fired, rule.remaining) == (2, 0)


def test_botocore_retries_see_the_throttling(aws):
    # One retry: both attempts are throttled, the next call gets through.
    rule = aws.registry.add(service="comprehend", operation="DetectSentiment", code="ThrottlingException", count=2)
    comprehend = aws.client("comprehend", attempts=2)
    with pytest.raises(ClientError) as raised:
        comprehend.detect_sentiment(**TEXT)
    assert raised.value.response["ResponseMetadata"]["RetryAttempts"] == 1
    assert code(raised.value) == ("ThrottlingException", 400)
    assert comprehend.detect_sentiment(**TEXT)["ResponseMetadata"]["RetryAttempts"] == 0
    assert rule.fired == 2


def test_botocore_retries_a_throttled_call_and_succeeds(aws):
    rule = aws.registry.add(service="comprehend", operation="DetectSentiment", code="ThrottlingException", count=2)
    answer = aws.client("comprehend", attempts=3).detect_sentiment(**TEXT)
    assert answer["ResponseMetadata"]["RetryAttempts"] == 2
    assert rule.fired == 2


def test_comprehend_server_errors_are_500s(aws):
    aws.registry.add(service="comprehend", code="InternalServerException", status=500, message="down")
    comprehend = aws.client("comprehend")
    with pytest.raises(comprehend.exceptions.InternalServerException) as raised:
        comprehend.detect_sentiment(**TEXT)
    assert code(raised.value) == ("InternalServerException", 500)
    assert raised.value.response["Error"]["Message"] == "down"


def test_a_rule_for_another_operation_does_not_fire(aws):
    rule = aws.registry.add(service="comprehend", operation="BatchDetectSentiment", count=None)
    assert aws.client("comprehend").detect_sentiment(**TEXT)["Sentiment"]
    assert rule.fired == 0


def test_dynamodb_throughput_error_is_the_modelled_exception(aws):
    dynamodb = aws.client("dynamodb")
    table = f"t-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    aws.registry.add(service="dynamodb", operation="PutItem", code="ProvisionedThroughputExceededException")
    with pytest.raises(dynamodb.exceptions.ProvisionedThroughputExceededException):
        dynamodb.put_item(TableName=table, Item={"pk": {"S": "a"}})
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "a"}})
    assert dynamodb.get_item(TableName=table, Key={"pk": {"S": "a"}})["Item"]


def test_mediaconvert_rest_json_operation_by_uri(aws):
    aws.registry.add(service="mediaconvert", operation="CreateJob", code="TooManyRequestsException", status=429)
    mediaconvert = aws.client("mediaconvert")
    with pytest.raises(mediaconvert.exceptions.TooManyRequestsException):
        mediaconvert.create_job(Role="arn:aws:iam::123456789012:role/r", Settings={})


def test_transcribe_limit_exceeded(aws):
    aws.registry.add(service="transcribe", operation="StartTranscriptionJob", code="LimitExceededException")
    transcribe = aws.client("transcribe")
    with pytest.raises(transcribe.exceptions.LimitExceededException):
        transcribe.start_transcription_job(
            TranscriptionJobName="j", LanguageCode="en-US", Media={"MediaFileUri": "s3://b/k.mp3"}
        )


def test_s3_errors_are_xml_and_the_rest_operation_is_resolved(aws):
    s3 = aws.client("s3")
    bucket = f"b-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    aws.registry.add(service="s3", operation="PutObject", code="SlowDown", status=503, count=None)
    with pytest.raises(ClientError) as raised:
        s3.put_object(Bucket=bucket, Key="a/b.json", Body=b"{}")
    assert code(raised.value) == ("SlowDown", 503)
    # Other operations on the same URI (HEAD/GET object, tagging) are not PutObject.
    s3.list_objects_v2(Bucket=bucket)
    with pytest.raises(ClientError) as missing:
        s3.get_object(Bucket=bucket, Key="a/b.json")
    assert code(missing.value)[0] == "NoSuchKey"


def test_sns_query_protocol_error(aws):
    sns = aws.client("sns")
    arn = sns.create_topic(Name=f"t-{uuid.uuid4().hex[:8]}")["TopicArn"]
    aws.registry.add(service="sns", operation="Publish", code="Throttled", status=400)
    with pytest.raises(ClientError) as raised:
        sns.publish(TopicArn=arn, Message="m")
    assert code(raised.value) == ("Throttled", 400)
    assert sns.publish(TopicArn=arn, Message="m")["MessageId"]


def test_sqs_json_protocol_error(aws):
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    aws.registry.add(service="sqs", operation="SendMessage", code="RequestThrottled", status=403)
    with pytest.raises(ClientError) as raised:
        sqs.send_message(QueueUrl=url, MessageBody="m")
    assert code(raised.value) == ("RequestThrottled", 403)


def test_access_key_filter_spares_other_callers(aws):
    aws.registry.add(service="comprehend", code="ThrottlingException", access_key="functions", count=None)
    assert aws.client("comprehend", key="vidsense-local-standin").detect_sentiment(**TEXT)["Sentiment"]
    with pytest.raises(ClientError):
        aws.client("comprehend", key="functions").detect_sentiment(**TEXT)


def _pattern(aws, calls: int = 40) -> list[bool]:
    comprehend = aws.client("comprehend")
    outcome = []
    for _ in range(calls):
        try:
            comprehend.detect_sentiment(**TEXT)
            outcome.append(False)
        except ClientError:
            outcome.append(True)
    return outcome


def test_probability_with_a_seed_is_reproducible(aws):
    rule = {"service": "comprehend", "code": "ServiceUnavailableException", "status": 503, "count": None}
    aws.registry.add(**rule, probability=0.3, seed=42)
    first = _pattern(aws)
    aws.registry.clear()
    aws.registry.add(**rule, probability=0.3, seed=42)
    assert _pattern(aws) == first
    assert 0 < sum(first) < len(first)
    aws.registry.clear()
    aws.registry.add(**rule, probability=0.3, seed=43)
    assert _pattern(aws) != first


def test_count_and_probability_together_cap_the_faults(aws):
    rule = aws.registry.add(service="comprehend", code="ThrottlingException", probability=0.5, seed=1, count=3)
    assert sum(_pattern(aws, 30)) == 3
    assert rule.remaining == 0


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"service": "comprehend", "probability": 2},
        {"service": "comprehend", "status": 42},
        {"service": "comprehend", "effect": "explode"},
        {"service": "comprehend", "effect": "job-error"},
        {"service": "comprehend", "colour": "red"},
    ],
)
def test_invalid_rules_are_refused(aws, bad):
    with pytest.raises(RuleError):
        aws.registry.add(**bad)
    assert aws.registry.rules() == []


def test_rule_objects_and_fields_both_register(aws):
    rule = aws.registry.add(FaultRule(service="Comprehend", count=None))
    assert rule.service == "comprehend"
    assert [r.id for r in aws.registry.rules()] == [rule.id]
    assert aws.registry.remove(rule.id)
    assert not aws.registry.remove(rule.id)
