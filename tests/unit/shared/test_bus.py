"""EventBridgePublisher against PutEvents answers that accept only part of a batch (botocore Stubber)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import ANY, Stubber

from vidsense_shared.bus import EventBridgePublisher, PublishError
from vidsense_shared.events import TranscodeFailed, TranscodeFailedData

BUS = "vidsense-test-bus"


def _failure(n: int) -> TranscodeFailed:
    data = TranscodeFailedData(
        project="p", step="1", user_key="ab" * 32, attempt=n, error_code="1010", error_message="Unsupported codec"
    )
    return TranscodeFailed.create(
        data, correlation_id=f"p/1/{'ab' * 32}", causation_id=None, occurred_at=datetime.now(UTC)
    )


def _accepted(n: int) -> dict[str, str]:
    return {"EventId": f"accepted-{n}"}


REJECTED = {"ErrorCode": "InternalFailure", "ErrorMessage": "EventBridge could not store the event"}


@pytest.fixture
def stubbed() -> Iterator[tuple[EventBridgePublisher, Stubber]]:
    client = boto3.client("events", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield EventBridgePublisher(BUS, client), stubber


def test_a_batch_with_one_rejected_entry_raises_a_publish_error_naming_it(stubbed):
    publisher, stubber = stubbed
    # Given EventBridge accepts the first entry of two and rejects the second (HTTP 200, FailedEntryCount 1)
    stubber.add_response("put_events", {"FailedEntryCount": 1, "Entries": [_accepted(1), REJECTED]}, {"Entries": ANY})
    # When both are published, Then the caller gets the typed error with EventBridge's code
    with pytest.raises(PublishError, match=r"rejected 1 event.*InternalFailure"):
        publisher.publish(_failure(1), _failure(2))
    stubber.assert_no_pending_responses()


def test_a_rejection_in_a_later_batch_of_ten_still_raises(stubbed):
    publisher, stubber = stubbed
    # Given twelve events (two PutEvents calls): the first call accepts all ten, the second rejects one of two
    stubber.add_response("put_events", {"FailedEntryCount": 0, "Entries": [_accepted(n) for n in range(10)]})
    stubber.add_response("put_events", {"FailedEntryCount": 1, "Entries": [REJECTED, _accepted(11)]})
    # When published, Then the call fails although most events went out (the caller's retry republishes the ids)
    with pytest.raises(PublishError, match="InternalFailure"):
        publisher.publish(*(_failure(n) for n in range(1, 13)))
    stubber.assert_no_pending_responses()


def test_a_fully_accepted_batch_returns_normally(stubbed):
    publisher, stubber = stubbed
    stubber.add_response("put_events", {"FailedEntryCount": 0, "Entries": [_accepted(1), _accepted(2)]})
    publisher.publish(_failure(1), _failure(2))
    stubber.assert_no_pending_responses()


def test_a_put_events_call_refused_by_the_service_raises_a_publish_error(stubbed):
    publisher, stubber = stubbed
    # Given PutEvents itself fails (a ClientError, not a partial batch)
    stubber.add_client_error("put_events", service_error_code="AccessDeniedException", http_status_code=400)
    # When an event is published, Then the caller gets the typed error naming the failed call, not botocore's
    with pytest.raises(PublishError, match=r"put_events failed.*AccessDeniedException"):
        publisher.publish(_failure(1))
    stubber.assert_no_pending_responses()
