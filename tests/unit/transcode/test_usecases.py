"""Use-case edge cases with in-memory fakes (the moto/Stubber tests cover the usual paths end to end)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from tests.unit.transcode.fakes import FakeTranscriber, InMemoryJobs, Published
from tests.unit.transcode.fixtures import (
    ANSWER_ID,
    JOB_NAME,
    STAGE,
    TRANSCODER_COMPLETED_EVENT_ID,
    TRANSCRIPT_KEY,
    WORK_BUCKET,
)
from transcode.domain import usecases
from transcode.domain.ports import JobRecord
from transcode.domain.transcribe import TranscriptionJob

COMPLETED_URI = f"https://s3.us-east-1.amazonaws.com/{WORK_BUCKET}/{TRANSCRIPT_KEY}"


RECORD = JobRecord(
    job_key=f"{ANSWER_ID}#1",
    client_request_token="t",
    video_uploaded_event_id="v",
    transcription_job_name=JOB_NAME,
    transcoder_completed_event_id=TRANSCODER_COMPLETED_EVENT_ID,
    audio_duration_ms=None,
)
JOB = TranscriptionJob(
    name=JOB_NAME, status="COMPLETED", language_code="en-US", transcript_uri=COMPLETED_URI, failure_reason=None
)


def _complete(job: TranscriptionJob, record: JobRecord | None = RECORD, status: str = "COMPLETED"):
    published = Published()
    transcriber = FakeTranscriber(job)
    outcome = usecases.complete_transcription(
        usecases.TranscriptionStateChange(
            job_name=JOB_NAME, status=status, occurred_at=datetime(2026, 11, 29, tzinfo=UTC)
        ),
        stage=STAGE,
        work_bucket=WORK_BUCKET,
        jobs=InMemoryJobs(*([record] if record else [])),
        transcriber=transcriber,
        publisher=published,
    )
    return outcome, published.events, transcriber.described


def test_unknown_duration_is_published_as_none():
    outcome, (event,), _ = _complete(JOB)
    assert outcome is usecases.Outcome.PUBLISHED
    assert event.data.duration_ms is None  # type: ignore[attr-defined]


def test_the_jobs_own_status_wins_over_a_stale_event():
    outcome, events, described = _complete(replace(JOB, status="IN_PROGRESS"))
    assert outcome is usecases.Outcome.SKIPPED
    assert events == []
    assert described == [JOB_NAME]


@pytest.mark.parametrize(
    ("job", "code"),
    [
        (replace(JOB, transcript_uri=None), "TRANSCRIPT_MISSING"),
        (replace(JOB, language_code=None), "LANGUAGE_UNKNOWN"),
        (replace(JOB, status="FAILED", failure_reason=None), "TRANSCRIPTION_FAILED"),
    ],
)
def test_incomplete_job_descriptions_fail_the_answer_visibly(job, code):
    outcome, (event,), _ = _complete(job)
    assert outcome is usecases.Outcome.FAILED
    assert event.DETAIL_TYPE == "TranscriptionFailed"
    assert event.data.error_code == code  # type: ignore[attr-defined]


@pytest.mark.parametrize("status", ["IN_PROGRESS", "QUEUED"])
def test_non_terminal_event_statuses_are_skipped_without_a_call(status):
    outcome, events, described = _complete(JOB, status=status)
    assert (outcome, events, described) == (usecases.Outcome.SKIPPED, [], [])


def test_a_record_without_the_causing_event_is_an_error_not_a_guess():
    with pytest.raises(usecases.JobRecordMissingError):
        _complete(JOB, record=replace(RECORD, transcoder_completed_event_id=None))
