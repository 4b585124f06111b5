"""startTranscription handler: TranscoderCompleted -> StartTranscriptionJob with a deterministic name."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.integration.transcode.conftest import DATA_ACCESS_ROLE_ARN, job_item
from tests.unit.transcode.fixtures import (
    ANSWER_ID,
    AUDIO_KEY,
    JOB_NAME,
    TRANSCODER_COMPLETED_EVENT_ID,
    TRANSCRIPT_KEY,
    WORK_BUCKET,
    load,
)
from transcode.handlers import start_transcription
from vidsense_shared import observability
from vidsense_shared.events import derived_event_id

JOB_KEY = f"{ANSWER_ID}#1"


def expected_start(language: str = "en-US") -> dict:
    # No MediaSampleRateHertz: Transcribe detects it, and a wrong value would fail the job. Deferred execution:
    # beyond the account's concurrent-job quota the job waits QUEUED rather than being refused.
    return {
        "TranscriptionJobName": JOB_NAME,
        "LanguageCode": language,
        "MediaFormat": "mp3",
        "Media": {"MediaFileUri": f"s3://{WORK_BUCKET}/{AUDIO_KEY}"},
        "OutputBucketName": WORK_BUCKET,
        "OutputKey": TRANSCRIPT_KEY,
        "JobExecutionSettings": {"AllowDeferredExecution": True, "DataAccessRoleArn": DATA_ACCESS_ROLE_ARN},
    }


def start_response() -> dict:
    return {
        "TranscriptionJob": {
            "TranscriptionJobName": JOB_NAME,
            "TranscriptionJobStatus": "IN_PROGRESS",
            "LanguageCode": "en-US",
            "MediaFormat": "mp3",
            "Media": {"MediaFileUri": f"s3://{WORK_BUCKET}/{AUDIO_KEY}"},
        }
    }


def test_starts_the_job_and_records_the_causing_event(stack, transcribe, context):
    # Given Transcribe accepts exactly the expected request
    transcribe.add_response("start_transcription_job", start_response(), expected_start())
    # When TranscoderCompleted is delivered
    result = start_transcription.handler(load("eventbridge_transcoder_completed.json"), context)
    # Then the job runs and the jobs table knows the causation id and duration for TranscriptReady
    assert result == {"outcome": "started"}
    item = job_item(stack.dynamodb, JOB_KEY)
    assert item["transcription_job_name"] == {"S": JOB_NAME}
    assert item["transcoder_completed_event_id"] == {"S": TRANSCODER_COMPLETED_EVENT_ID}
    assert item["audio_duration_ms"] == {"N": "48213"}
    assert stack.events.drain() == []


def test_language_comes_from_configuration(stack, transcribe, context, monkeypatch):
    monkeypatch.setenv("TRANSCRIBE_LANGUAGE", "de-DE")
    transcribe.add_response("start_transcription_job", start_response(), expected_start("de-DE"))
    assert start_transcription.handler(load("eventbridge_transcoder_completed.json"), context) == {"outcome": "started"}


def test_conflict_means_already_started_and_is_success(stack, transcribe, context):
    transcribe.add_client_error(
        "start_transcription_job",
        service_error_code="ConflictException",
        service_message="The requested job name already exists. Use a different job name.",
        http_status_code=400,
        expected_params=expected_start(),
    )
    result = start_transcription.handler(load("eventbridge_transcoder_completed.json"), context)
    assert result == {"outcome": "already_started"}
    assert stack.events.drain() == []


def test_unknown_audio_format_fails_the_answer_without_calling_transcribe(stack, transcribe, context):
    # Given a rendition Transcribe cannot read (the Stubber has no response queued: a call would fail)
    delivery = load("eventbridge_transcoder_completed.json")
    delivery["detail"]["data"]["audio"]["key"] = AUDIO_KEY.replace(".mp3", ".aac")
    # When it is delivered
    result = start_transcription.handler(delivery, context)
    # Then TranscriptionFailed is published with a deterministic id
    assert result == {"outcome": "failed"}
    (published,) = stack.events.drain()
    assert published["detail-type"] == "TranscriptionFailed"
    data, metadata = published["detail"]["data"], published["detail"]["metadata"]
    assert data["error_code"] == "UNSUPPORTED_MEDIA_FORMAT"
    assert data["job_name"] == JOB_NAME
    assert metadata["causation_id"] == TRANSCODER_COMPLETED_EVENT_ID
    assert metadata["event_id"] == derived_event_id(TRANSCODER_COMPLETED_EVENT_ID, "TranscriptionFailed")


def test_bad_request_fails_the_answer_with_transcribes_message(stack, transcribe, context):
    transcribe.add_client_error(
        "start_transcription_job",
        service_error_code="BadRequestException",
        service_message="The S3 URI that you specified can't be accessed.",
        http_status_code=400,
    )
    start_transcription.handler(load("eventbridge_transcoder_completed.json"), context)
    (published,) = stack.events.drain()
    assert published["detail"]["data"]["error_code"] == "BadRequestException"
    assert published["detail"]["data"]["error_message"] == "The S3 URI that you specified can't be accessed."


@pytest.mark.parametrize("code", ["LimitExceededException", "InternalFailureException"])
def test_throttling_raises_for_a_retry(stack, transcribe, context, code):
    transcribe.add_client_error("start_transcription_job", service_error_code=code, http_status_code=400)
    with pytest.raises(ClientError):
        start_transcription.handler(load("eventbridge_transcoder_completed.json"), context)
    assert stack.events.drain() == []


@pytest.mark.parametrize("replay_name", [None, "after-fix-1"])
def test_a_started_job_is_never_started_again(stack, transcribe, context, replay_name, monkeypatch):
    # Given the job was started for this attempt (the Stubber holds one response only)
    transcribe.add_response("start_transcription_job", start_response(), expected_start())
    start_transcription.handler(load("eventbridge_transcoder_completed.json"), context)
    # When the event comes again, as a duplicate or as an archive replay
    again = load("eventbridge_transcoder_completed.json")
    if replay_name:
        again = {**again, "id": "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0", "replay-name": replay_name}
    # Then Transcribe is not called (an unexpected call would fail the Stubber) and nothing is published
    logged: list[tuple[str, dict]] = []
    monkeypatch.setattr(observability.logger, "info", lambda msg, **kw: logged.append((msg, kw.get("extra", {}))))
    assert start_transcription.handler(again, context) == {"outcome": "already_started"}
    assert "transcription_started_at" in job_item(stack.dynamodb, JOB_KEY)
    assert stack.events.drain() == []
    # A replay is logged as such, with its name
    replays = [extra["replay_name"] for msg, extra in logged if msg == "replay"]
    assert replays == ([replay_name] if replay_name else [])


@pytest.mark.parametrize(("replay_name", "outcome"), [(None, "duplicate"), ("after-fix-1", "started")])
def test_after_a_refusal_only_an_archive_replay_asks_transcribe_again(stack, transcribe, context, replay_name, outcome):
    # Given Transcribe refused the job and TranscriptionFailed went out
    transcribe.add_client_error(
        "start_transcription_job",
        service_error_code="BadRequestException",
        service_message="The S3 URI that you specified can't be accessed.",
        http_status_code=400,
    )
    assert start_transcription.handler(load("eventbridge_transcoder_completed.json"), context) == {"outcome": "failed"}
    # When the event comes again: redelivered (no replay-name), or replayed from the archive after a fix
    again = load("eventbridge_transcoder_completed.json")
    if replay_name:
        again = {**again, "id": "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0", "replay-name": replay_name}
        transcribe.add_response("start_transcription_job", start_response(), expected_start())
    # Then only the replay calls Transcribe: the Stubber fails a call it has no response for, and the fixture
    # fails a queued response left unused (so the handler's replay flag, not a constant, decides)
    assert start_transcription.handler(again, context) == {"outcome": outcome}
