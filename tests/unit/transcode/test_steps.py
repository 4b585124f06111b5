"""The transcode steps' edge cases with in-memory fakes (the moto/Stubber tests cover the usual paths end to end)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tests.unit.transcode.fakes import FakeTranscoder, FakeTranscriber, InMemoryJobs, Published
from tests.unit.transcode.fixtures import (
    ANSWER_ID,
    JOB_NAME,
    STAGE,
    TRANSCODER_COMPLETED_EVENT_ID,
    TRANSCRIPT_KEY,
    WORK_BUCKET,
    load,
)
from transcode.domain import naming
from transcode.domain.outcome import Outcome
from transcode.domain.ports import JobRecord
from transcode.domain.start_transcode import JobRecordContendedError, TranscodeStarter
from transcode.domain.start_transcription import TranscriptionNameTakenError, TranscriptionStarter
from transcode.domain.transcribe import TranscriptionJob, TranscriptionRequest
from transcode.domain.transcription_outcome import (
    JobRecordMissingError,
    TranscriptionCompleter,
    TranscriptionStateChange,
)
from vidsense_shared.events import TranscoderCompleted, VideoUploaded, parse_detail

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
    completer = TranscriptionCompleter(
        STAGE,
        WORK_BUCKET,
        jobs=InMemoryJobs(*([record] if record else [])),
        transcriber=transcriber,
        publisher=published,
    )
    outcome = completer.complete(
        TranscriptionStateChange(job_name=JOB_NAME, status=status, occurred_at=datetime(2026, 11, 29, tzinfo=UTC))
    )
    return outcome, published.events, transcriber.described


def test_unknown_duration_is_published_as_none():
    outcome, (event,), _ = _complete(JOB)
    assert outcome is Outcome.PUBLISHED
    assert event.data.duration_ms is None  # type: ignore[attr-defined]


def test_the_jobs_own_status_wins_over_a_stale_event():
    outcome, events, described = _complete(replace(JOB, status="IN_PROGRESS"))
    assert outcome is Outcome.SKIPPED
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
    assert outcome is Outcome.FAILED
    assert event.DETAIL_TYPE == "TranscriptionFailed"
    assert event.data.error_code == code  # type: ignore[attr-defined]


@pytest.mark.parametrize("status", ["IN_PROGRESS", "QUEUED"])
def test_non_terminal_event_statuses_are_skipped_without_a_call(status):
    outcome, events, described = _complete(JOB, status=status)
    assert (outcome, events, described) == (Outcome.SKIPPED, [], [])


def test_a_record_without_the_causing_event_is_an_error_not_a_guess():
    with pytest.raises(JobRecordMissingError):
        _complete(JOB, record=replace(RECORD, transcoder_completed_event_id=None))


# --- a new recording finding the erased answer's job record (attempts restart at 1 after an erasure) ---------

ERASED_UPLOAD_AT = datetime(2026, 11, 29, 1, 12, 3, tzinfo=UTC)
ERASED_EVENT_ID = "5f0c7a52-8d3e-4c61-9b0e-2a7d4e1f6c93"
NEW_EVENT_ID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"


def _video_uploaded(event_id: str, version: str, occurred_at: datetime) -> VideoUploaded:
    event = parse_detail("VideoUploaded", load("eventbridge_video_uploaded.json")["detail"])
    assert isinstance(event, VideoUploaded)
    video = event.data.video.model_copy(update={"version_id": version})
    return event.model_copy(
        update={
            "metadata": event.metadata.model_copy(update={"event_id": event_id, "occurred_at": occurred_at}),
            "data": event.data.model_copy(update={"video": video}),
        }
    )


ERASED = _video_uploaded(ERASED_EVENT_ID, "erased-version", ERASED_UPLOAD_AT)
NEW = _video_uploaded(NEW_EVENT_ID, "new-version", datetime(2026, 11, 29, 2, 0, tzinfo=UTC))


def _erased_record(*, started: bool, with_upload_time: bool = True) -> JobRecord:
    return JobRecord(
        job_key=f"{ANSWER_ID}#1",
        client_request_token=naming.client_request_token(STAGE, ERASED.data, ERASED.data.video),
        video_uploaded_event_id=ERASED_EVENT_ID,
        video_uploaded_at=ERASED_UPLOAD_AT if with_upload_time else None,
        mediaconvert_job_id="1764378551482-erased" if started else None,
    )


def _start(event: VideoUploaded, jobs: InMemoryJobs, transcoder: FakeTranscoder, *, replay: bool = False):
    starter = TranscodeStarter(STAGE, WORK_BUCKET, jobs=jobs, transcoder=transcoder, publisher=Published())
    return starter.start(event, replay=replay)


@pytest.mark.parametrize("with_upload_time", [True, False])
@pytest.mark.parametrize("started", [True, False])
def test_a_new_recording_replaces_the_erased_answers_job_record_and_starts_its_own_job(started, with_upload_time):
    # Given the erased answer's attempt-1 record, which eraseAnswer has not deleted yet (complete or partial)
    jobs = InMemoryJobs(_erased_record(started=started, with_upload_time=with_upload_time))
    transcoder = FakeTranscoder("1764378999000-new")
    # When the new recording's VideoUploaded (new event id, new video version) arrives
    assert _start(NEW, jobs, transcoder) is Outcome.STARTED
    # Then one job runs for the new video, caused by the new event, with the new video's token
    (request,) = transcoder.requests
    assert request.user_metadata["causation_id"] == NEW_EVENT_ID
    assert request.input_uri == NEW.data.video.uri
    assert request.client_request_token == naming.client_request_token(STAGE, NEW.data, NEW.data.video)
    record = jobs.records[f"{ANSWER_ID}#1"]
    assert (record.video_uploaded_event_id, record.mediaconvert_job_id) == (NEW_EVENT_ID, "1764378999000-new")
    # And a redelivery of the new event is still a duplicate
    again = FakeTranscoder()
    assert _start(NEW, jobs, again) is Outcome.ALREADY_STARTED
    assert again.requests == []


@pytest.mark.parametrize("replay", [False, True])
def test_a_late_or_replayed_erased_upload_does_not_clobber_the_new_recordings_record(replay):
    # Given the new recording's job runs
    jobs = InMemoryJobs(_erased_record(started=True))
    _start(NEW, jobs, FakeTranscoder("1764378999000-new"))
    new_record = jobs.records[f"{ANSWER_ID}#1"]
    # When the erased answer's VideoUploaded comes again (archive replay, or a late redelivery)
    transcoder = FakeTranscoder()
    assert _start(ERASED, jobs, transcoder, replay=replay) is Outcome.SKIPPED
    # Then nothing starts and the new recording's record is untouched
    assert (transcoder.requests, jobs.records[f"{ANSWER_ID}#1"]) == ([], new_record)


def test_two_deliveries_racing_to_replace_the_erased_record_start_one_job():
    # Given the erased answer's record, and another delivery of the new event replacing it first (between this
    # delivery's claim and its replace)
    jobs = InMemoryJobs(_erased_record(started=True))
    claim = jobs.claim

    def claim_then_lose_the_race(record: JobRecord) -> JobRecord | None:
        found = claim(record)
        jobs.records[record.job_key] = replace(record, mediaconvert_job_id="1764378999000-other")
        return found

    jobs.claim = claim_then_lose_the_race  # type: ignore[method-assign]
    transcoder = FakeTranscoder()
    # When this delivery tries to replace it, Then it starts nothing and raises for a retry
    with pytest.raises(JobRecordContendedError):
        _start(NEW, jobs, transcoder)
    assert transcoder.requests == []
    # And the retry finds the winner's job
    jobs.claim = claim  # type: ignore[method-assign]
    assert _start(NEW, jobs, transcoder) is Outcome.ALREADY_STARTED


class NameTakenTranscriber(FakeTranscriber):
    """StartTranscriptionJob answers Conflict: a job of that name exists (``job``)."""

    def start(self, request: TranscriptionRequest) -> bool:
        self.started.append(request)
        return False


def _new_recordings_record() -> JobRecord:
    return JobRecord(
        job_key=f"{ANSWER_ID}#1",
        client_request_token="t",
        video_uploaded_event_id=NEW_EVENT_ID,
        video_uploaded_at=NEW.metadata.occurred_at,
        mediaconvert_job_id="1764378999000-new",
    )


def _transcoder_completed(video_event_id: str) -> TranscoderCompleted:
    event = parse_detail("TranscoderCompleted", load("eventbridge_transcoder_completed.json")["detail"])
    assert isinstance(event, TranscoderCompleted)
    return event.model_copy(update={"data": event.data.model_copy(update={"video_event_id": video_event_id})})


def _start_transcription(event: TranscoderCompleted, jobs: InMemoryJobs, transcriber: FakeTranscriber):
    starter = TranscriptionStarter(
        STAGE, WORK_BUCKET, language_code="en-US", jobs=jobs, transcriber=transcriber, publisher=Published()
    )
    return starter.start(event)


def test_the_erased_recordings_transcribe_job_holding_the_name_does_not_count_as_started():
    # Given the new recording's record, and the erased answer's Transcribe job (same name) not deleted yet
    jobs = InMemoryJobs(_new_recordings_record())
    erased_job = replace(JOB, created_at=ERASED_UPLOAD_AT + timedelta(minutes=1))
    # When the new recording's TranscoderCompleted starts transcription and Transcribe answers Conflict
    with pytest.raises(TranscriptionNameTakenError):
        _start_transcription(_transcoder_completed(NEW_EVENT_ID), jobs, NameTakenTranscriber(erased_job))
    # Then the attempt is not marked started (the retry calls Transcribe again once eraseAnswer deleted the job)
    assert not jobs.records[f"{ANSWER_ID}#1"].transcription_started


def test_the_new_recordings_own_transcribe_job_holding_the_name_counts_as_started():
    jobs = InMemoryJobs(_new_recordings_record())
    own_job = replace(JOB, created_at=NEW.metadata.occurred_at + timedelta(minutes=1))
    outcome = _start_transcription(_transcoder_completed(NEW_EVENT_ID), jobs, NameTakenTranscriber(own_job))
    assert outcome is Outcome.ALREADY_STARTED
    assert jobs.records[f"{ANSWER_ID}#1"].transcription_started


def test_a_transcoder_completed_of_the_erased_recording_starts_nothing_for_the_new_one():
    jobs = InMemoryJobs(_new_recordings_record())
    transcriber = FakeTranscriber()
    outcome = _start_transcription(_transcoder_completed(ERASED_EVENT_ID), jobs, transcriber)
    assert (outcome, transcriber.started) == (Outcome.SKIPPED, [])
    assert jobs.records[f"{ANSWER_ID}#1"] == _new_recordings_record()
