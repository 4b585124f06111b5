"""The reconciler: MediaConvert's and Transcribe's state-change events are best effort, the jobs table is not.

Every run looks at the attempts whose current step began longer ago than ``stuck_after`` (oldest first, a
bounded number per run), asks the job's real status and publishes what the lost event would have caused,
through the very functions the relay and transcriptionCompleted use (same event ids, same markers). A step
that is still unfinished after ``give_up_after``, or whose job is gone, fails the answer with ``timeout``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from transcode.domain import naming
from transcode.domain.emission import FINAL_DETAIL_TYPES, already_emitted, publish_and_mark
from transcode.domain.mediaconvert import Skipped, translate_detail
from transcode.domain.outcome import Outcome
from transcode.domain.ports import JobRecord, JobStore, TranscodeJobs, Transcriber
from transcode.domain.relay import publish_transcoder_outcome
from transcode.domain.start_transcription import older_than_recording
from transcode.domain.transcription_outcome import transcription_outcome, transcription_outcome_emitted
from vidsense_shared.events import (
    AnswerRef,
    DomainEvent,
    FailureData,
    TranscodeFailed,
    TranscodeFailedData,
    TranscoderCompleted,
    TranscriptionFailed,
    TranscriptionFailedData,
    derived_event_id,
)
from vidsense_shared.publishing import EventPublisher

TIMEOUT_CODE = "timeout"


class Action(enum.StrEnum):
    UNTOUCHED = "untouched"  # still within its time, or its step is not the reconciler's to finish yet
    CLOSED = "closed"  # a final event was already published: only the index entry was left
    REEMITTED = "reemitted"  # the lost event was published
    DUPLICATE = "duplicate"  # the job's outcome had been published after all
    TIMED_OUT = "timed_out"  # a failure with error code "timeout" was published
    UNREADABLE = "unreadable"  # the index names a key vidsense does not make (left for an operator)


@dataclass(frozen=True)
class Policy:
    stuck_after: timedelta
    give_up_after: timedelta
    max_attempts: int = 50  # per run: a run must end well inside the function timeout
    page_size: int = 25


@dataclass(frozen=True)
class Checked:
    job_key: str
    action: Action
    step: str  # "transcode" or "transcription"


@dataclass(frozen=True)
class Reconciler:
    stage: str
    work_bucket: str
    policy: Policy
    jobs: JobStore
    transcode_jobs: TranscodeJobs
    transcriber: Transcriber
    publisher: EventPublisher

    def reconcile(self, now: datetime) -> Iterator[Checked]:
        """Check the stuck attempts of this run, yielding what was done with each."""
        for count, entry in enumerate(self.jobs.open_attempts(now - self.policy.stuck_after, self.policy.page_size)):
            if count >= self.policy.max_attempts:
                return
            yield self._check(entry.job_key, now)

    def _check(self, job_key: str, now: datetime) -> Checked:
        ref = naming.parse_job_key(job_key)
        if ref is None:
            return Checked(job_key, Action.UNREADABLE, "unknown")
        # The index is eventually consistent: decide on the item itself.
        record = self.jobs.get(job_key)
        if record is None or record.open_since is None:
            return Checked(job_key, Action.UNTOUCHED, "closed")
        if any(_emitted(record, detail_type) for detail_type in FINAL_DETAIL_TYPES):
            self.jobs.close(job_key)
            return Checked(job_key, Action.CLOSED, "closed")
        age = now - record.open_since
        if age < self.policy.stuck_after:
            return Checked(job_key, Action.UNTOUCHED, "fresh")
        completed_ids = _emitted(record, TranscoderCompleted.DETAIL_TYPE)
        if not completed_ids:
            return Checked(job_key, self._transcode_step(ref, record, age, now), "transcode")
        return Checked(job_key, self._transcription_step(ref, record, completed_ids[0], age, now), "transcription")

    def _publish_timeout(
        self,
        failed: type[DomainEvent],
        data: FailureData,
        record: JobRecord,
        now: datetime,
        *,
        causation_id: str | None,
    ) -> Action:
        event = failed.create(
            data,
            correlation_id=data.answer_id,
            causation_id=causation_id,
            # Deterministic: two overlapping runs publish the same failure.
            event_id=derived_event_id(f"reconcile:{record.job_key}:{TIMEOUT_CODE}", failed.DETAIL_TYPE),
            occurred_at=now,
        )
        if already_emitted(record, event.DETAIL_TYPE, event.metadata.event_id):
            return Action.DUPLICATE
        publish_and_mark(event, record.job_key, jobs=self.jobs, publisher=self.publisher)
        return Action.TIMED_OUT

    def _transcode_step(self, ref: AnswerRef, record: JobRecord, age: timedelta, now: datetime) -> Action:
        give_up = age >= self.policy.give_up_after
        job_id = record.mediaconvert_job_id
        if job_id is None:
            # CreateJob has not succeeded yet: startTranscode's retries may still be on their way.
            return (
                self._transcode_timeout(ref, record, age, "no MediaConvert job was started", now)
                if give_up
                else Action.UNTOUCHED
            )
        job = self.transcode_jobs.find(job_id)
        if job is None:
            return self._transcode_timeout(ref, record, age, f"MediaConvert job {job_id} does not exist", now)
        outcome = translate_detail(job.detail, self.stage, job.finished_at or now)
        if isinstance(outcome, Skipped):
            if not give_up:
                return Action.UNTOUCHED
            return self._transcode_timeout(
                ref, record, age, f"MediaConvert job {job_id} is still {job.detail.status}", now
            )
        # The relay's own path: the same event id as the lost notification, marked the same way.
        result = publish_transcoder_outcome(outcome, jobs=self.jobs, publisher=self.publisher)
        return Action.DUPLICATE if result is Outcome.DUPLICATE else Action.REEMITTED

    def _transcode_timeout(self, ref: AnswerRef, record: JobRecord, age: timedelta, why: str, now: datetime) -> Action:
        data = TranscodeFailedData(**_timeout_fields(ref, record, age, why), job_id=record.mediaconvert_job_id)
        return self._publish_timeout(
            TranscodeFailed, data, record, now, causation_id=record.video_uploaded_event_id or None
        )

    def _transcription_step(
        self, ref: AnswerRef, record: JobRecord, completed_id: str, age: timedelta, now: datetime
    ) -> Action:
        give_up = age >= self.policy.give_up_after
        job_name = naming.transcription_job_name(self.stage, ref)
        causation_id = record.transcoder_completed_event_id or completed_id
        if record.transcription_job_name is None:
            # startTranscription has not run yet (its delivery may still be retried).
            return (
                self._transcription_timeout(
                    ref, record, age, "no Transcribe job was started", now, causation_id=causation_id
                )
                if give_up
                else Action.UNTOUCHED
            )
        job = self.transcriber.find(job_name)
        if older_than_recording(job, record):
            job = None  # the erased recording's job still holds the name: not this recording's outcome
        if job is None:
            # Without the started mark, StartTranscriptionJob may not have been called yet.
            if record.transcription_started or give_up:
                return self._transcription_timeout(
                    ref, record, age, f"Transcribe job {job_name} does not exist", now, causation_id=causation_id
                )
            return Action.UNTOUCHED
        event = transcription_outcome(
            job,
            ref,
            job_name=job_name,
            causation_id=causation_id,
            video_event_id=record.video_uploaded_event_id or None,
            audio_duration_ms=record.audio_duration_ms,
            stage=self.stage,
            work_bucket=self.work_bucket,
            occurred_at=job.completed_at or now,
        )
        if event is None:
            if not give_up:
                return Action.UNTOUCHED
            return self._transcription_timeout(
                ref, record, age, f"Transcribe job {job_name} is still {job.status}", now, causation_id=causation_id
            )
        if transcription_outcome_emitted(record, job_name):
            return Action.DUPLICATE
        publish_and_mark(event, record.job_key, jobs=self.jobs, publisher=self.publisher)
        return Action.REEMITTED

    def _transcription_timeout(
        self, ref: AnswerRef, record: JobRecord, age: timedelta, why: str, now: datetime, *, causation_id: str
    ) -> Action:
        job_name = naming.transcription_job_name(self.stage, ref)
        data = TranscriptionFailedData(**_timeout_fields(ref, record, age, why), job_name=job_name)
        return self._publish_timeout(TranscriptionFailed, data, record, now, causation_id=causation_id)


def _emitted(record: JobRecord, detail_type: str) -> list[str]:
    prefix = f"{detail_type}:"
    return [marker.removeprefix(prefix) for marker in record.emitted if marker.startswith(prefix)]


def _timeout_fields(ref: AnswerRef, record: JobRecord, age: timedelta, why: str) -> dict[str, Any]:
    """What a timeout failure says in either step; the step adds its job's id or name."""
    return {
        **ref.model_dump(),
        "video_event_id": record.video_uploaded_event_id or None,
        "error_code": TIMEOUT_CODE,
        "error_message": f"{why} after {int(age.total_seconds())} s",
        "retryable": True,
    }
