"""What the use cases need from the outside world; adapters implement these, tests pass fakes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from transcode.domain.transcribe import TranscriptionJob, TranscriptionRequest
from vidsense_shared.events import DomainEvent


class ServiceRejectedError(Exception):
    """The service refused the request for good (bad input or settings); retrying the same input cannot help."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


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
    transcription_job_name: str | None = None
    transcoder_completed_event_id: str | None = None
    audio_duration_ms: int | None = None


class JobStore(Protocol):
    def claim(self, record: JobRecord) -> JobRecord | None:
        """Create the record if absent (conditional write). Returns None when created, else the existing one."""

    def mark_transcode_started(self, job_key: str, mediaconvert_job_id: str) -> None: ...

    def record_transcription(
        self, job_key: str, job_name: str, transcoder_completed_event_id: str, audio_duration_ms: int | None
    ) -> None: ...

    def get(self, job_key: str) -> JobRecord | None: ...


class EventPublisher(Protocol):
    """vidsense_shared.bus.EventBridgePublisher in Lambda; declared here so the domain needs no botocore."""

    def publish(self, *events: DomainEvent) -> None: ...


class Transcoder(Protocol):
    def create_job(self, request: TranscodeRequest) -> str:
        """Start the job and return its id; raises TranscodeRejectedError on a permanent refusal."""


class Transcriber(Protocol):
    def start(self, request: TranscriptionRequest) -> bool:
        """Start the job; False when a job of that name already exists. TranscriptionRejectedError if refused."""

    def describe(self, job_name: str) -> TranscriptionJob: ...
