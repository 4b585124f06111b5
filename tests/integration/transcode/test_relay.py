"""relayTranscoderEvents handler: SNS-wrapped MediaConvert state changes -> domain events on the stage bus."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders

from tests.integration.transcode.conftest import job_item, put_job
from tests.unit.transcode.fixtures import (
    ANSWER_ID,
    AUDIO_KEY,
    MEDIACONVERT_JOB_ID,
    VIDEO_UPLOADED_EVENT_ID,
    WORK_BUCKET,
    load,
    sns_message,
    with_sns_message,
)
from transcode.handlers import relay
from vidsense_shared import aws
from vidsense_shared.bus import PublishError
from vidsense_shared.events import TranscodeFailed, TranscoderCompleted, derived_event_id, parse_detail

JOB_KEY = f"{ANSWER_ID}#1"


def test_complete_is_published_as_transcoder_completed(stack, context):
    # Given the SNS delivery of this stage's COMPLETE event
    result = relay.handler(load("sns_mediaconvert_complete.json"), context)
    # Then exactly one TranscoderCompleted reaches the stage bus, valid against the contract
    assert result == {"results": ["TranscoderCompleted"]}
    (published,) = stack.events.drain()
    assert published["detail-type"] == "TranscoderCompleted"
    event = parse_detail(published["detail-type"], published["detail"])
    assert isinstance(event, TranscoderCompleted)
    assert (event.data.audio.bucket, event.data.audio.key) == (WORK_BUCKET, AUDIO_KEY)
    assert event.data.duration_ms == 48213
    assert event.metadata.correlation_id == ANSWER_ID
    assert event.metadata.causation_id == VIDEO_UPLOADED_EVENT_ID
    assert event.metadata.event_id == derived_event_id(
        f"mediaconvert:{MEDIACONVERT_JOB_ID}:COMPLETE", "TranscoderCompleted"
    )


def test_output_order_does_not_change_the_chosen_rendition(stack, context):
    envelope = load("sns_mediaconvert_complete_multi_output.json")
    message = sns_message(envelope)
    reordered = copy.deepcopy(message)
    reordered["detail"]["outputGroupDetails"].reverse()
    for group in reordered["detail"]["outputGroupDetails"]:
        group["outputDetails"].reverse()
    relay.handler(envelope, context)
    relay.handler(with_sns_message(envelope, reordered), context)
    first, second = stack.events.drain()
    assert first["detail"]["data"]["audio"] == second["detail"]["data"]["audio"]
    assert first["detail"]["data"]["audio"]["key"] == AUDIO_KEY


@pytest.mark.parametrize(
    ("fixture", "code", "message_start"),
    [
        ("sns_mediaconvert_error.json", "1010", "Unable to open input file"),
        ("sns_mediaconvert_canceled.json", "CANCELED", f"MediaConvert job {MEDIACONVERT_JOB_ID} was canceled"),
    ],
)
def test_error_and_canceled_become_transcode_failed(stack, context, fixture, code, message_start):
    relay.handler(load(fixture), context)
    (published,) = stack.events.drain()
    event = parse_detail(published["detail-type"], published["detail"])
    assert isinstance(event, TranscodeFailed)
    assert event.data.error_code == code
    assert event.data.error_message.startswith(message_start)
    assert event.data.job_id == MEDIACONVERT_JOB_ID
    assert event.metadata.causation_id == VIDEO_UPLOADED_EVENT_ID


@pytest.mark.parametrize("fixture", ["sns_mediaconvert_progressing.json", "sns_mediaconvert_complete_other_stage.json"])
def test_progress_and_other_stages_publish_nothing(stack, context, fixture):
    result = relay.handler(load(fixture), context)
    assert result == {"results": ["skipped"]}
    assert stack.events.drain() == []


def test_a_redelivered_notification_publishes_nothing(stack, context):
    # Given the attempt's record (startTranscode wrote it) and a first delivery that was relayed
    put_job(stack.dynamodb, JOB_KEY, mediaconvert_job_id={"S": MEDIACONVERT_JOB_ID}, open_shard={"S": "open"})
    assert relay.handler(load("sns_mediaconvert_error.json"), context) == {"results": ["TranscodeFailed"]}
    # When SNS delivers the same message again
    assert relay.handler(load("sns_mediaconvert_error.json"), context) == {"results": ["duplicate"]}
    # Then only the first reached the bus, and the record says what went out and that the attempt is final
    (published,) = stack.events.drain()
    item = job_item(stack.dynamodb, JOB_KEY)
    assert item["emitted"] == {"SS": [f"TranscodeFailed:{published['detail']['metadata']['event_id']}"]}
    assert "open_shard" not in item


def test_without_a_record_the_outcome_is_still_published(stack, context):
    # An answer erased meanwhile (or a record lost): the event is the truth, the marker cannot be kept
    assert relay.handler(load("sns_mediaconvert_complete.json"), context) == {"results": ["TranscoderCompleted"]}
    assert len(stack.events.drain()) == 1


def test_a_message_that_is_not_a_mediaconvert_event_raises(stack, context):
    envelope = with_sns_message(load("sns_mediaconvert_complete.json"), {"hello": "world"})
    with pytest.raises(ValueError):
        relay.handler(envelope, context)


def test_a_partly_failed_put_events_raises_and_marks_nothing_emitted(stack, context):
    # Given the attempt's record, and EventBridge answering 200 with the entry rejected (FailedEntryCount 1)
    put_job(stack.dynamodb, JOB_KEY, mediaconvert_job_id={"S": MEDIACONVERT_JOB_ID}, open_shard={"S": "open"})
    events_client = aws.client("events")

    def reject(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        rejected = {"ErrorCode": "InternalFailure", "ErrorMessage": "EventBridge could not store the event"}
        return AWSResponse("https://events", 200, HTTPHeaders(), None), {
            "FailedEntryCount": 1,
            "Entries": [rejected],
            "ResponseMetadata": {},
        }

    events_client.meta.events.register_first("before-call.events.PutEvents", reject)
    try:
        # When the outcome is relayed, Then the delivery fails with the typed error (Lambda retries it)
        with pytest.raises(PublishError, match="InternalFailure"):
            relay.handler(load("sns_mediaconvert_error.json"), context)
    finally:
        events_client.meta.events.unregister("before-call.events.PutEvents", reject)
    # And the record does not claim the event went out, so the attempt stays open
    item = job_item(stack.dynamodb, JOB_KEY)
    assert "emitted" not in item
    assert item["open_shard"] == {"S": "open"}
    # And the retry publishes it and only then marks it
    assert relay.handler(load("sns_mediaconvert_error.json"), context) == {"results": ["TranscodeFailed"]}
    (published,) = stack.events.drain()
    marker = f"TranscodeFailed:{published['detail']['metadata']['event_id']}"
    assert job_item(stack.dynamodb, JOB_KEY)["emitted"] == {"SS": [marker]}
