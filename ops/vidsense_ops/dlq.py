"""Dead-letter queues: list them, show their messages, redrive messages to the function they were meant for.

Three kinds of message reach vidsense's dead-letter queues, and each says where it was going:
- a Lambda on-failure destination record: ``requestContext.functionArn`` and ``requestPayload``;
- an EventBridge target DLQ message: the event as body, the target in the ``TARGET_ARN`` attribute;
- an SNS subscription or function DLQ message: found through the subscription / function that names the queue.

The queues are the ones the deploy declares: deploy/plugins/vidsense-failure-paths.js tags each with its stage,
service, function and kind (``failed``: on-failure destination, ``dlq``: delivery dead letters), and ``list_queues``
selects by those tags (``sqs:ListQueues``, ``sqs:ListQueueTags``), never by a queue's name.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from vidsense_shared.aws_errors import error_code

# The tags the deploy puts on every dead-letter queue (deploy/plugins/vidsense-failure-paths.js; a test keeps the
# two equal).
STAGE_TAG = "vidsense:stage"
SERVICE_TAG = "vidsense:service"
FUNCTION_TAG = "vidsense:function"
KIND_TAG = "vidsense:kind"
KINDS = frozenset({"failed", "dlq"})
_RECEIVE_BATCH = 10
_LIST_PAGE = 1000  # the most ListQueues returns per page
# SQS answers in its JSON protocol or, for older clients, in the query protocol: both spellings of each code.
_GONE = frozenset({"QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"})
_DENIED = frozenset({"AccessDenied", "AccessDeniedException"})


class RedriveError(RuntimeError):
    """A message cannot be redriven: its destination is unknown or the function failed again."""


@dataclass(frozen=True)
class Queue:
    name: str
    url: str
    arn: str
    visible: int
    in_flight: int
    service: str
    function: str
    kind: str


@dataclass(frozen=True)
class Redrive:
    """Where a dead-lettered message goes back to, and what to send."""

    kind: str  # "lambda" or "sns"
    target_arn: str
    payload: dict[str, Any]


def is_dead_letter_queue(tags: Mapping[str, str], stage: str, service: str | None = None) -> bool:
    """True for a queue the deploy tagged as one of ``stage``'s dead-letter queues (of ``service`` when given)."""
    return (
        tags.get(STAGE_TAG) == stage
        and tags.get(KIND_TAG) in KINDS
        and bool(tags.get(SERVICE_TAG))
        and (service is None or tags.get(SERVICE_TAG) == service)
    )


def list_queues(sqs: Any, stage: str, service: str | None = None) -> list[Queue]:
    """The stage's dead-letter queues (of one service when given), by their tags, ordered by name."""
    queues: list[Queue] = []
    urls: list[str] = []
    for page in sqs.get_paginator("list_queues").paginate(PaginationConfig={"PageSize": _LIST_PAGE}):
        urls.extend(page.get("QueueUrls", []))
    denied: ClientError | None = None
    readable = 0
    for url in urls:
        try:
            tags: dict[str, str] = sqs.list_queue_tags(QueueUrl=url).get("Tags", {})
        except ClientError as exc:
            # ListQueues returns every queue of the account and region: one another team's policy hides from us, or
            # one deleted since, is not ours and must not stop the command.
            if error_code(exc) in _GONE:
                continue
            if error_code(exc) in _DENIED:
                denied = denied or exc
                continue
            raise
        readable += 1
        if not is_dead_letter_queue(tags, stage, service):
            continue
        try:
            attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        except ClientError as exc:
            if error_code(exc) in _GONE:  # deleted between the listing and now; any other refusal on ours is real
                continue
            raise
        queues.append(
            Queue(
                name=url.rstrip("/").rsplit("/", 1)[-1],
                url=url,
                arn=attrs["QueueArn"],
                visible=int(attrs.get("ApproximateNumberOfMessages", 0)),
                in_flight=int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
                service=tags[SERVICE_TAG],
                function=tags.get(FUNCTION_TAG, ""),
                kind=tags[KIND_TAG],
            )
        )
    if denied is not None and readable == 0:
        # Not one queue's tags could be read: our own permission (sqs:ListQueueTags) is missing, not theirs.
        raise denied
    return sorted(queues, key=lambda q: q.name)


def peek(sqs: Any, queue: Queue, limit: int = 10) -> list[dict[str, Any]]:
    """Messages without hiding them (visibility timeout 0), so ``show`` changes nothing for consumers."""
    response = sqs.receive_message(
        QueueUrl=queue.url,
        MaxNumberOfMessages=min(limit, _RECEIVE_BATCH),
        VisibilityTimeout=0,
        MessageAttributeNames=["All"],
        AttributeNames=["All"],
    )
    messages: list[dict[str, Any]] = response.get("Messages", [])
    return messages


def _attribute(message: dict[str, Any], name: str) -> str | None:
    value = message.get("MessageAttributes", {}).get(name)
    return None if value is None else str(value.get("StringValue"))


def _function_arn(arn: str) -> str:
    """Drop a version/alias qualifier such as ``:$LATEST``."""
    parts = arn.split(":")
    return ":".join(parts[:7]) if len(parts) > 7 else arn


