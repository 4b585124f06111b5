"""The reconciler's decisions, with in-memory fakes (moto/Stubber end to end: tests/integration/transcode)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tests.unit.transcode.fakes import FakeMediaConvertJobs, FakeTranscriber, InMemoryJobs, Published
from tests.unit.transcode.fixtures import (
    ANSWER_ID,
    AUDIO_KEY,
    JOB_NAME,
    MEDIACONVERT_JOB_ID,
    STAGE,
    TRANSCODER_COMPLETED_EVENT_ID,
    TRANSCRIPT_KEY,
    VIDEO_UPLOADED_EVENT_ID,
    WORK_BUCKET,
    load,
    sns_message,
)
from transcode.domain import reconcile
from transcode.domain.mediaconvert import JobStateChange, JobStateChangeDetail, translate
from transcode.domain.outcome import Outcome
from transcode.domain.ports import JobRecord, TranscodeJob
from transcode.domain.reconcile import Reconciler
from transcode.domain.relay import Relayed, TranscoderRelay
from transcode.domain.transcribe import TranscriptionJob
from vidsense_shared.events import derived_event_id

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
POLICY = reconcile.Policy(stuck_after=timedelta(minutes=15), give_up_after=timedelta(hours=1))
JOB_KEY = f"{ANSWER_ID}#1"
COMPLETE = sns_message(load("sns_mediaconvert_complete.json"))
TRANSCODING = JobRecord(
    job_key=JOB_KEY,
    client_request_token="t",
    video_uploaded_event_id=VIDEO_UPLOADED_EVENT_ID,
    mediaconvert_job_id=MEDIACONVERT_JOB_ID,
    open_since=NOW - timedelta(minutes=20),
)
TRANSCRIBING = replace(
    TRANSCODING,
    transcription_job_name=JOB_NAME,
    transcoder_completed_event_id=TRANSCODER_COMPLETED_EVENT_ID,
    audio_duration_ms=48213,
    transcription_started=True,
    emitted=frozenset({f"TranscoderCompleted:{TRANSCODER_COMPLETED_EVENT_ID}"}),
)
TRANSCRIBED = TranscriptionJob(
    name=JOB_NAME,
    status="COMPLETED",
    language_code="en-US",
    transcript_uri=f"https://s3.us-east-1.amazonaws.com/{WORK_BUCKET}/{TRANSCRIPT_KEY}",
    failure_reason=None,
    completed_at=datetime(2026, 11, 29, 1, 13, 29, tzinfo=UTC),
)


def _mediaconvert(status: str = "COMPLETE") -> TranscodeJob:
    detail = JobStateChangeDetail.model_validate({**COMPLETE["detail"], "status": status})
    return TranscodeJob(detail=detail, finished_at=datetime(2026, 11, 29, 1, 12, 40, tzinfo=UTC))


def _run(jobs, *, mediaconvert=None, transcriber=None, policy=POLICY):
    published = Published()
    mediaconvert = mediaconvert or FakeMediaConvertJobs()
    transcriber = transcriber or FakeTranscriber()
    reconciler = Reconciler(
        STAGE,
        WORK_BUCKET,
        policy,
        jobs=jobs,
        transcode_jobs=mediaconvert,
        transcriber=transcriber,
        publisher=published,
    )
    checked = list(reconciler.reconcile(NOW))
    return [c.action for c in checked], published.events


def test_a_complete_job_whose_event_was_lost_is_relayed_once():
    # Given a job MediaConvert finished 20 minutes ago, whose state change never arrived
    jobs = InMemoryJobs(TRANSCODING, clock=NOW)
    mediaconvert = FakeMediaConvertJobs(_mediaconvert())
    # When the reconciler runs twice
    first = _run(jobs, mediaconvert=mediaconvert)
    second = _run(jobs, mediaconvert=mediaconvert)
    # Then TranscoderCompleted went out once, identical to what the relay makes of the lost event
    assert first[0] == [reconcile.Action.REEMITTED]
    (event,) = first[1]
    lost = translate(JobStateChange.model_validate(COMPLETE), STAGE)
    assert event == lost
    assert event.data.audio.key == AUDIO_KEY  # type: ignore[attr-defined]
    # and the Transcribe step's clock started: the second run leaves the attempt alone
    assert second == ([], [])
    assert jobs.records[JOB_KEY].open_since == NOW


def test_a_late_notification_after_the_reconciler_publishes_nothing():
    jobs = InMemoryJobs(TRANSCODING, clock=NOW)
    _run(jobs, mediaconvert=FakeMediaConvertJobs(_mediaconvert()))
    published = Published()
    late = TranscoderRelay(STAGE, jobs=jobs, publisher=published).relay(JobStateChange.model_validate(COMPLETE))
    assert isinstance(late, Relayed) and late.outcome is Outcome.DUPLICATE
    assert published.events == []


def test_a_completed_transcription_whose_event_was_lost_becomes_transcript_ready():
    jobs = InMemoryJobs(TRANSCRIBING, clock=NOW)
    actions, (event,) = _run(jobs, transcriber=FakeTranscriber(TRANSCRIBED))
    assert actions == [reconcile.Action.REEMITTED]
    assert event.DETAIL_TYPE == "TranscriptReady"
    assert event.metadata.event_id == derived_event_id(f"transcribe:{JOB_NAME}:COMPLETED", "TranscriptReady")
    assert event.metadata.causation_id == TRANSCODER_COMPLETED_EVENT_ID
    assert event.data.duration_ms == 48213  # type: ignore[attr-defined]
    assert jobs.records[JOB_KEY].open_since is None  # final: out of the index
    assert _run(jobs, transcriber=FakeTranscriber(TRANSCRIBED)) == ([], [])


@pytest.mark.parametrize(
    ("record", "mediaconvert", "transcriber", "detail_type"),
    [
        (TRANSCODING, FakeMediaConvertJobs(_mediaconvert("PROGRESSING")), None, "TranscodeFailed"),
        (TRANSCODING, FakeMediaConvertJobs(None), None, "TranscodeFailed"),
        (replace(TRANSCODING, mediaconvert_job_id=None), None, None, "TranscodeFailed"),
        (TRANSCRIBING, None, FakeTranscriber(replace(TRANSCRIBED, status="IN_PROGRESS")), "TranscriptionFailed"),
        (replace(TRANSCRIBING, transcription_started=False), None, FakeTranscriber(None), "TranscriptionFailed"),
    ],
    ids=["still-running", "job-gone", "never-created", "still-transcribing", "never-started"],
)
def test_past_the_give_up_age_the_answer_fails_with_timeout(record, mediaconvert, transcriber, detail_type):
    jobs = InMemoryJobs(replace(record, open_since=NOW - timedelta(hours=2)), clock=NOW)
    actions, (event,) = _run(jobs, mediaconvert=mediaconvert, transcriber=transcriber)
    assert actions == [reconcile.Action.TIMED_OUT]
    assert detail_type == event.DETAIL_TYPE
    assert event.data.error_code == "timeout"  # type: ignore[attr-defined]
    assert event.metadata.correlation_id == ANSWER_ID
    assert event.metadata.event_id == derived_event_id(f"reconcile:{JOB_KEY}:timeout", detail_type)
    assert _run(jobs, mediaconvert=mediaconvert, transcriber=transcriber) == ([], [])


@pytest.mark.parametrize(
    ("record", "mediaconvert", "transcriber"),
    [
        (TRANSCODING, FakeMediaConvertJobs(_mediaconvert("PROGRESSING")), None),
        (replace(TRANSCODING, mediaconvert_job_id=None), None, None),
        (replace(TRANSCRIBING, transcription_started=False), None, FakeTranscriber(None)),
    ],
    ids=["running", "create-job-retrying", "start-retrying"],
)
def test_stuck_but_within_the_give_up_age_is_left_alone(record, mediaconvert, transcriber):
    jobs = InMemoryJobs(record, clock=NOW)
    assert _run(jobs, mediaconvert=mediaconvert, transcriber=transcriber) == ([reconcile.Action.UNTOUCHED], [])
    assert jobs.records[JOB_KEY] == record


def test_a_transcription_job_that_was_started_and_is_gone_fails_without_waiting():
    jobs = InMemoryJobs(TRANSCRIBING, clock=NOW)
    actions, (event,) = _run(jobs, transcriber=FakeTranscriber(None))
    assert (actions, event.DETAIL_TYPE) == ([reconcile.Action.TIMED_OUT], "TranscriptionFailed")


def test_fresh_attempts_are_not_even_looked_at():
    fresh = replace(TRANSCODING, open_since=NOW - timedelta(minutes=5))
    mediaconvert = FakeMediaConvertJobs(_mediaconvert())
    assert _run(InMemoryJobs(fresh, clock=NOW), mediaconvert=mediaconvert) == ([], [])
    assert mediaconvert.asked == []


def test_an_attempt_already_finished_is_closed_without_asking_anyone():
    done = replace(TRANSCRIBING, emitted=TRANSCRIBING.emitted | {"TranscriptReady:abc"})
    jobs, transcriber = InMemoryJobs(done, clock=NOW), FakeTranscriber(TRANSCRIBED)
    assert _run(jobs, transcriber=transcriber) == ([reconcile.Action.CLOSED], [])
    assert transcriber.described == []
    assert jobs.records[JOB_KEY].open_since is None


def test_a_run_is_bounded():
    records = [replace(TRANSCODING, job_key=f"{ANSWER_ID}#{n}", mediaconvert_job_id=None) for n in range(1, 8)]
    actions, _ = _run(InMemoryJobs(*records, clock=NOW), policy=replace(POLICY, max_attempts=3))
    assert actions == [reconcile.Action.UNTOUCHED] * 3


def test_the_erased_recordings_transcribe_job_is_not_taken_for_the_new_recordings_outcome():
    # Given a new recording (uploaded after an erasure) whose StartTranscriptionJob found the name still taken by
    # the erased answer's finished job
    uploaded_at = datetime(2026, 11, 29, 1, 12, 3, tzinfo=UTC)
    record = replace(TRANSCRIBING, transcription_started=False, video_uploaded_at=uploaded_at)
    erased_job = replace(TRANSCRIBED, created_at=uploaded_at - timedelta(hours=1))
    jobs = InMemoryJobs(record, clock=NOW)
    # When the reconciler looks, Then it publishes nothing from that job (it waits, then times the answer out)
    assert _run(jobs, transcriber=FakeTranscriber(erased_job)) == ([reconcile.Action.UNTOUCHED], [])
