"""Listing the dead-letter queues by their tags among every queue of the account (ListQueues + ListQueueTags)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from vidsense_ops import dlq

STAGE = "dev"
ACCOUNT_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012"
OURS = f"{ACCOUNT_URL}/vidsense-dev-nlp-analyzeSentiment-failed"
OUR_TAGS = {
    dlq.STAGE_TAG: STAGE,
    dlq.SERVICE_TAG: "nlp",
    dlq.FUNCTION_TAG: "analyzeSentiment",
    dlq.KIND_TAG: "failed",
}
ATTRIBUTES = {
    "QueueArn": "arn:aws:sqs:eu-west-1:123456789012:vidsense-dev-nlp-analyzeSentiment-failed",
    "ApproximateNumberOfMessages": "2",
    "ApproximateNumberOfMessagesNotVisible": "0",
}


@pytest.fixture
def sqs() -> Iterator[tuple[object, Stubber]]:
    client = boto3.client("sqs", region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _listing(stubber: Stubber, *urls: str) -> None:
    stubber.add_response("list_queues", {"QueueUrls": list(urls)})


@pytest.mark.parametrize(
    "code",
    ["AccessDenied", "AccessDeniedException", "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"],
)
def test_a_queue_that_is_not_ours_or_is_gone_is_skipped(sqs, code):
    # Given the account's queues: another team's whose tags we may not read (or one deleted since), then ours
    client, stubber = sqs
    _listing(stubber, f"{ACCOUNT_URL}/another-teams-queue", OURS)
    stubber.add_client_error("list_queue_tags", service_error_code=code, http_status_code=400)
    stubber.add_response("list_queue_tags", {"Tags": OUR_TAGS}, {"QueueUrl": OURS})
    stubber.add_response("get_queue_attributes", {"Attributes": ATTRIBUTES})

    # When listing the stage's dead-letter queues
    queues = dlq.list_queues(client, STAGE)

    # Then ours is listed and the other one did not stop the command
    assert [(q.name, q.visible, q.kind) for q in queues] == [("vidsense-dev-nlp-analyzeSentiment-failed", 2, "failed")]


def test_our_own_queue_deleted_after_the_listing_is_skipped(sqs):
    client, stubber = sqs
    _listing(stubber, OURS)
    stubber.add_response("list_queue_tags", {"Tags": OUR_TAGS})
    stubber.add_client_error("get_queue_attributes", service_error_code="QueueDoesNotExist", http_status_code=400)

    assert dlq.list_queues(client, STAGE) == []


def test_a_refusal_on_our_own_queue_is_an_error(sqs):
    # Given our queue whose attributes we may not read (a real permission problem, not someone else's queue)
    client, stubber = sqs
    _listing(stubber, OURS)
    stubber.add_response("list_queue_tags", {"Tags": OUR_TAGS})
    stubber.add_client_error("get_queue_attributes", service_error_code="AccessDenied", http_status_code=403)

    # When listing, Then the error is not swallowed
    with pytest.raises(ClientError, match="AccessDenied"):
        dlq.list_queues(client, STAGE)


def test_when_no_queues_tags_can_be_read_our_permission_is_missing_and_that_is_an_error(sqs):
    client, stubber = sqs
    _listing(stubber, f"{ACCOUNT_URL}/a", f"{ACCOUNT_URL}/b")
    for _ in range(2):
        stubber.add_client_error("list_queue_tags", service_error_code="AccessDenied", http_status_code=403)

    with pytest.raises(ClientError, match="AccessDenied"):
        dlq.list_queues(client, STAGE)


def test_throttling_on_the_tags_is_an_error(sqs):
    client, stubber = sqs
    _listing(stubber, OURS)
    stubber.add_client_error("list_queue_tags", service_error_code="RequestThrottled", http_status_code=400)

    with pytest.raises(ClientError, match="RequestThrottled"):
        dlq.list_queues(client, STAGE)
