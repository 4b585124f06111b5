"""MediaConvert "Job State Change" events and their translation into the domain events they stand for.

Shapes follow AWS's documented samples (MediaConvert user guide, "Events with ERROR status", "File group"):
``detail.status``, ``detail.jobId``, ``detail.userMetadata``, ``detail.errorCode``/``errorMessage`` and, on
COMPLETE, ``detail.outputGroupDetails[].type`` with ``outputDetails[].outputFilePaths``/``durationInMs``.
Unknown fields are ignored: AWS adds fields to these events over time.
"""

# Annotations evaluated as written, no `from __future__ import annotations`: pydantic would compile each field's
# annotation string when the models are declared, in every cold start (docs/performance.md, Lambda cold init).

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from transcode.domain.job_metadata import JobMetadata
from transcode.domain.naming import AUDIO_EXTENSION, InvalidS3UriError, parse_s3_uri
from vidsense_shared.eventbridge import EventBridgeEnvelope
from vidsense_shared.events import (
    APP,
    S3Pointer,
    TranscodeFailed,
    TranscodeFailedData,
    TranscoderCompleted,
    TranscoderCompletedData,
    derived_event_id,
)

SOURCE = "aws.mediaconvert"
DETAIL_TYPE = "MediaConvert Job State Change"
FILE_GROUP = "FILE_GROUP"
CANCELED_CODE = "CANCELED"
NO_AUDIO_OUTPUT_CODE = "NO_AUDIO_OUTPUT"


class _Lenient(BaseModel):
    # Built on first use, only by the functions that read MediaConvert events (docs/performance.md).
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)


class OutputDetail(_Lenient):
    output_file_paths: list[str] = Field(default_factory=list, alias="outputFilePaths")
    duration_in_ms: int | None = Field(default=None, alias="durationInMs")


class OutputGroupDetail(_Lenient):
    type: str
    output_details: list[OutputDetail] = Field(default_factory=list, alias="outputDetails")


class JobStateChangeDetail(_Lenient):
    job_id: str = Field(alias="jobId")
    status: str
    user_metadata: dict[str, str] = Field(default_factory=dict, alias="userMetadata")
    # AWS documents errorCode as a number (1040); kept as text for the failure event.
    error_code: int | str | None = Field(default=None, alias="errorCode")
    error_message: str | None = Field(default=None, alias="errorMessage")
    output_group_details: list[OutputGroupDetail] = Field(default_factory=list, alias="outputGroupDetails")


class JobStateChange(EventBridgeEnvelope):
    detail: JobStateChangeDetail


@dataclass(frozen=True)
class AudioOutput:
    pointer: S3Pointer
    duration_ms: int | None


def find_audio_output(detail: JobStateChangeDetail) -> AudioOutput | None:
    """The MP3 rendition: found by output group type and file extension, never by position in the lists."""
    suffix = f".{AUDIO_EXTENSION}"
    for group in detail.output_group_details:
        if group.type != FILE_GROUP:
            continue
        for output in group.output_details:
            for path in output.output_file_paths:
                if path.lower().endswith(suffix):
                    return AudioOutput(pointer=parse_s3_uri(path), duration_ms=output.duration_in_ms)
    return None


@dataclass(frozen=True)
class Skipped:
    """The event needs no domain event (another stage's job, or an intermediate status)."""

    reason: str


Translation = TranscoderCompleted | TranscodeFailed | Skipped
TERMINAL_STATUSES = frozenset({"COMPLETE", "ERROR", "CANCELED"})


def job_belongs_to(detail: JobStateChangeDetail, stage: str) -> bool:
    return detail.user_metadata.get("app") == APP and detail.user_metadata.get("stage") == stage


def translate(change: JobStateChange, stage: str) -> Translation:
    """Translate one MediaConvert state change into the domain event it stands for, if any.

    Raises InvalidJobMetadataError when a job tagged for this stage carries unreadable metadata: that is a
    bug on our side, and raising keeps the event for the dead-letter path instead of dropping it.
    """
    return translate_detail(change.detail, stage, change.time)


def translate_detail(detail: JobStateChangeDetail, stage: str, occurred_at: datetime) -> Translation:
    """``translate`` for a job described by GetJob (the reconciler) or by its state-change event: same ids."""
    if not job_belongs_to(detail, stage):
        return Skipped(reason="job of another app or stage")
    if detail.status not in TERMINAL_STATUSES:
        return Skipped(reason=f"status {detail.status} is not terminal")
    meta = JobMetadata.from_user_metadata(detail.user_metadata)
    ref = meta.answer_ref
    cause = f"mediaconvert:{detail.job_id}:{detail.status}"

    def failed(code: str, message: str) -> TranscodeFailed:
        return TranscodeFailed.create(
            TranscodeFailedData(
                **ref.model_dump(),
                video_event_id=meta.causation_id,
                error_code=code,
                error_message=message,
                job_id=detail.job_id,
            ),
            correlation_id=meta.correlation_id,
            causation_id=meta.causation_id,
            event_id=derived_event_id(cause, TranscodeFailed.DETAIL_TYPE),
            occurred_at=occurred_at,
        )

    if detail.status == "ERROR":
        code = str(detail.error_code) if detail.error_code is not None else "UNKNOWN"
        return failed(code, detail.error_message or "MediaConvert reported an error without a message")
    if detail.status == "CANCELED":
        return failed(CANCELED_CODE, f"MediaConvert job {detail.job_id} was canceled")
    try:
        audio = find_audio_output(detail)
    except InvalidS3UriError as exc:
        return failed(NO_AUDIO_OUTPUT_CODE, str(exc))
    if audio is None:
        return failed(NO_AUDIO_OUTPUT_CODE, f"job {detail.job_id} completed without an .mp3 file output")
    return TranscoderCompleted.create(
        TranscoderCompletedData(
            **ref.model_dump(),
            # The job's causation is the VideoUploaded it was started for (start_transcode).
            video_event_id=meta.causation_id,
            job_id=detail.job_id,
            audio=audio.pointer,
            duration_ms=audio.duration_ms,
        ),
        correlation_id=meta.correlation_id,
        causation_id=meta.causation_id,
        event_id=derived_event_id(cause, TranscoderCompleted.DETAIL_TYPE),
        occurred_at=occurred_at,
    )
