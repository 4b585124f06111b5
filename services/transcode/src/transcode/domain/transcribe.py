"""Amazon Transcribe: media formats, job requests and "Transcribe Job State Change" events.

The state-change event (source ``aws.transcribe``) carries only ``detail.TranscriptionJobName`` and
``detail.TranscriptionJobStatus`` (COMPLETED or FAILED); language, transcript location and failure reason come
from GetTranscriptionJob.
"""

# Annotations evaluated as written, no `from __future__ import annotations`: pydantic would compile each field's
# annotation string when the models are declared, in every cold start (docs/performance.md, Lambda cold init).

from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath

from pydantic import BaseModel, ConfigDict, Field

from vidsense_shared.eventbridge import EventBridgeEnvelope

SOURCE = "aws.transcribe"
DETAIL_TYPE = "Transcribe Job State Change"

# Transcribe's batch MediaFormat values (StartTranscriptionJob model), keyed by file extension.
MEDIA_FORMATS: dict[str, str] = {ext: ext for ext in ("mp3", "mp4", "wav", "flac", "ogg", "amr", "webm", "m4a")}
UNSUPPORTED_MEDIA_FORMAT_CODE = "UNSUPPORTED_MEDIA_FORMAT"


def media_format(key: str) -> str | None:
    """Transcribe's MediaFormat for an S3 key, from its extension; None when Transcribe cannot read it."""
    return MEDIA_FORMATS.get(PurePosixPath(key).suffix.lower().lstrip("."))


@dataclass(frozen=True)
class TranscriptionRequest:
    job_name: str
    media_uri: str
    media_format: str
    language_code: str
    output_bucket: str
    output_key: str
    # Only set when the rate is known for sure: a wrong value makes Transcribe fail the job.
    sample_rate_hertz: int | None = None


@dataclass(frozen=True)
class TranscriptionJob:
    """What GetTranscriptionJob tells about a job."""

    name: str
    status: str
    language_code: str | None
    transcript_uri: str | None
    failure_reason: str | None
    completed_at: datetime | None = None
    created_at: datetime | None = None


class _Detail(BaseModel):
    # Built on first use, only by the functions that read Transcribe events (docs/performance.md).
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    job_name: str = Field(alias="TranscriptionJobName")
    status: str = Field(alias="TranscriptionJobStatus")


class JobStateChange(EventBridgeEnvelope):
    detail: _Detail
