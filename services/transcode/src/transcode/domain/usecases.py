"""The four transcode steps, as pure orchestration over the ports (no boto3, no environment)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from transcode.domain import naming
from transcode.domain.job_metadata import JobMetadata
from transcode.domain.ports import (
    JobRecord,
    JobStore,
    Transcoder,
    TranscodeRejectedError,
    TranscodeRequest,
    Transcriber,
    TranscriptionRejectedError,
)
from transcode.domain.transcribe import (
    UNSUPPORTED_MEDIA_FORMAT_CODE,
    TranscriptionJob,
    TranscriptionRequest,
    media_format,
)
from vidsense_shared.events import (
    AnswerRef,
    DomainEvent,
    S3Pointer,
    TranscodeFailed,
    TranscodeFailedData,
    TranscoderCompleted,
    TranscriptionFailed,
    TranscriptionFailedData,
    TranscriptReady,
    TranscriptReadyData,
    VideoUploaded,
    derived_event_id,
)
from vidsense_shared.publishing import EventPublisher, publish_then_mark

TRANSCRIPT_LOCATION_MISMATCH_CODE = "TRANSCRIPT_LOCATION_MISMATCH"
TRANSCRIPT_MISSING_CODE = "TRANSCRIPT_MISSING"
LANGUAGE_UNKNOWN_CODE = "LANGUAGE_UNKNOWN"
TRANSCRIPTION_FAILED_CODE = "TRANSCRIPTION_FAILED"


class Outcome(enum.StrEnum):
    STARTED = "started"
    RESUMED = "resumed"  # a record without job id: the previous attempt crashed before CreateJob returned
    ALREADY_STARTED = "already_started"
    PUBLISHED = "published"  # the success event was published
    FAILED = "failed"  # a failure event was published
    SKIPPED = "skipped"  # not this stage's job, or a non-terminal status
    DUPLICATE = "duplicate"  # the same event again: its outcome was already published, nothing done


# Events after which an attempt needs no more watching (the reconciler closes it).
FINAL_DETAIL_TYPES = frozenset(
    {TranscodeFailed.DETAIL_TYPE, TranscriptReady.DETAIL_TYPE, TranscriptionFailed.DETAIL_TYPE}
)


class JobRecordMissingError(RuntimeError):
    """No jobs-table record for a job this stage started; raised so the event is retried or dead-lettered."""


class TranscriptionNameTakenError(RuntimeError):
    """The attempt's Transcribe job name is still held by an erased recording's job; retried until eraseAnswer
    deleted it (or dead-lettered, and the reconciler fails the answer visibly)."""


class JobRecordContendedError(RuntimeError):
    """Another delivery replaced (or the erasure deleted) an erased recording's record first; the retry decides."""


def _ref(data: AnswerRef) -> AnswerRef:
    return AnswerRef(project=data.project, step=data.step, user_key=data.user_key, attempt=data.attempt)


# --- the duplicate rule: publish, then mark ----------------------------------------------------------------


def emission_marker(detail_type: str, event_id: str) -> str:
    """What the jobs table keeps of a published event (its ``emitted`` set)."""
    return f"{detail_type}:{event_id}"


def already_emitted(record: JobRecord | None, detail_type: str, event_id: str) -> bool:
    return record is not None and emission_marker(detail_type, event_id) in record.emitted


def publish_and_mark(event: DomainEvent, job_key: str, *, jobs: JobStore, publisher: EventPublisher) -> None:
    """Publish, then add the event to the attempt's ``emitted`` set (vidsense_shared.publishing)."""
    publish_then_mark(
        publisher,
        event,
        lambda published: jobs.mark_emitted(
            job_key,
            emission_marker(published.DETAIL_TYPE, published.metadata.event_id),
            final=published.DETAIL_TYPE in FINAL_DETAIL_TYPES,
        ),
    )


# --- 1. startTranscode -----------------------------------------------------------------------------------


