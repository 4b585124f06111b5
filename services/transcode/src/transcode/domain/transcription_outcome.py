"""transcriptionCompleted (and the reconciler): what a finished Transcribe job means, published once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from transcode.domain import naming
from transcode.domain.emission import already_emitted, publish_and_mark
from transcode.domain.outcome import Outcome
from transcode.domain.ports import JobRecord, JobStore, Transcriber
from transcode.domain.transcribe import TranscriptionJob
from vidsense_shared.events import (
    AnswerRef,
    S3Pointer,
    TranscriptionFailed,
    TranscriptionFailedData,
    TranscriptReady,
    TranscriptReadyData,
    derived_event_id,
)
from vidsense_shared.publishing import EventPublisher

TRANSCRIPT_LOCATION_MISMATCH_CODE = "TRANSCRIPT_LOCATION_MISMATCH"
TRANSCRIPT_MISSING_CODE = "TRANSCRIPT_MISSING"
LANGUAGE_UNKNOWN_CODE = "LANGUAGE_UNKNOWN"
TRANSCRIPTION_FAILED_CODE = "TRANSCRIPTION_FAILED"


class JobRecordMissingError(RuntimeError):
    """No jobs-table record for a job this stage started; raised so the event is retried or dead-lettered."""


@dataclass(frozen=True)
class TranscriptionStateChange:
    job_name: str
    status: str
    occurred_at: datetime


def _transcription_cause(job_name: str, status: str) -> str:
    return f"transcribe:{job_name}:{status}"


def transcription_outcome_emitted(record: JobRecord, job_name: str) -> bool:
    """True when an outcome of this Transcribe job was already published (whatever status it was derived from)."""
    return any(
        already_emitted(
            record, model.DETAIL_TYPE, derived_event_id(_transcription_cause(job_name, status), model.DETAIL_TYPE)
        )
        for model in (TranscriptReady, TranscriptionFailed)
        for status in ("COMPLETED", "FAILED")
    )


def transcription_outcome(
    job: TranscriptionJob,
    ref: AnswerRef,
    *,
    job_name: str,
    causation_id: str,
    video_event_id: str | None,
    audio_duration_ms: int | None,
    stage: str,
    work_bucket: str,
    occurred_at: datetime,
) -> TranscriptReady | TranscriptionFailed | None:
    """The event a Transcribe job's own status stands for; None while it has not finished."""
    cause = _transcription_cause(job_name, job.status)
    expected = S3Pointer(bucket=work_bucket, key=naming.transcript_key(stage, ref))

    def failed(code: str, message: str) -> TranscriptionFailed:
        return TranscriptionFailed.create(
            TranscriptionFailedData(
                **ref.model_dump(),
                video_event_id=video_event_id,
                error_code=code,
                error_message=message,
                job_name=job_name,
            ),
            correlation_id=ref.answer_id,
            causation_id=causation_id,
            event_id=derived_event_id(cause, TranscriptionFailed.DETAIL_TYPE),
            occurred_at=occurred_at,
        )

    if job.status == "FAILED":
        return failed(TRANSCRIPTION_FAILED_CODE, job.failure_reason or "Transcribe gave no failure reason")
    if job.status != "COMPLETED":
        return None
    if not job.transcript_uri:
        return failed(TRANSCRIPT_MISSING_CODE, "COMPLETED job reports no TranscriptFileUri")
    # The key is ours (OutputKey); the URI is checked when it is a recognisable S3 URL, since a mismatch
    # means the pointer we would publish leads nowhere.
    reported = naming.parse_s3_https_url(job.transcript_uri)
    if reported is not None and (reported.bucket, reported.key) != (expected.bucket, expected.key):
        return failed(TRANSCRIPT_LOCATION_MISMATCH_CODE, f"transcript at {job.transcript_uri}, expected {expected.uri}")
    if not job.language_code:
        return failed(LANGUAGE_UNKNOWN_CODE, "COMPLETED job reports no LanguageCode")
    return TranscriptReady.create(
        TranscriptReadyData(
            **ref.model_dump(),
            video_event_id=video_event_id,
            job_name=job_name,
            transcript=expected,
            language_code=job.language_code,
            duration_ms=audio_duration_ms,
        ),
        correlation_id=ref.answer_id,
        causation_id=causation_id,
        event_id=derived_event_id(cause, TranscriptReady.DETAIL_TYPE),
        occurred_at=occurred_at,
    )


@dataclass(frozen=True)
class TranscriptionCompleter:
    stage: str
    work_bucket: str
    jobs: JobStore
    transcriber: Transcriber
    publisher: EventPublisher

    def complete(self, change: TranscriptionStateChange) -> Outcome:
        """COMPLETED -> TranscriptReady; FAILED -> TranscriptionFailed with Transcribe's FailureReason."""
        ref = naming.parse_transcription_job_name(self.stage, change.job_name)
        if ref is None or change.status not in ("COMPLETED", "FAILED"):
            return Outcome.SKIPPED
        key = naming.job_key(ref)
        record = self.jobs.get(key)
        if record is None or record.transcoder_completed_event_id is None:
            raise JobRecordMissingError(f"no transcription recorded for {key}")
        if transcription_outcome_emitted(record, change.job_name):
            return Outcome.DUPLICATE
        # The job's own status is authoritative (the event is best effort and may be stale).
        event = transcription_outcome(
            self.transcriber.describe(change.job_name),
            ref,
            job_name=change.job_name,
            causation_id=record.transcoder_completed_event_id,
            video_event_id=record.video_uploaded_event_id or None,
            audio_duration_ms=record.audio_duration_ms,
            stage=self.stage,
            work_bucket=self.work_bucket,
            occurred_at=change.occurred_at,
        )
        if event is None:
            return Outcome.SKIPPED
        publish_and_mark(event, key, jobs=self.jobs, publisher=self.publisher)
        return Outcome.PUBLISHED if isinstance(event, TranscriptReady) else Outcome.FAILED