def resolve(message: dict[str, Any], queue: Queue, lambda_client: Any, sns: Any) -> Redrive:
    body_text = message.get("Body", "")
    try:
        body: Any = json.loads(body_text)
    except json.JSONDecodeError:
        body = None
    if isinstance(body, dict) and "requestContext" in body and "requestPayload" in body:
        return Redrive("lambda", _function_arn(body["requestContext"]["functionArn"]), body["requestPayload"])
    target = _attribute(message, "TARGET_ARN")
    if target and isinstance(body, dict):
        if ":lambda:" in target:
            return Redrive("lambda", _function_arn(target), body)
        if ":sns:" in target:
            return Redrive("sns", target, body)
    subscription = _subscription_for(queue.arn, sns)
    if subscription is not None and isinstance(body, dict):
        return Redrive("lambda", _function_arn(subscription["Endpoint"]), _sns_event(subscription, body))
    function_arn = _function_for_dlq(queue.arn, lambda_client)
    if function_arn is not None and isinstance(body, dict):
        return Redrive("lambda", function_arn, body)
    raise RedriveError(f"message {message.get('MessageId')} in {queue.name}: destination unknown")


def _subscription_for(queue_arn: str, sns: Any) -> dict[str, Any] | None:
    for page in sns.get_paginator("list_subscriptions").paginate():
        for sub in page.get("Subscriptions", []):
            if sub.get("Protocol") != "lambda":
                continue
            attrs = sns.get_subscription_attributes(SubscriptionArn=sub["SubscriptionArn"])["Attributes"]
            policy = json.loads(attrs.get("RedrivePolicy") or "{}")
            if policy.get("deadLetterTargetArn") == queue_arn:
                return dict(sub)
    return None


def _function_for_dlq(queue_arn: str, lambda_client: Any) -> str | None:
    for page in lambda_client.get_paginator("list_functions").paginate():
        for function in page.get("Functions", []):
            if function.get("DeadLetterConfig", {}).get("TargetArn") == queue_arn:
                return str(function["FunctionArn"])
    return None


def _sns_event(subscription: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """Rebuild the Lambda SNS event from the SNS message body SNS put in the subscription's DLQ."""
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription["SubscriptionArn"],
                "Sns": {
                    "Type": body.get("Type", "Notification"),
                    "MessageId": body.get("MessageId"),
                    "TopicArn": body.get("TopicArn", subscription.get("TopicArn")),
                    "Subject": body.get("Subject"),
                    "Message": body.get("Message"),
                    "Timestamp": body.get("Timestamp"),
                    "SignatureVersion": body.get("SignatureVersion", "1"),
                    "Signature": body.get("Signature", ""),
                    "SigningCertUrl": body.get("SigningCertURL", ""),
                    "UnsubscribeUrl": body.get("UnsubscribeURL", ""),
                    "MessageAttributes": body.get("MessageAttributes", {}),
                },
            }
        ]
    }


def send(redrive: Redrive, lambda_client: Any, sns: Any) -> None:
    if redrive.kind == "sns":
        sns.publish(TopicArn=redrive.target_arn, Message=json.dumps(redrive.payload))
        return
    response = lambda_client.invoke(
        FunctionName=redrive.target_arn, InvocationType="RequestResponse", Payload=json.dumps(redrive.payload)
    )
    if response.get("FunctionError"):
        detail = response["Payload"].read().decode(errors="replace")[:500]
        raise RedriveError(f"{redrive.target_arn} failed again: {detail}")


@dataclass
class RedriveOutcome:
    redriven: int = 0
    failed: int = 0


def drain(sqs: Any, queue: Queue, max_messages: int) -> Iterator[dict[str, Any]]:
    """Receive up to ``max_messages``, hidden for a minute while they are redriven."""
    seen = 0
    while seen < max_messages:
        batch = sqs.receive_message(
            QueueUrl=queue.url,
            MaxNumberOfMessages=min(_RECEIVE_BATCH, max_messages - seen),
            VisibilityTimeout=60,
            MessageAttributeNames=["All"],
            AttributeNames=["All"],
        ).get("Messages", [])
        if not batch:
            return
        for message in batch:
            seen += 1
            yield message


def redrive_queue(
    sqs: Any, lambda_client: Any, sns: Any, queue: Queue, *, max_messages: int = 100
) -> tuple[RedriveOutcome, list[str]]:
    """Redrive each message; delete it only when its function succeeded, so nothing is lost."""
    outcome, errors, kept = RedriveOutcome(), [], []
    for message in drain(sqs, queue, max_messages):
        try:
            send(resolve(message, queue, lambda_client, sns), lambda_client, sns)
        except RedriveError as exc:
            outcome.failed += 1
            errors.append(str(exc))
            kept.append(message["ReceiptHandle"])  # stays hidden until the run ends, so it is tried once
            continue
        sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"])
        outcome.redriven += 1
    for receipt in kept:
        sqs.change_message_visibility(QueueUrl=queue.url, ReceiptHandle=receipt, VisibilityTimeout=0)
    return outcome, errors
