"""transcriptionCompleted handler: Transcribe Job State Change -> TranscriptReady / TranscriptionFailed."""

from __future__ import annotations

import pytest

from tests.integration.transcode.conftest import put_job
from tests.unit.transcode.fixtures import (
    ANSWER_ID,
    JOB_NAME,
    TRANSCODER_COMPLETED_EVENT_ID,
    TRANSCRIPT_KEY,
    WORK_BUCKET,
    load,
)
from transcode.domain.transcription_outcome import JobRecordMissingError
from transcode.handlers import transcription_completed
from vidsense_shared.events import TranscriptReady, derived_event_id, parse_detail

JOB_KEY = f"{ANSWER_ID}#1"


@pytest.fixture
def recorded(stack):
    """The jobs-table item as startTranscode and startTranscription leave it."""
    put_job(
        stack.dynamodb,
        JOB_KEY,
        client_request_token={"S": "7a0b3c5e-5f0d-5c1e-9a35-1b1d64d3f0c2"},
        video_uploaded_event_id={"S": "5f0c7a52-8d3e-4c61-9b0e-2a7d4e1f6c93"},
        mediaconvert_job_id={"S": "1764378551482-q7w2zk"},
        transcription_job_name={"S": JOB_NAME},
        transcoder_completed_event_id={"S": TRANSCODER_COMPLETED_EVENT_ID},
        audio_duration_ms={"N": "48213"},
    )


def test_completed_publishes_transcript_ready(stack, transcribe, recorded, context):
    # Given a COMPLETED job whose output is where we asked Transcribe to write it
    transcribe.add_response(
        "get_transcription_job", load("get_transcription_job_completed.json"), {"TranscriptionJobName": JOB_NAME}
    )
    # When its state change arrives from the default bus
    result = transcription_completed.handler(load("eventbridge_transcribe_completed.json"), context)
    # Then TranscriptReady carries the transcript pointer, language and duration, caused by TranscoderCompleted
    assert result == {"outcome": "published"}
    (published,) = stack.events.drain()
    event = parse_detail(published["detail-type"], published["detail"])
    assert isinstance(event, TranscriptReady)
    assert (event.data.transcript.bucket, event.data.transcript.key) == (WORK_BUCKET, TRANSCRIPT_KEY)
    assert event.data.language_code == "en-US"
    assert event.data.duration_ms == 48213
    assert event.data.job_name == JOB_NAME
    assert event.data.attempt == 1
    assert event.metadata.correlation_id == ANSWER_ID
    assert event.metadata.causation_id == TRANSCODER_COMPLETED_EVENT_ID
    assert event.metadata.event_id == derived_event_id(f"transcribe:{JOB_NAME}:COMPLETED", "TranscriptReady")


def test_failed_publishes_transcribes_failure_reason(stack, transcribe, recorded, context):
    transcribe.add_response(
        "get_transcription_job", load("get_transcription_job_failed.json"), {"TranscriptionJobName": JOB_NAME}
    )
    result = transcription_completed.handler(load("eventbridge_transcribe_failed.json"), context)
    assert result == {"outcome": "failed"}
    (published,) = stack.events.drain()
    assert published["detail-type"] == "TranscriptionFailed"
    data = published["detail"]["data"]
    assert data["error_code"] == "TRANSCRIPTION_FAILED"
    assert data["error_message"].startswith("The media format that you specified doesn't match")
    assert data["job_name"] == JOB_NAME
    assert published["detail"]["metadata"]["causation_id"] == TRANSCODER_COMPLETED_EVENT_ID


def test_other_stages_jobs_are_skipped_without_any_call(stack, transcribe, context):
    result = transcription_completed.handler(load("eventbridge_transcribe_completed_other_stage.json"), context)
    assert result == {"outcome": "skipped"}
    assert stack.events.drain() == []


def test_a_transcript_elsewhere_than_expected_fails_the_answer(stack, transcribe, recorded, context):
    job = load("get_transcription_job_completed.json")
    job["TranscriptionJob"]["Transcript"]["TranscriptFileUri"] = (
        f"https://s3.us-east-1.amazonaws.com/{WORK_BUCKET}/somewhere/else.json"
    )
    transcribe.add_response("get_transcription_job", job, {"TranscriptionJobName": JOB_NAME})
    transcription_completed.handler(load("eventbridge_transcribe_completed.json"), context)
    (published,) = stack.events.drain()
    assert published["detail"]["data"]["error_code"] == "TRANSCRIPT_LOCATION_MISMATCH"


def test_a_local_endpoint_uri_is_not_second_guessed(stack, transcribe, recorded, context):
    job = load("get_transcription_job_completed.json")
    job["TranscriptionJob"]["Transcript"]["TranscriptFileUri"] = f"http://127.0.0.1:4566/{WORK_BUCKET}/{TRANSCRIPT_KEY}"
    transcribe.add_response("get_transcription_job", job, {"TranscriptionJobName": JOB_NAME})
    transcription_completed.handler(load("eventbridge_transcribe_completed.json"), context)
    (published,) = stack.events.drain()
    assert published["detail-type"] == "TranscriptReady"
    assert published["detail"]["data"]["transcript"]["key"] == TRANSCRIPT_KEY


def test_without_a_recorded_job_the_event_is_raised_for_retry(stack, transcribe, context):
    with pytest.raises(JobRecordMissingError):
        transcription_completed.handler(load("eventbridge_transcribe_completed.json"), context)
    assert stack.events.drain() == []


def test_a_redelivered_state_change_asks_and_publishes_nothing(stack, transcribe, recorded, context):
    transcribe.add_response(
        "get_transcription_job", load("get_transcription_job_completed.json"), {"TranscriptionJobName": JOB_NAME}
    )
    transcription_completed.handler(load("eventbridge_transcribe_completed.json"), context)
    # The same event again: no GetTranscriptionJob (none queued), no event
    assert transcription_completed.handler(load("eventbridge_transcribe_completed.json"), context) == {
        "outcome": "duplicate"
    }
    assert len(stack.events.drain()) == 1