def start_transcode(
    event: VideoUploaded,
    *,
    stage: str,
    work_bucket: str,
    jobs: JobStore,
    transcoder: Transcoder,
    publisher: EventPublisher,
    replay: bool = False,
) -> Outcome:
    """Start exactly one MediaConvert job per answer attempt.

    MediaConvert's ClientRequestToken only deduplicates for about a minute, so the jobs table is the
    idempotency record: the conditional write decides who starts the job, and the job id written after
    CreateJob tells a later delivery that there is nothing left to do. A duplicate of an event whose job
    was refused does nothing; a replay (``replay``) tries CreateJob again, since operators replay after a fix.

    Attempts restart at 1 after an erasure, so the record found may be an erased recording's that eraseAnswer has
    not deleted yet (late, retrying, dead-lettered): a newer VideoUploaded replaces it (conditionally, so of two
    deliveries only one wins) and starts its own job; an older one (a late delivery or replay of the erased
    recording's event) does nothing.
    """
    ref = _ref(event.data)
    key = naming.job_key(ref)
    token = naming.client_request_token(stage, ref, event.data.video)
    failure_id = derived_event_id(event.metadata.event_id, TranscodeFailed.DETAIL_TYPE)
    claim = JobRecord(
        job_key=key,
        client_request_token=token,
        video_uploaded_event_id=event.metadata.event_id,
        video_uploaded_at=event.metadata.occurred_at,
    )
    existing = jobs.claim(claim)
    if existing is not None and existing.video_uploaded_event_id not in ("", event.metadata.event_id):
        if not _supersedes(event, existing, replay=replay):
            return Outcome.SKIPPED
        if not jobs.replace(claim, previous_event_id=existing.video_uploaded_event_id):
            raise JobRecordContendedError(f"the record of {key} changed while replacing it")
        existing = None
    if existing is not None and existing.mediaconvert_job_id:
        return Outcome.ALREADY_STARTED
    if not replay and already_emitted(existing, TranscodeFailed.DETAIL_TYPE, failure_id):
        return Outcome.DUPLICATE
    # A partial record (fields empty) falls back to this delivery's values.
    causation_id = (existing.video_uploaded_event_id if existing else "") or event.metadata.event_id
    metadata = JobMetadata.for_attempt(stage, ref, causation_id=causation_id)
    request = TranscodeRequest(
        input_uri=event.data.video.uri,
        destination_uri=f"s3://{work_bucket}/{naming.audio_destination(stage, ref)}",
        user_metadata=metadata.to_user_metadata(),
        # The same token on a crash-recovery retry lets MediaConvert itself drop a duplicate within its window.
        client_request_token=(existing.client_request_token if existing else "") or token,
    )
    try:
        job_id = transcoder.create_job(request)
    except TranscodeRejectedError as exc:
        failure = TranscodeFailed.create(
            TranscodeFailedData(
                **ref.model_dump(),
                video_event_id=event.metadata.event_id,
                error_code=exc.code,
                error_message=exc.message,
            ),
            correlation_id=event.metadata.correlation_id,
            causation_id=event.metadata.event_id,
            event_id=failure_id,
        )
        publish_and_mark(failure, key, jobs=jobs, publisher=publisher)
        return Outcome.FAILED
    jobs.mark_transcode_started(key, job_id)
    return Outcome.RESUMED if existing else Outcome.STARTED


def _supersedes(event: VideoUploaded, existing: JobRecord, *, replay: bool) -> bool:
    """Whether this upload is a later recording than the one the record was written for."""
    if existing.video_uploaded_at is None:  # a record older than the field: only a live delivery is taken as newer
        return not replay
    return event.metadata.occurred_at > existing.video_uploaded_at


# --- 2. relayTranscoderEvents (and the reconciler) ----------------------------------------------------------


def publish_transcoder_outcome(
    event: TranscoderCompleted | TranscodeFailed, *, jobs: JobStore, publisher: EventPublisher
) -> Outcome:
    """Publish what a finished MediaConvert job means, once: its event id derives from job id and status."""
    key = naming.job_key(_ref(event.data))
    if already_emitted(jobs.get(key), event.DETAIL_TYPE, event.metadata.event_id):
        return Outcome.DUPLICATE
    publish_and_mark(event, key, jobs=jobs, publisher=publisher)
    return Outcome.PUBLISHED if isinstance(event, TranscoderCompleted) else Outcome.FAILED


# --- 3. startTranscription -------------------------------------------------------------------------------


