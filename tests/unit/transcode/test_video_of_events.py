"""Every transcode event names the VideoUploaded its pipeline run started from (``video_event_id``).

After an erasure the person's next answer is attempt 1 again; the read model tells the erased answer's late
events from the new answer's by this id (docs/decisions/0002-answer-erasure.md), so no producer may drop it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from tests.unit.transcode.fakes import FakeTranscoder, FakeTranscriber, InMemoryJobs, Published
from tests.unit.transcode.fixtures import ANSWER_ID, JOB_NAME, STAGE, WORK_BUCKET, load, sns_message
from tests.unit.transcode.test_duplicates import RejectingTranscoder, _completed, _start_transcription, _uploaded
from tests.unit.transcode.test_steps import JOB, RECORD
from transcode.domain.mediaconvert import JobStateChange, translate
from transcode.domain.start_transcode import TranscodeStarter
from transcode.domain.transcription_outcome import TranscriptionCompleter, TranscriptionStateChange
from vidsense_shared.events import TranscodeFailed, TranscoderCompleted

JOB_KEY = f"{ANSWER_ID}#1"


def test_a_refused_transcode_names_the_video_it_was_asked_for():
    # Given MediaConvert refuses the job, When startTranscode publishes the failure
    published, uploaded = Published(), _uploaded()
    TranscodeStarter(
        STAGE, WORK_BUCKET, jobs=InMemoryJobs(), transcoder=RejectingTranscoder(), publisher=published
    ).start(uploaded)
    # Then it names the VideoUploaded it answers
    (failure,) = published.events
    assert failure.data.video_event_id == uploaded.metadata.event_id  # type: ignore[attr-defined]


def test_the_relayed_job_outcome_names_the_video_the_job_was_started_for():
    # Given the job metadata's causation (start_transcode sets it to the VideoUploaded id)
    for fixture in ("sns_mediaconvert_complete.json", "sns_mediaconvert_error.json"):
        change = JobStateChange.model_validate(sns_message(load(fixture)))
        # When MediaConvert's outcome is relayed
        outcome = translate(change, STAGE)
        # Then the event names that video
        assert isinstance(outcome, TranscoderCompleted | TranscodeFailed)
        assert outcome.data.video_event_id == change.detail.user_metadata["causation_id"]


def test_a_refused_transcription_names_the_video_of_its_cause():
    # Given a TranscoderCompleted whose audio Transcribe cannot read
    event = _completed()
    event = event.model_copy(update={"data": event.data.model_copy(update={"video_event_id": "video-1"})})
    unreadable = event.model_copy(
        update={"data": event.data.model_copy(update={"audio": event.data.audio.model_copy(update={"key": "a.aac"})})}
    )
    published = Published()
    # When startTranscription fails it, Then the failure carries the cause's video
    _start_transcription(InMemoryJobs(), FakeTranscriber(), published, event=unreadable)
    (failure,) = published.events
    assert failure.data.video_event_id == "video-1"  # type: ignore[attr-defined]


def test_a_finished_transcription_names_the_video_the_jobs_record_was_claimed_for():
    for job in (JOB, replace(JOB, status="FAILED", failure_reason="bad audio")):
        published = Published()
        # Given the jobs record claimed for VideoUploaded "v", When Transcribe's outcome is published
        TranscriptionCompleter(
            STAGE, WORK_BUCKET, jobs=InMemoryJobs(RECORD), transcriber=FakeTranscriber(job), publisher=published
        ).complete(TranscriptionStateChange(job_name=JOB_NAME, status=job.status, occurred_at=datetime.now(UTC)))
        # Then it names that video
        (event,) = published.events
        assert event.data.video_event_id == RECORD.video_uploaded_event_id  # type: ignore[attr-defined]


def test_the_job_is_started_with_the_video_the_relay_will_name():
    # Given an upload, When startTranscode creates its MediaConvert job
    transcoder, uploaded = FakeTranscoder(), _uploaded()
    TranscodeStarter(STAGE, WORK_BUCKET, jobs=InMemoryJobs(), transcoder=transcoder, publisher=Published()).start(
        uploaded
    )
    # Then the job's metadata carries the VideoUploaded id the relay copies into the job's outcome
    (request,) = transcoder.requests
    assert request.user_metadata["causation_id"] == uploaded.metadata.event_id
