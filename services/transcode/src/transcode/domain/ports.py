"""What the use cases need from the outside world; adapters implement these, tests pass fakes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from transcode.domain.mediaconvert import JobStateChangeDetail
from transcode.domain.transcribe import TranscriptionJob, TranscriptionRequest
from vidsense_shared.rejection import Rejected


class ServiceRejectedError(Rejected):
    """The service refused the request for good (bad input or settings); retrying the same input cannot help."""


class TranscodeRejectedError(ServiceRejectedError):
    """MediaConvert answered CreateJob with BadRequestException."""


class TranscriptionRejectedError(ServiceRejectedError):
    """Transcribe answered StartTranscriptionJob with BadRequestException."""


@dataclass(frozen=True)
class TranscodeRequest:
    """One MediaConvert job: the adapter fills its committed job template with these values."""

    input_uri: str
    destination_uri: str
    user_metadata: dict[str, str]
    client_request_token: str


@dataclass(frozen=True)
class JobRecord:
    """One item of the transcode jobs table (one per answer attempt)."""

    job_key: str
    client_request_token: str
    video_uploaded_event_id: str
    mediaconvert_job_id: str | None = None
    # When that VideoUploaded occurred: orders two recordings of one attempt (attempts restart after an erasure).
    video_uploaded_at: datetime | None = None
    transcription_job_name: str | None = None
    transcoder_completed_event_id: str | None = None
    audio_duration_ms: int | None = None
    # Set once StartTranscriptionJob returned (started, or the name already existed).
    transcription_started: bool = False
    # "{detail-type}:{event id}" of every event published for this attempt (written after the publish).
    emitted: frozenset[str] = field(default_factory=frozenset)
    # When the attempt's current step began; None once a final event closed the attempt.
    open_since: datetime | None = None


@dataclass(frozen=True)
class OpenAttempt:
    """An entry of the open-attempts index: the attempt's key and when its current step began."""

    job_key: str
    open_since: datetime


class JobStore(Protocol):
    def claim(self, record: JobRecord) -> JobRecord | None:
        """Create the record if absent (conditional write). Returns None when created, else the existing one."""

    def replace(self, record: JobRecord, *, previous_event_id: str) -> bool:
        """Overwrite an erased recording's record with a fresh one, only while it still names
        ``previous_event_id`` (conditional write); False when it does not (another delivery won, or it is gone)."""

    def mark_transcode_started(self, job_key: str, mediaconvert_job_id: str) -> None: ...

    def record_transcription(
        self, job_key: str, job_name: str, transcoder_completed_event_id: str, audio_duration_ms: int | None
    ) -> None: ...

    def mark_transcription_started(self, job_key: str) -> None:
        """StartTranscriptionJob returned: later deliveries must not call it again."""

    def mark_emitted(self, job_key: str, marker: str, *, final: bool) -> bool:
        """Record a published event. ``final`` closes the attempt, otherwise the next step's clock starts.

        Conditional on the record existing (a marker never creates a partial item); False when it does not.
        """

    def close(self, job_key: str) -> None:
        """Take the attempt out of the open-attempts index."""

    def get(self, job_key: str) -> JobRecord | None: ...

    def open_attempts(self, older_than: datetime, page_size: int) -> Iterator[OpenAttempt]:
        """Open attempts whose current step began at or before ``older_than``, oldest first, page by page."""


class Transcoder(Protocol):
    def create_job(self, request: TranscodeRequest) -> str:
        """Start the job and return its id; raises TranscodeRejectedError on a permanent refusal."""


class Transcriber(Protocol):
    def start(self, request: TranscriptionRequest) -> bool:
        """Start the job; False when a job of that name already exists. TranscriptionRejectedError if refused."""

    def describe(self, job_name: str) -> TranscriptionJob: ...

    def find(self, job_name: str) -> TranscriptionJob | None:
        """GetTranscriptionJob, or None when no job of that name exists."""


@dataclass(frozen=True)
class TranscodeJob:
    """A MediaConvert job as GetJob reports it, in the shape of its state-change event."""

    detail: JobStateChangeDetail
    finished_at: datetime | None


class TranscodeJobs(Protocol):
    def find(self, job_id: str) -> TranscodeJob | None:
        """MediaConvert GetJob; None when the job does not exist (any more)."""


# eraseAnswer's ports (domain/erasure.py): each only the calls the erasure makes.


class WorkObjects(Protocol):
    def delete_prefix(self, bucket: str, prefix: str, *, written_before: datetime) -> int:
        """Delete every object version and delete marker under ``prefix`` last modified at or before
        ``written_before``; how many there were."""
        ...


class JobRecords(Protocol):
    def delete(self, job_key: str, *, created_before: datetime) -> bool:
        """Delete the attempt's item if created at or before ``created_before``; False when there was none."""
        ...


class TranscriptionJobs(Protocol):
    def find(self, job_name: str) -> TranscriptionJob | None:
        """GetTranscriptionJob; None when no such job exists (any more)."""
        ...

    def delete(self, job_name: str) -> bool:
        """DeleteTranscriptionJob; False when no such job exists (any more)."""
        ...
