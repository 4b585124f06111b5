"""Dead letters on the local stack: Comprehend refused (injected AccessDenied, as a missing IAM permission
would), analyzeSentiment fails its asynchronous retries, the event lands in nlp's on-failure queue; operators
see it with ``vidsense dlq list|show``, fix the cause, ``vidsense dlq redrive`` it, and the answer ends ANALYZED."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from vidsense_local.demo import StackEndpoints
from vidsense_local.faults import FaultClient

from .support import LOCAL, Submitted, aws_client, poll, submit, vidsense

pytestmark = pytest.mark.e2e

NLP_QUEUES = f"{LOCAL.service_prefix('nlp')}-"
FAILED_QUEUE = f"{NLP_QUEUES}analyzeSentiment-failed"
# The pipeline to TranscriptReady, then 1 + 2 asynchronous attempts (the local runtime waits 1 s, then 2 s):
# about 30 s on an idle machine, minutes at load average 20.
DEAD_LETTER_TIMEOUT = 300.0


@pytest.fixture
def comprehend_refuses(stack: StackEndpoints) -> Iterator[Callable[[], None]]:
    """Every Comprehend call answers AccessDenied (not retried by botocore, not a domain rejection) until the
    yielded ``fix()`` is called; the rule is removed at teardown whatever happened."""
    faults = FaultClient(stack.aws_url)
    rule = faults.add(service="comprehend", operation="*", code="AccessDeniedException", status=400, count=None)
    rule_id = rule["id"]

    def fix() -> None:
        if any(r["id"] == rule_id for r in faults.rules()):
            faults.remove(rule_id)

    try:
        yield fix
    finally:
        fix()


def _queue_url(stack: StackEndpoints) -> str:
    url: str = aws_client(stack, "sqs").get_queue_url(QueueName=FAILED_QUEUE)["QueueUrl"]
    return url


def _messages_of(stack: StackEndpoints, answer_id: str) -> list[dict[str, Any]]:
    """Messages of the failed queue that carry this answer's event (peeked: visibility timeout 0)."""
    sqs = aws_client(stack, "sqs")
    found: dict[str, dict[str, Any]] = {}
    for _ in range(5):  # SQS samples: a few receives see every message of a small queue
        response = sqs.receive_message(QueueUrl=_queue_url(stack), MaxNumberOfMessages=10, VisibilityTimeout=0)
        for message in response.get("Messages", []):
            if answer_id in message["Body"]:
                found[message["MessageId"]] = message
    return list(found.values())


def _status(run: Submitted) -> str | None:
    response = run.client.get(f"/answers/{run.project}/{run.step}")
    return response.json().get("status") if response.status_code == 200 else None


def test_failed_sentiment_is_dead_lettered_shown_and_redriven(stack, comprehend_refuses):
    run = submit(stack, f"e2e-dlq-{uuid.uuid4().hex[:6]}", "1", "positive.webm")

    messages = poll(lambda: _messages_of(stack, run.answer_id), DEAD_LETTER_TIMEOUT, "the failed event in the queue")
    assert len(messages) == 1
    record = json.loads(messages[0]["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3  # the first attempt and Lambda's 2 retries
    assert record["requestContext"]["functionArn"].split(":")[6] == LOCAL.function("nlp", "analyzeSentiment")
    assert record["requestPayload"]["detail-type"] == "TranscriptReady"
    assert "AccessDeniedException" in json.dumps(record["responsePayload"])
    assert _status(run) == "TRANSCRIBED"

    listing = vidsense(stack, "dlq", "list", "--stage", "local", "--service", "nlp")
    assert listing.returncode == 0, listing.stderr
    rows = {line.split()[0]: line for line in listing.stdout.splitlines() if line.strip()}
    assert {FAILED_QUEUE, f"{NLP_QUEUES}analyzeSentiment-dlq"} <= set(rows), listing.stdout
    assert all(name.startswith(NLP_QUEUES) for name in rows), listing.stdout
    visible = re.search(r"visible=(\d+)", rows[FAILED_QUEUE])
    assert visible is not None and int(visible.group(1)) >= 1, listing.stdout

    shown = vidsense(stack, "dlq", "show", "--stage", "local", "--service", "nlp", "--queue", FAILED_QUEUE)
    assert shown.returncode == 0, shown.stderr
    assert f"--- {FAILED_QUEUE} {messages[0]['MessageId']}" in shown.stdout
    assert run.answer_id in shown.stdout and "RetriesExhausted" in shown.stdout
    # Showing hides nothing: the message is still there for the redrive.
    assert len(_messages_of(stack, run.answer_id)) == 1

    # While the cause is not fixed, a redrive fails again and keeps the message.
    again = vidsense(stack, "dlq", "redrive", "--stage", "local", "--service", "nlp", "--queue", FAILED_QUEUE)
    assert again.returncode == 1, again.stdout + again.stderr
    assert "failed again" in again.stdout
    assert len(_messages_of(stack, run.answer_id)) == 1

    comprehend_refuses()
    redriven = vidsense(stack, "dlq", "redrive", "--stage", "local", "--service", "nlp")
    assert redriven.returncode == 0, redriven.stdout + redriven.stderr
    # At least ours (an earlier test on the shared stack may have left one that now succeeds too).
    outcome = re.search(rf"{FAILED_QUEUE}: redriven (\d+), failed 0", redriven.stdout)
    assert outcome is not None and int(outcome.group(1)) >= 1, redriven.stdout

    assert poll(lambda: _status(run) == "ANALYZED", 60.0, "the redriven answer analysed")
    answer = run.client.get(f"/answers/{run.project}/{run.step}").json()
    assert answer["sentiment"] == "POSITIVE" and answer["error"] is None
    assert _messages_of(stack, run.answer_id) == []
    attrs = aws_client(stack, "sqs").get_queue_attributes(QueueUrl=_queue_url(stack), AttributeNames=["All"])
    assert attrs["Attributes"]["ApproximateNumberOfMessages"] == "0"
    assert attrs["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "0"
