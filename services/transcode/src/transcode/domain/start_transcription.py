"""startTranscription: one Transcribe job per answer attempt."""

from __future__ import annotations

from dataclasses import dataclass

from transcode.domain import naming
from transcode.domain.emission import already_emitted, publish_and_mark
from transcode.domain.outcome import Outcome, answer_ref
from transcode.domain.ports import JobRecord, JobStore, Transcriber, TranscriptionRejectedError
from transcode.domain.transcribe import (
    UNSUPPORTED_MEDIA_FORMAT_CODE,
    TranscriptionJob,
    TranscriptionRequest,
    media_format,
)
from vidsense_shared.events import TranscoderCompleted, TranscriptionFailed, TranscriptionFailedData, derived_event_id
from vidsense_shared.publishing import EventPublisher


class TranscriptionNameTakenError(RuntimeError):
    """The attempt's Transcribe job name is still held by an erased recording's job; retried until eraseAnswer
    deleted it (or dead-lettered, and the reconciler fails the answer visibly)."""


@dataclass(frozen=True)
class TranscriptionStarter:
    stage: str
    work_bucket: str
    language_code: str
    jobs: JobStore
    transcriber: Transcriber
    publisher: EventPublisher

    def start(self, event: TranscoderCompleted, *, replay: bool = False) -> Outcome:
        """Start the Transcribe job of an answer attempt; an existing job of that name counts as started.

        Once the jobs table says the job was started, no delivery (duplicate or replay) calls Transcribe again.
        A duplicate of an event that failed does nothing; a replay tries again (operators replay after a fix).
        Job names are per attempt, so after an erasure the name may still be the erased recording's job: that one
        never counts as started. An event of another recording than the record's does nothing.
        """
        ref = answer_ref(event.data)
        key = naming.job_key(ref)
        job_name = naming.transcription_job_name(self.stage, ref)
        failure_id = derived_event_id(event.metadata.event_id, TranscriptionFailed.DETAIL_TYPE)
        record = self.jobs.get(key)
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
            publish_and_mark(failure, key, jobs=self.jobs, publisher=self.publisher)
            return Outcome.FAILED

        audio = event.data.audio
        fmt = media_format(audio.key)
        if fmt is None:
            return failed(UNSUPPORTED_MEDIA_FORMAT_CODE, f"Transcribe cannot read {audio.key!r}")
        # Recorded before the job starts, so the completion handler always finds the causation id.
        self.jobs.record_transcription(
            key,
            job_name,
            transcoder_completed_event_id=event.metadata.event_id,
            audio_duration_ms=event.data.duration_ms,
        )
        request = TranscriptionRequest(
            job_name=job_name,
            media_uri=audio.uri,
            media_format=fmt,
            language_code=self.language_code,
            output_bucket=self.work_bucket,
            output_key=naming.transcript_key(self.stage, ref),
        )
        try:
            started = self.transcriber.start(request)
        except TranscriptionRejectedError as exc:
            return failed(exc.code, exc.message)
        # Only a Conflict of a recording made since the upload time was kept needs the extra GetTranscriptionJob.
        if (
            not started
            and record is not None
            and record.video_uploaded_at is not None
            and older_than_recording(self.transcriber.find(job_name), record)
        ):
            raise TranscriptionNameTakenError(f"{job_name} is still an erased recording's job")
        self.jobs.mark_transcription_started(key)
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
