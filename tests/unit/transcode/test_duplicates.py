"""The duplicate/replay rule of every transcode step, with in-memory fakes (moto/Stubber versions: integration).

Duplicate (same event again, no replay-name): nothing changes, nothing is published, no AWS job call.
Replay (replay-name): never a second job for an attempt that has one; ids still derive from the cause.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.unit.transcode.fakes import FakeTranscoder, FakeTranscriber, InMemoryJobs, Published
from tests.unit.transcode.fixtures import (
    ANSWER_ID,
    AUDIO_KEY,
    JOB_NAME,
    STAGE,
    TRANSCRIPT_KEY,
    WORK_BUCKET,
    load,
    sns_message,
)
from transcode.domain.mediaconvert import JobStateChange
from transcode.domain.outcome import Outcome
from transcode.domain.ports import TranscodeRejectedError, TranscodeRequest
from transcode.domain.relay import Relayed, TranscoderRelay
from transcode.domain.start_transcode import TranscodeStarter
from transcode.domain.start_transcription import TranscriptionStarter
from transcode.domain.transcribe import TranscriptionJob
from transcode.domain.transcription_outcome import TranscriptionCompleter, TranscriptionStateChange
from vidsense_shared.events import TranscoderCompleted, VideoUploaded, derived_event_id, parse_detail

JOB_KEY = f"{ANSWER_ID}#1"


def _uploaded() -> VideoUploaded:
    event = parse_detail("VideoUploaded", load("eventbridge_video_uploaded.json")["detail"])
    assert isinstance(event, VideoUploaded)
    return event


def _completed() -> TranscoderCompleted:
    event = parse_detail("TranscoderCompleted", load("eventbridge_transcoder_completed.json")["detail"])
    assert isinstance(event, TranscoderCompleted)
    return event


class RejectingTranscoder(FakeTranscoder):
    def create_job(self, request: TranscodeRequest) -> str:
        self.requests.append(request)
        raise TranscodeRejectedError("BadRequestException", "Unsupported input file extension")


def _start_transcode(jobs, transcoder, published, *, replay=False):
    starter = TranscodeStarter(STAGE, WORK_BUCKET, jobs=jobs, transcoder=transcoder, publisher=published)
    return starter.start(_uploaded(), replay=replay)


def test_start_transcode_duplicate_of_a_refused_job_does_nothing_but_a_replay_retries():
    jobs, published = InMemoryJobs(), Published()
    # Given CreateJob refused the attempt and TranscodeFailed was published and marked
    assert _start_transcode(jobs, RejectingTranscoder(), published) is Outcome.FAILED
    (failed,) = published.events
    # When the same event arrives again: no CreateJob, no event
    transcoder = FakeTranscoder()
    assert _start_transcode(jobs, transcoder, published) is Outcome.DUPLICATE
    assert (transcoder.requests, len(published.events)) == ([], 1)
    # When an operator replays it after a fix: CreateJob runs and the attempt is watched again
    assert _start_transcode(jobs, transcoder, published, replay=True) is Outcome.RESUMED
    assert len(transcoder.requests) == 1
    assert jobs.records[JOB_KEY].open_since is not None
    assert failed.metadata.event_id == derived_event_id(_uploaded().metadata.event_id, "TranscodeFailed")


def test_start_transcode_replay_of_a_started_attempt_starts_nothing():
    jobs, published = InMemoryJobs(), Published()
    _start_transcode(jobs, FakeTranscoder(), published)
    again = FakeTranscoder()
    assert _start_transcode(jobs, again, published, replay=True) is Outcome.ALREADY_STARTED
    assert (again.requests, published.events) == ([], [])


def _start_transcription(jobs, transcriber, published, *, event=None, replay=False):
    starter = TranscriptionStarter(
        STAGE, WORK_BUCKET, language_code="en-US", jobs=jobs, transcriber=transcriber, publisher=published
    )
    return starter.start(event or _completed(), replay=replay)


@pytest.mark.parametrize("replay", [False, True])
def test_start_transcription_never_calls_transcribe_twice(replay):
    jobs, published = InMemoryJobs(), Published()
    assert _start_transcription(jobs, FakeTranscriber(), published) is Outcome.STARTED
    assert jobs.records[JOB_KEY].transcription_started
    again = FakeTranscriber()
    assert _start_transcription(jobs, again, published, replay=replay) is Outcome.ALREADY_STARTED
    assert (again.started, published.events) == ([], [])


def test_start_transcription_after_a_crash_before_the_start_mark_calls_again():
    # record_transcription happened, StartTranscriptionJob may not have: the retry must call it (Conflict is fine)
    jobs, published = InMemoryJobs(), Published()
    event = _completed()
    jobs.record_transcription(JOB_KEY, JOB_NAME, event.metadata.event_id, 48213)
    transcriber = FakeTranscriber()
    assert _start_transcription(jobs, transcriber, published) is Outcome.STARTED
    assert len(transcriber.started) == 1


def test_start_transcription_failure_is_published_once_and_republished_by_a_replay():
    jobs, published = InMemoryJobs(), Published()
    _start_transcode(jobs, FakeTranscoder(), published)
    event = _completed()
    unreadable = event.model_copy(
        update={"data": event.data.model_copy(update={"audio": event.data.audio.model_copy(update={"key": "a.aac"})})}
    )
    assert _start_transcription(jobs, FakeTranscriber(), published, event=unreadable) is Outcome.FAILED
    assert _start_transcription(jobs, FakeTranscriber(), published, event=unreadable) is Outcome.DUPLICATE
    assert _start_transcription(jobs, FakeTranscriber(), published, event=unreadable, replay=True) is Outcome.FAILED
    first, replayed = published.events
    assert (
        first.metadata.event_id
        == replayed.metadata.event_id
        == derived_event_id(event.metadata.event_id, "TranscriptionFailed")
    )


def _relay(jobs: InMemoryJobs, published: Published) -> Relayed:
    change = JobStateChange.model_validate(sns_message(load("sns_mediaconvert_complete.json")))
    result = TranscoderRelay(STAGE, jobs=jobs, publisher=published).relay(change)
    assert isinstance(result, Relayed)
    return result


def test_relay_publishes_a_job_outcome_once():
    jobs = InMemoryJobs()
    _start_transcode(jobs, FakeTranscoder(), Published())
    published = Published()
    for _ in range(2):
        _relay(jobs, published)
    (event,) = published.events
    assert event.data.audio.key == AUDIO_KEY  # type: ignore[attr-defined]
    assert f"TranscoderCompleted:{event.metadata.event_id}" in jobs.records[JOB_KEY].emitted


def test_a_crash_between_publish_and_mark_republishes_the_same_id():
    class CrashingJobs(InMemoryJobs):
        def mark_emitted(self, job_key: str, marker: str, *, final: bool) -> bool:
            raise RuntimeError("lambda timed out")

    jobs, published = CrashingJobs(), Published()
    _start_transcode(jobs, FakeTranscoder(), Published())
    with pytest.raises(RuntimeError):
        _relay(jobs, published)
    # the redelivery finds no mark, so the event goes out again with the same id (never lost)
    healthy = InMemoryJobs(*jobs.records.values())
    assert _relay(healthy, published).outcome is Outcome.PUBLISHED
    first, second = published.events
    assert first.metadata.event_id == second.metadata.event_id


def test_transcription_completed_redelivery_asks_transcribe_nothing():
    jobs = InMemoryJobs()
    _start_transcription(jobs, FakeTranscriber(), Published())
    job = TranscriptionJob(
        name=JOB_NAME,
        status="COMPLETED",
        language_code="en-US",
        transcript_uri=f"https://s3.us-east-1.amazonaws.com/{WORK_BUCKET}/{TRANSCRIPT_KEY}",
        failure_reason=None,
    )
    change = TranscriptionStateChange(JOB_NAME, "COMPLETED", datetime(2026, 11, 29, 1, 13, tzinfo=UTC))
    transcriber, published = FakeTranscriber(job), Published()
    completer = TranscriptionCompleter(STAGE, WORK_BUCKET, jobs=jobs, transcriber=transcriber, publisher=published)
    outcomes = [completer.complete(change) for _ in range(2)]
    assert outcomes == [Outcome.PUBLISHED, Outcome.DUPLICATE]
    assert transcriber.described == [JOB_NAME]
    assert len(published.events) == 1
    assert jobs.records[JOB_KEY].open_since is None  # TranscriptReady closed the attempt
