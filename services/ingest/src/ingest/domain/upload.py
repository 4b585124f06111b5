"""uploadLanded's rules: what a new object version in the media bucket does to the answer's record."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ingest.domain.answers import AnswerRecord, Status, trail_entry
from ingest.domain.keys import VIDEO_CONTENT_TYPE, AnswerKey
from vidsense_shared.events import APP, S3Pointer, VideoUploaded, VideoUploadedData

INVALID_UPLOAD = "InvalidUpload"


@dataclass(frozen=True)
class LandedObject:
    """A new object version in the media bucket, as the S3 notification and HeadObject describe it."""

    bucket: str
    answer: AnswerKey
    version_id: str
    size_bytes: int
    content_type: str
    event_time: datetime


@dataclass(frozen=True)
class NewAttempt:
    record: AnswerRecord


@dataclass(frozen=True)
class AlreadyRecorded:
    """Duplicate delivery of the version the record holds: publish only if that has not happened yet."""

    record: AnswerRecord


@dataclass(frozen=True)
class EarlierAttempt:
    """A late notification for the version of an attempt the answer has moved past: nothing to do."""

    version_id: str


@dataclass(frozen=True)
class LosingVersion:
    """A later concurrent upload of a live answer: the first version wins, this one is removed."""

    winner_version_id: str


@dataclass(frozen=True)
class ErasingAnswer:
    """A version that lands while the answer is being erased: removed, never recorded (no resurrection)."""

    version_id: str


UploadDecision = NewAttempt | AlreadyRecorded | EarlierAttempt | LosingVersion | ErasingAnswer


def video_event_id(bucket: str, key: str, version_id: str) -> str:
    """Deterministic VideoUploaded id: a retry after a failed publish republishes the same event."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{APP}:s3://{bucket}/{key}?versionId={version_id}:VideoUploaded"))


class RejectionReason(StrEnum):
    TOO_LARGE = "too_large"
    EMPTY = "empty"
    WRONG_CONTENT_TYPE = "wrong_content_type"


@dataclass(frozen=True)
class UploadRejection:
    """Why an upload is refused, with what HeadObject reported and what the rule expected."""

    reason: RejectionReason
    size_bytes: int
    content_type: str
    max_bytes: int
    expected_content_type: str = VIDEO_CONTENT_TYPE

    @property
    def message(self) -> str:
        """The record's error, as the person's page shows it."""
        match self.reason:
            case RejectionReason.TOO_LARGE:
                size, most = self.size_bytes, self.max_bytes
                return f"{INVALID_UPLOAD}: the video has {size} bytes, more than the {most} allowed"
            case RejectionReason.EMPTY:
                return f"{INVALID_UPLOAD}: the video is empty"
            case RejectionReason.WRONG_CONTENT_TYPE:
                return f"{INVALID_UPLOAD}: content type {self.content_type!r} is not {self.expected_content_type}"

    def log_fields(self) -> dict[str, str | int]:
        return {
            "rejection_reason": self.reason.value,
            "size_bytes": self.size_bytes,
            "content_type": self.content_type,
            "max_bytes": self.max_bytes,
            "expected_content_type": self.expected_content_type,
            "error": self.message,
        }


def upload_rejection(size_bytes: int, content_type: str, max_bytes: int) -> UploadRejection | None:
    """The rule an upload breaks, judged on what HeadObject reported of the version, or None when it is valid."""
    if size_bytes > max_bytes:
        reason = RejectionReason.TOO_LARGE
    elif size_bytes <= 0:
        reason = RejectionReason.EMPTY
    elif content_type != VIDEO_CONTENT_TYPE:
        reason = RejectionReason.WRONG_CONTENT_TYPE
    else:
        return None
    return UploadRejection(reason, size_bytes, content_type, max_bytes)


def decide_upload(existing: AnswerRecord | None, obj: LandedObject, *, max_bytes: int, now: datetime) -> UploadDecision:
    if existing is not None:
        if existing.status is Status.DELETING:
            return ErasingAnswer(obj.version_id)
        if obj.version_id == existing.version_id:
            return AlreadyRecorded(existing)
        if obj.version_id in existing.previous_versions:
            return EarlierAttempt(obj.version_id)
        if existing.status is not Status.FAILED:
            return LosingVersion(existing.version_id)
    attempt = 1 if existing is None else existing.attempt + 1
    previous = () if existing is None else (*existing.previous_versions, existing.version_id)
    rejection = upload_rejection(obj.size_bytes, obj.content_type, max_bytes)
    key = obj.answer
    event_id = None if rejection else video_event_id(obj.bucket, key.video_key, obj.version_id)
    record = AnswerRecord(
        answer_id=key.answer_id,
        project_step=key.project_step,
        project=key.project,
        step=key.step,
        user_key=key.user_key,
        attempt=attempt,
        status=Status.FAILED if rejection else Status.UPLOADED,
        status_at=obj.event_time,
        status_event_id=event_id or f"rejected:{obj.version_id}",
        bucket=obj.bucket,
        key=key.video_key,
        version_id=obj.version_id,
        size_bytes=obj.size_bytes,
        content_type=obj.content_type,
        uploaded_at=obj.event_time,
        previous_versions=previous,
        video_event_id=event_id,
        error=rejection.message if rejection else None,
        trail=existing.trail if existing else {},
        updated_at=now,
    )
    return NewAttempt(record)


def video_uploaded_event(record: AnswerRecord) -> VideoUploaded:
    """The VideoUploaded event of the record's attempt, rebuilt identically on every retry."""
    if record.video_event_id is None:
        raise ValueError(f"attempt {record.attempt} of {record.answer_id} was rejected: nothing to publish")
    data = VideoUploadedData(
        project=record.project,
        step=record.step,
        user_key=record.user_key,
        attempt=record.attempt,
        video=S3Pointer(bucket=record.bucket, key=record.key, version_id=record.version_id),
        size_bytes=record.size_bytes,
        content_type=record.content_type,
    )
    return VideoUploaded.create(
        data,
        correlation_id=record.answer_id,
        causation_id=None,
        event_id=record.video_event_id,
        occurred_at=record.uploaded_at,
    )


def mark_published(record: AnswerRecord, event: VideoUploaded, *, now: datetime) -> AnswerRecord | None:
    """The record with the publish recorded, or None when it no longer holds this attempt or is done."""
    if record.video_event_id != event.metadata.event_id or record.published or record.status is Status.DELETING:
        return None
    trail = {**record.trail, event.metadata.event_id: trail_entry(event, record.attempt)}
    return record.model_copy(update={"published": True, "trail": trail, "updated_at": now})
