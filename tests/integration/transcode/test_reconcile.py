"""reconcile handler: moto jobs table (with its open-attempts index) and bus; Stubber for GetJob/GetTranscriptionJob."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.integration.transcode.conftest import JOBS_TABLE, job_item, put_job
from tests.integration.transcode.test_start_transcode import expected_create_job
from tests.unit.transcode.fixtures import (
    ANSWER_ID,
    AUDIO_KEY,
    JOB_NAME,
    MEDIACONVERT_JOB_ID,
    TRANSCODER_COMPLETED_EVENT_ID,
    TRANSCRIPT_KEY,
    VIDEO_UPLOADED_EVENT_ID,
    load,
)
from transcode.adapters.jobs_table import DynamoJobStore
from transcode.handlers import reconcile
from vidsense_shared.events import derived_event_id

JOB_KEY = f"{ANSWER_ID}#1"


def _ago(**delta: float) -> dict[str, str]:
    return {"S": (datetime.now(UTC) - timedelta(**delta)).isoformat(timespec="microseconds")}


def _transcoding(dynamodb, job_key: str = JOB_KEY, job_id: str = MEDIACONVERT_JOB_ID, **age: float) -> None:
    put_job(
        dynamodb,
        job_key,
        client_request_token={"S": "7a0b3c5e-5f0d-5c1e-9a35-1b1d64d3f0c2"},
        video_uploaded_event_id={"S": VIDEO_UPLOADED_EVENT_ID},
        mediaconvert_job_id={"S": job_id},
        open_shard={"S": "open"},
        open_since=_ago(**age),
    )


def get_job_response(status: str, job_id: str = MEDIACONVERT_JOB_ID) -> dict:
    """GetJob as MediaConvert answers it: the submitted settings, durations but no file paths."""
    request = expected_create_job()
    job = {
        "Id": job_id,
        "Arn": f"arn:aws:mediaconvert:us-east-1:123456789012:jobs/{job_id}",
        "Status": status,
        "Role": request["Role"],
        "Settings": request["Settings"],
        "UserMetadata": request["UserMetadata"],
        "Timing": {"SubmitTime": datetime(2026, 11, 29, 1, 12, 5, tzinfo=UTC)},
    }
    if status == "COMPLETE":
        job["OutputGroupDetails"] = [{"OutputDetails": [{"DurationInMs": 48213}]}]
        job["Timing"]["FinishTime"] = datetime(2026, 11, 29, 1, 12, 40, tzinfo=UTC)
    return {"Job": job}


def test_a_complete_job_whose_event_was_dropped_is_relayed_once(stack, mediaconvert, context):
    # Given a MediaConvert job that finished, whose state change never reached the relay
    _transcoding(stack.dynamodb, minutes=20)
    mediaconvert.add_response("get_job", get_job_response("COMPLETE"), {"Id": MEDIACONVERT_JOB_ID})
    # When the reconciler runs twice (the Stubber answers GetJob once only)
    assert reconcile.handler({}, context) == {"counts": {"reemitted": 1}}
    assert reconcile.handler({}, context) == {"counts": {}}
    # Then TranscoderCompleted went out once, with the relay's id, audio pointer and duration
    (published,) = stack.events.drain()
    assert published["detail-type"] == "TranscoderCompleted"
    detail = published["detail"]
    assert detail["metadata"]["event_id"] == derived_event_id(
        f"mediaconvert:{MEDIACONVERT_JOB_ID}:COMPLETE", "TranscoderCompleted"
    )
    assert detail["metadata"]["causation_id"] == VIDEO_UPLOADED_EVENT_ID
    assert (detail["data"]["audio"]["key"], detail["data"]["duration_ms"]) == (AUDIO_KEY, 48213)
    assert job_item(stack.dynamodb, JOB_KEY)["emitted"] == {
        "SS": [f"TranscoderCompleted:{detail['metadata']['event_id']}"]
    }


def test_a_completed_transcription_whose_event_was_dropped_becomes_transcript_ready(stack, transcribe, context):
    put_job(
        stack.dynamodb,
        JOB_KEY,
        video_uploaded_event_id={"S": VIDEO_UPLOADED_EVENT_ID},
        mediaconvert_job_id={"S": MEDIACONVERT_JOB_ID},
        transcription_job_name={"S": JOB_NAME},
        transcoder_completed_event_id={"S": TRANSCODER_COMPLETED_EVENT_ID},
        audio_duration_ms={"N": "48213"},
        transcription_started_at=_ago(minutes=30),
        emitted={"SS": [f"TranscoderCompleted:{TRANSCODER_COMPLETED_EVENT_ID}"]},
        open_shard={"S": "open"},
        open_since=_ago(minutes=30),
    )
    transcribe.add_response(
        "get_transcription_job", load("get_transcription_job_completed.json"), {"TranscriptionJobName": JOB_NAME}
    )
    assert reconcile.handler({}, context) == {"counts": {"reemitted": 1}}
    (published,) = stack.events.drain()
    assert published["detail-type"] == "TranscriptReady"
    assert published["detail"]["data"]["transcript"]["key"] == TRANSCRIPT_KEY
    assert published["detail"]["metadata"]["causation_id"] == TRANSCODER_COMPLETED_EVENT_ID
    assert published["detail"]["metadata"]["event_id"] == derived_event_id(
        f"transcribe:{JOB_NAME}:COMPLETED", "TranscriptReady"
    )
    assert "open_shard" not in job_item(stack.dynamodb, JOB_KEY)


def test_a_job_still_running_past_the_give_up_age_fails_with_timeout_and_fresh_ones_are_untouched(
    stack, mediaconvert, context
):
    # Given one job running for two hours and one submitted a minute ago (never asked about: no stub for it)
    _transcoding(stack.dynamodb, hours=2)
    fresh_key = f"{ANSWER_ID}#2"
    _transcoding(stack.dynamodb, fresh_key, "1764379999000-fresh1", minutes=1)
    mediaconvert.add_response("get_job", get_job_response("PROGRESSING"), {"Id": MEDIACONVERT_JOB_ID})
    # When the reconciler runs
    assert reconcile.handler({}, context) == {"counts": {"timed_out": 1}}
    # Then the answer fails with reason timeout, and the fresh attempt keeps its place in the index
    (published,) = stack.events.drain()
    assert published["detail-type"] == "TranscodeFailed"
    data = published["detail"]["data"]
    assert (data["error_code"], data["job_id"], data["attempt"]) == ("timeout", MEDIACONVERT_JOB_ID, 1)
    assert "open_shard" not in job_item(stack.dynamodb, JOB_KEY)
    assert job_item(stack.dynamodb, fresh_key)["open_shard"] == {"S": "open"}


def test_open_attempts_are_read_page_by_page_oldest_first(stack):
    # Given five stuck attempts, one fresh and one closed
    for attempt in range(1, 6):
        _transcoding(stack.dynamodb, f"{ANSWER_ID}#{attempt}", minutes=60 - attempt)
    _transcoding(stack.dynamodb, f"{ANSWER_ID}#6", minutes=1)
    put_job(stack.dynamodb, f"{ANSWER_ID}#7", open_since=_ago(hours=3))  # no open_shard: closed
    queries: list[dict] = []
    stack.dynamodb.meta.events.register(
        "before-parameter-build.dynamodb.Query", lambda params, **_: queries.append(dict(params))
    )
    # When they are listed two per page
    found = list(DynamoJobStore(stack.dynamodb, JOBS_TABLE).open_attempts(datetime.now(UTC) - timedelta(minutes=15), 2))
    # Then all stuck ones come, oldest first, over three queries of the sparse index
    assert [entry.job_key for entry in found] == [f"{ANSWER_ID}#{n}" for n in range(1, 6)]
    assert len(queries) == 3
    assert all(q["IndexName"] == "open_attempts" and q["Limit"] == 2 for q in queries)