def start_transcription(
    event: TranscoderCompleted,
    *,
    stage: str,
    work_bucket: str,
    language_code: str,
    jobs: JobStore,
    transcriber: Transcriber,
    publisher: EventPublisher,
    replay: bool = False,
) -> Outcome:
    """Start the Transcribe job of an answer attempt; an existing job of that name counts as started.

    Once the jobs table says the job was started, no delivery (duplicate or replay) calls Transcribe again.
    A duplicate of an event that failed does nothing; a replay tries again (operators replay after a fix).
    Job names are per attempt, so after an erasure the name may still be the erased recording's job: that one
    never counts as started. An event of another recording than the record's does nothing.
    """
    ref = _ref(event.data)
    key = naming.job_key(ref)
    job_name = naming.transcription_job_name(stage, ref)
    failure_id = derived_event_id(event.metadata.event_id, TranscriptionFailed.DETAIL_TYPE)
    record = jobs.get(key)
    if record is not None and _other_recording(event.data.video_event_id, record):
        return Outcome.SKIPPED
    if record is not None and record.transcription_started:
        return Outcome.ALREADY_STARTED
    if not replay and already_emitted(record, TranscriptionFailed.DETAIL_TYPE, failure_id):
        return Outcome.DUPLICATE

    def failed(code: str, message: str) -> Outcome:
        failure = TranscriptionFailed.create(
            TranscriptionFailedData(
                **ref.model_dump(),
                video_event_id=event.data.video_event_id,
                error_code=code,
                error_message=message,
                job_name=job_name,
            ),
            correlation_id=event.metadata.correlation_id,
            causation_id=event.metadata.event_id,
            event_id=failure_id,
        )
        publish_and_mark(failure, key, jobs=jobs, publisher=publisher)
        return Outcome.FAILED

    audio = event.data.audio
    fmt = media_format(audio.key)
    if fmt is None:
        return failed(UNSUPPORTED_MEDIA_FORMAT_CODE, f"Transcribe cannot read {audio.key!r}")
    # Recorded before the job starts, so the completion handler always finds the causation id.
    jobs.record_transcription(
        key,
        job_name,
        transcoder_completed_event_id=event.metadata.event_id,
        audio_duration_ms=event.data.duration_ms,
    )
    request = TranscriptionRequest(
        job_name=job_name,
        media_uri=audio.uri,
        media_format=fmt,
        language_code=language_code,
        output_bucket=work_bucket,
        output_key=naming.transcript_key(stage, ref),
    )
    try:
        started = transcriber.start(request)
    except TranscriptionRejectedError as exc:
        return failed(exc.code, exc.message)
    # Only a Conflict of a recording made since the upload time was kept needs the extra GetTranscriptionJob.
    if (
        not started
        and record is not None
        and record.video_uploaded_at is not None
        and older_than_recording(transcriber.find(job_name), record)
    ):
        raise TranscriptionNameTakenError(f"{job_name} is still an erased recording's job")
    jobs.mark_transcription_started(key)
    return Outcome.STARTED if started else Outcome.ALREADY_STARTED


def _other_recording(video_event_id: str | None, record: JobRecord) -> bool:
    return bool(video_event_id and record.video_uploaded_event_id and video_event_id != record.video_uploaded_event_id)


def older_than_recording(job: TranscriptionJob | None, record: JobRecord) -> bool:
    """Whether a Transcribe job of the attempt's name was created before the record's upload: an erased one's."""
    return (
        job is not None
        and job.created_at is not None
        and record.video_uploaded_at is not None
        and job.created_at < record.video_uploaded_at
    )


# --- 4. transcriptionCompleted ---------------------------------------------------------------------------


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


def complete_transcription(
    change: TranscriptionStateChange,
    *,
    stage: str,
    work_bucket: str,
    jobs: JobStore,
    transcriber: Transcriber,
    publisher: EventPublisher,
) -> Outcome:
    """COMPLETED -> TranscriptReady; FAILED -> TranscriptionFailed with Transcribe's FailureReason."""
    ref = naming.parse_transcription_job_name(stage, change.job_name)
    if ref is None or change.status not in ("COMPLETED", "FAILED"):
        return Outcome.SKIPPED
    key = naming.job_key(ref)
    record = jobs.get(key)
    if record is None or record.transcoder_completed_event_id is None:
        raise JobRecordMissingError(f"no transcription recorded for {key}")
    if transcription_outcome_emitted(record, change.job_name):
        return Outcome.DUPLICATE
    # The job's own status is authoritative (the event is best effort and may be stale).
    event = transcription_outcome(
        transcriber.describe(change.job_name),
        ref,
        job_name=change.job_name,
        causation_id=record.transcoder_completed_event_id,
        video_event_id=record.video_uploaded_event_id or None,
        audio_duration_ms=record.audio_duration_ms,
        stage=stage,
        work_bucket=work_bucket,
        occurred_at=change.occurred_at,
    )
    if event is None:
        return Outcome.SKIPPED
    publish_and_mark(event, key, jobs=jobs, publisher=publisher)
    return Outcome.PUBLISHED if isinstance(event, TranscriptReady) else Outcome.FAILED
