"""startTranscode handler: VideoUploaded -> exactly one MediaConvert job per answer attempt."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.transcode.conftest import JOBS_TABLE, ROLE_ARN, job_item, put_job
from tests.unit.transcode.fixtures import (
    ANSWER_ID,
    FIXTURES,
    USER_KEY,
    VIDEO_UPLOADED_EVENT_ID,
    WORK_BUCKET,
    load,
)
from transcode.adapters.jobs_table import DynamoJobStore
from transcode.domain.ports import JobRecord
from transcode.handlers import start_transcode
from vidsense_shared.events import derived_event_id

JOB_KEY = f"{ANSWER_ID}#1"
VIDEO_VERSION = "3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY"  # the fixture event's video version
TOKEN = str(uuid.uuid5(uuid.NAMESPACE_URL, f"vidsense:dev:mediaconvert:{JOB_KEY}:{VIDEO_VERSION}"))
MEDIACONVERT_JOB_ID = "1764378551482-q7w2zk"


def expected_create_job() -> dict:
    """The CreateJob request, spelled out here rather than rebuilt with the code under test."""
    template = json.loads(
        (FIXTURES.parents[2] / "services/transcode/src/transcode/adapters/mediaconvert_job.json").read_text()
    )
    template.pop("_comment")
    template["Settings"]["Inputs"][0]["FileInput"] = (
        f"s3://vidsense-dev-media-123456789012/acme-onboarding/2/{USER_KEY}.webm"
    )
    template["Settings"]["OutputGroups"][0]["OutputGroupSettings"]["FileGroupSettings"]["Destination"] = (
        f"s3://{WORK_BUCKET}/dev/audio/acme-onboarding/2/{USER_KEY}/attempt-1/answer"
    )
    template["Role"] = ROLE_ARN
    template["ClientRequestToken"] = TOKEN
    template["UserMetadata"] = {
        "app": "vidsense",
        "stage": "dev",
        "answer_key": f"acme-onboarding/2/{USER_KEY}.webm",
        "project": "acme-onboarding",
        "step": "2",
        "user_key": USER_KEY,
        "attempt": "1",
        "correlation_id": ANSWER_ID,
        "causation_id": VIDEO_UPLOADED_EVENT_ID,
    }
    return template


def create_job_response(job_id: str = MEDIACONVERT_JOB_ID) -> dict:
    return {"Job": {"Id": job_id, "Role": ROLE_ARN, "Settings": {}, "Status": "SUBMITTED"}}


def test_first_delivery_starts_one_job_and_records_it(stack, mediaconvert, context):
    # Given an empty jobs table and a MediaConvert that accepts exactly the expected request
    mediaconvert.add_response("create_job", create_job_response(), expected_create_job())
    # When the VideoUploaded delivery arrives
    result = start_transcode.handler(load("eventbridge_video_uploaded.json"), context)
    # Then one job was created and its id recorded against the attempt
    assert result == {"outcome": "started"}
    item = job_item(stack.dynamodb, JOB_KEY)
    assert item["mediaconvert_job_id"] == {"S": MEDIACONVERT_JOB_ID}
    assert item["client_request_token"] == {"S": TOKEN}
    assert item["video_uploaded_event_id"] == {"S": VIDEO_UPLOADED_EVENT_ID}
    assert item["attempt"] == {"N": "1"}
    assert stack.events.drain() == []


def test_second_delivery_starts_nothing(stack, mediaconvert, context):
    # Given the job of this attempt was already started
    mediaconvert.add_response("create_job", create_job_response(), expected_create_job())
    start_transcode.handler(load("eventbridge_video_uploaded.json"), context)
    # When the same event is delivered again (EventBridge delivers at least once)
    result = start_transcode.handler(load("eventbridge_video_uploaded.json"), context)
    # Then no second CreateJob is made (the Stubber would fail on an unexpected call)
    assert result == {"outcome": "already_started"}
    assert job_item(stack.dynamodb, JOB_KEY)["mediaconvert_job_id"] == {"S": MEDIACONVERT_JOB_ID}


def test_a_crash_between_claim_and_create_job_is_recovered_with_the_same_token(stack, mediaconvert, context):
    # Given a claim written by an invocation that died before CreateJob returned
    put_job(
        stack.dynamodb,
        JOB_KEY,
        client_request_token={"S": TOKEN},
        video_uploaded_event_id={"S": VIDEO_UPLOADED_EVENT_ID},
        created_at={"S": "2026-11-29T01:12:04+00:00"},
    )
    # When the retry arrives, Then CreateJob is called again with the same deterministic token
    mediaconvert.add_response("create_job", create_job_response(), expected_create_job())
    result = start_transcode.handler(load("eventbridge_video_uploaded.json"), context)
    assert result == {"outcome": "resumed"}
    assert job_item(stack.dynamodb, JOB_KEY)["mediaconvert_job_id"] == {"S": MEDIACONVERT_JOB_ID}


def test_bad_request_publishes_transcode_failed(stack, mediaconvert, context):
    # Given MediaConvert rejects the job as a bad request
    mediaconvert.add_client_error(
        "create_job",
        service_error_code="BadRequestException",
        service_message="/inputs/0/fileInput: Unsupported input file extension",
        http_status_code=400,
        expected_params=expected_create_job(),
    )
    # When the VideoUploaded delivery arrives
    result = start_transcode.handler(load("eventbridge_video_uploaded.json"), context)
    # Then the answer fails visibly with MediaConvert's reason, and no job id is recorded
    assert result == {"outcome": "failed"}
    (published,) = stack.events.drain()
    assert published["detail-type"] == "TranscodeFailed"
    assert published["source"] == "vidsense.transcode"
    detail = published["detail"]
    assert detail["data"]["error_code"] == "BadRequestException"
    assert detail["data"]["error_message"] == "/inputs/0/fileInput: Unsupported input file extension"
    assert detail["data"]["attempt"] == 1
    assert detail["metadata"]["correlation_id"] == ANSWER_ID
    assert detail["metadata"]["causation_id"] == VIDEO_UPLOADED_EVENT_ID
    assert detail["metadata"]["event_id"] == derived_event_id(VIDEO_UPLOADED_EVENT_ID, "TranscodeFailed")
    assert "mediaconvert_job_id" not in job_item(stack.dynamodb, JOB_KEY)


@pytest.mark.parametrize(
    ("code", "status"),
    [("TooManyRequestsException", 429), ("InternalServerErrorException", 500), ("ForbiddenException", 403)],
)
def test_throttling_and_server_errors_raise_for_a_retry(stack, mediaconvert, context, code, status):
    mediaconvert.add_client_error("create_job", service_error_code=code, http_status_code=status)
    with pytest.raises(ClientError):
        start_transcode.handler(load("eventbridge_video_uploaded.json"), context)
    assert stack.events.drain() == []
    # The claim stays without a job id, so the retry takes the crash-recovery path
    assert "mediaconvert_job_id" not in job_item(stack.dynamodb, JOB_KEY)


def test_a_new_attempt_of_the_same_answer_gets_its_own_job(stack, mediaconvert, context):
    mediaconvert.add_response("create_job", create_job_response(), expected_create_job())
    start_transcode.handler(load("eventbridge_video_uploaded.json"), context)
    second = load("eventbridge_video_uploaded.json")
    second["detail"]["data"]["attempt"] = 2
    second["detail"]["metadata"]["event_id"] = "e0d9c8b7-a6f5-4e3d-8c2b-1a0f9e8d7c6b"
    mediaconvert.add_response("create_job", create_job_response("1764378999000-zz9yy8"))
    assert start_transcode.handler(second, context) == {"outcome": "started"}
    assert job_item(stack.dynamodb, f"{ANSWER_ID}#2")["mediaconvert_job_id"] == {"S": "1764378999000-zz9yy8"}


def test_a_duplicate_of_a_refused_upload_calls_and_publishes_nothing(stack, mediaconvert, context):
    # Given CreateJob refused the attempt once and TranscodeFailed went out
    mediaconvert.add_client_error(
        "create_job", service_error_code="BadRequestException", service_message="bad input", http_status_code=400
    )
    start_transcode.handler(load("eventbridge_video_uploaded.json"), context)
    # When EventBridge delivers the same event again, Then no CreateJob (none queued) and no second event
    assert start_transcode.handler(load("eventbridge_video_uploaded.json"), context) == {"outcome": "duplicate"}
    assert len(stack.events.drain()) == 1


# The replay resumes the attempt the refusal left claimed without a job.
@pytest.mark.parametrize(("replay_name", "outcome"), [(None, "duplicate"), ("after-fix-1", "resumed")])
def test_after_a_refusal_only_an_archive_replay_asks_mediaconvert_again(
    stack, mediaconvert, context, replay_name, outcome
):
    # Given CreateJob refused the attempt and TranscodeFailed went out
    mediaconvert.add_client_error(
        "create_job", service_error_code="BadRequestException", service_message="bad input", http_status_code=400
    )
    assert start_transcode.handler(load("eventbridge_video_uploaded.json"), context) == {"outcome": "failed"}
    # When the event comes again: redelivered (no replay-name), or replayed from the archive after a fix
    again = load("eventbridge_video_uploaded.json")
    if replay_name:
        again = {**again, "id": "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0", "replay-name": replay_name}
        mediaconvert.add_response("create_job", create_job_response(), expected_create_job())
    # Then only the replay calls CreateJob: the Stubber fails a call it has no response for, and the fixture
    # fails a queued response left unused (so the handler's replay flag, not a constant, decides)
    assert start_transcode.handler(again, context) == {"outcome": outcome}


# After an erasure the next recording is attempt 1 again: the erased answer's item may still be there.
ERASED_EVENT_ID = "1d2c3b4a-5f6e-4d7c-8b9a-0f1e2d3c4b5a"


def _erased_answers_item(stack: Any) -> None:
    put_job(
        stack.dynamodb,
        JOB_KEY,
        client_request_token={"S": "erased-token"},
        video_uploaded_event_id={"S": ERASED_EVENT_ID},
        video_uploaded_at={"S": "2026-11-28T09:00:00.000000+00:00"},
        created_at={"S": "2026-11-28T09:00:01.000000+00:00"},
        mediaconvert_job_id={"S": "1764300000000-erased"},
    )


def test_a_new_recording_replaces_the_erased_answers_item_and_starts_its_own_job(stack, mediaconvert, context):
    # Given the erased answer's attempt-1 item, not deleted yet by eraseAnswer
    _erased_answers_item(stack)
    # When the new recording's VideoUploaded arrives, Then its own job starts (token and causation of the new video)
    mediaconvert.add_response("create_job", create_job_response(), expected_create_job())
    assert start_transcode.handler(load("eventbridge_video_uploaded.json"), context) == {"outcome": "started"}
    item = job_item(stack.dynamodb, JOB_KEY)
    assert item["video_uploaded_event_id"] == {"S": VIDEO_UPLOADED_EVENT_ID}
    assert item["mediaconvert_job_id"] == {"S": MEDIACONVERT_JOB_ID}
    assert item["client_request_token"] == {"S": TOKEN}
    assert item["created_at"]["S"] > "2026-11-29"  # a late erasure (occurred before the upload) leaves it
    # And a replay of the erased answer's upload leaves the new item alone (no CreateJob queued)
    erased = load("eventbridge_video_uploaded.json")
    erased["replay-name"] = "after-fix-1"
    erased["detail"]["metadata"]["event_id"] = ERASED_EVENT_ID
    erased["detail"]["metadata"]["occurred_at"] = "2026-11-28T09:00:00Z"
    assert start_transcode.handler(erased, context) == {"outcome": "skipped"}
    assert job_item(stack.dynamodb, JOB_KEY) == item


def test_the_replace_is_conditional_on_the_erased_answers_event(stack):
    # Given the item was already replaced by another delivery
    _erased_answers_item(stack)
    store = DynamoJobStore(stack.dynamodb, JOBS_TABLE)
    winner = JobRecord(job_key=JOB_KEY, client_request_token=TOKEN, video_uploaded_event_id=VIDEO_UPLOADED_EVENT_ID)
    assert store.replace(winner, previous_event_id=ERASED_EVENT_ID)
    # When a second replace still conditioned on the erased answer's event runs, Then it changes nothing
    loser = JobRecord(job_key=JOB_KEY, client_request_token="other", video_uploaded_event_id="other-event")
    assert not store.replace(loser, previous_event_id=ERASED_EVENT_ID)
    assert job_item(stack.dynamodb, JOB_KEY)["video_uploaded_event_id"] == {"S": VIDEO_UPLOADED_EVENT_ID}
    # And with the item gone (erased meanwhile) a replace creates nothing
    stack.dynamodb.delete_item(TableName=JOBS_TABLE, Key={"job_key": {"S": JOB_KEY}})
    assert not store.replace(loser, previous_event_id=VIDEO_UPLOADED_EVENT_ID)
    assert "Item" not in stack.dynamodb.get_item(TableName=JOBS_TABLE, Key={"job_key": {"S": JOB_KEY}})
