"""The answers read model: one record per answer (its current attempt), and the pure rules that change it.

Every writer reads the record, computes the next record here, and writes it back with a conditional write
on the revision it read, so concurrent writers never lose each other's changes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict

from ingest.domain.errors import AttemptAheadError, IngestError
from ingest.domain.keys import VIDEO_CONTENT_TYPE, AnswerKey
from vidsense_shared.events import (
    APP,
    AnswerRef,
    DomainEvent,
    NoSpeechDetected,
    PipelineRef,
    S3Pointer,
    SentimentDetected,
    SentimentFailed,
    SentimentLabel,
    SentimentScore,
    TranscodeFailed,
    TranscoderCompleted,
    TranscriptionFailed,
    TranscriptReady,
    VideoUploaded,
    VideoUploadedData,
)


class Status(StrEnum):
    UPLOADED = "UPLOADED"
    TRANSCODED = "TRANSCODED"
    TRANSCRIBED = "TRANSCRIBED"
    ANALYZED = "ANALYZED"
    NO_SPEECH = "NO_SPEECH"
    FAILED = "FAILED"
    # The person asked for erasure (DELETE /answers): nothing but the erasure writes the item any more.
    DELETING = "DELETING"


# The three outcomes share the top rank: which one stands is decided by time (see project_event).
RANK: dict[Status, int] = {
    Status.UPLOADED: 0,
    Status.TRANSCODED: 1,
    Status.TRANSCRIBED: 2,
    Status.ANALYZED: 3,
    Status.NO_SPEECH: 3,
    Status.FAILED: 3,
    Status.DELETING: 4,
}
# No pipeline event is in flight for an answer in one of these: it may be erased.
FINAL_STATUSES = frozenset({Status.ANALYZED, Status.NO_SPEECH, Status.FAILED})

INVALID_UPLOAD = "InvalidUpload"


class UnknownEventError(IngestError, TypeError):
    """The projector received a detail-type it does not project."""


class TrailEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    detail_type: str
    event_id: str
    occurred_at: AwareDatetime
    attempt: int


class AnswerRecord(BaseModel):
    """One item of the answers table."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    answer_id: str
    project_step: str
    project: str
    step: str
    user_key: str
    attempt: int
    status: Status
    # The event that set the status, and the time it speaks for: a claim replaces another only when it
    # ranks higher, or ranks the same and is later, so the outcome does not depend on delivery order.
    status_at: AwareDatetime
    status_event_id: str
    bucket: str
    key: str
    version_id: str
    size_bytes: int
    content_type: str
    uploaded_at: AwareDatetime
    # Version ids of earlier attempts: a late duplicate notification for one of them must not be taken
    # for a concurrent upload (which would delete it).
    previous_versions: tuple[str, ...] = ()
    video_event_id: str | None
    published: bool = False
    error: str | None = None
    sentiment: SentimentLabel | None = None
    sentiment_score: SentimentScore | None = None
    analyzed_at: AwareDatetime | None = None
    audio: S3Pointer | None = None
    transcript: S3Pointer | None = None
    trail: dict[str, TrailEntry] = {}
    updated_at: AwareDatetime
    # When the erasure was asked for (status DELETING): the occurred_at of its AnswerDeleted event.
    deleting_at: AwareDatetime | None = None

    @property
    def needs_publish(self) -> bool:
        return self.video_event_id is not None and not self.published


# --- upload landed -----------------------------------------------------------------------------------------


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


def upload_problem(obj: LandedObject, max_bytes: int) -> str | None:
    if obj.size_bytes > max_bytes:
        return f"{INVALID_UPLOAD}: the video has {obj.size_bytes} bytes, more than the {max_bytes} allowed"
    if obj.size_bytes <= 0:
        return f"{INVALID_UPLOAD}: the video is empty"
    if obj.content_type != VIDEO_CONTENT_TYPE:
        return f"{INVALID_UPLOAD}: content type {obj.content_type!r} is not {VIDEO_CONTENT_TYPE}"
    return None


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
    problem = upload_problem(obj, max_bytes)
    key = obj.answer
    event_id = None if problem else video_event_id(obj.bucket, key.video_key, obj.version_id)
    record = AnswerRecord(
        answer_id=key.answer_id,
        project_step=key.project_step,
        project=key.project,
        step=key.step,
        user_key=key.user_key,
        attempt=attempt,
        status=Status.FAILED if problem else Status.UPLOADED,
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
        error=problem,
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
    trail = {**record.trail, event.metadata.event_id: _trail_entry(event, record.attempt)}
    return record.model_copy(update={"published": True, "trail": trail, "updated_at": now})


# --- projection of pipeline events --------------------------------------------------------------------------

PROJECTED_EVENTS: tuple[type[DomainEvent], ...] = (
    TranscoderCompleted,
    TranscodeFailed,
    TranscriptReady,
    TranscriptionFailed,
    SentimentDetected,
    NoSpeechDetected,
    SentimentFailed,
)
PROJECTED_DETAIL_TYPES = frozenset(e.DETAIL_TYPE for e in PROJECTED_EVENTS)


def _trail_entry(event: DomainEvent, attempt: int) -> TrailEntry:
    return TrailEntry(
        detail_type=event.DETAIL_TYPE,
        event_id=event.metadata.event_id,
        occurred_at=event.metadata.occurred_at,
        attempt=attempt,
    )


def answer_of(event: DomainEvent) -> AnswerRef:
    """The answer (and attempt) a pipeline event is about."""
    if not isinstance(event.data, AnswerRef):
        raise UnknownEventError(f"{event.DETAIL_TYPE} does not name an answer")
    return event.data


def _claim(event: DomainEvent) -> tuple[Status, datetime]:
    """The status an event speaks for and the time that orders it against others of the same rank."""
    match event:
        case TranscoderCompleted():
            return Status.TRANSCODED, event.metadata.occurred_at
        case TranscriptReady():
            return Status.TRANSCRIBED, event.metadata.occurred_at
        case SentimentDetected():
            return Status.ANALYZED, event.data.analyzed_at
        case NoSpeechDetected():
            return Status.NO_SPEECH, event.metadata.occurred_at
        case TranscodeFailed() | TranscriptionFailed() | SentimentFailed():
            return Status.FAILED, event.metadata.occurred_at
    raise UnknownEventError(f"the answers projection does not handle {event.DETAIL_TYPE}")


def _pointers(record: AnswerRecord, event: DomainEvent) -> dict[str, object]:
    update: dict[str, object] = {}
    match event:
        case TranscoderCompleted() if record.audio is None:
            update["audio"] = event.data.audio
        case TranscriptReady() | SentimentDetected() | NoSpeechDetected() if record.transcript is None:
            update["transcript"] = event.data.transcript
        case SentimentFailed() if record.transcript is None and event.data.transcript is not None:
            update["transcript"] = event.data.transcript
    return update


def _outcome_fields(status: Status, event: DomainEvent) -> dict[str, object]:
    """Fields owned by the event that sets the status: a later outcome replaces all of them."""
    fields: dict[str, object] = dict.fromkeys(("error", "sentiment", "sentiment_score", "analyzed_at"))
    if isinstance(event, SentimentDetected):
        fields |= {
            "sentiment": event.data.sentiment,
            "sentiment_score": event.data.sentiment_score,
            "analyzed_at": event.data.analyzed_at,
        }
    elif status is Status.FAILED:
        data = event.data
        fields["error"] = f"{getattr(data, 'error_code', 'Unknown')}: {getattr(data, 'error_message', '')}"
    return fields


class Projection(StrEnum):
    """What one delivery did to the read model."""

    APPLIED = "applied"  # a new event: trail entry, pointers, and the status if its claim ranks higher
    # A known event id with a later occurred_at: the producer re-announced it with a recomputed result (nlp
    # reanalysing a replayed TranscriptReady keeps the derived id). The newer version takes the event's trail
    # entry (still one per id) and its claim competes for the status like any other.
    RECOMPUTED = "recomputed"
    DUPLICATE = "duplicate"  # this version of the event was applied already: no write
    OLDER_ATTEMPT = "older_attempt"  # the answer has moved on to a later attempt: no write
    ERASING = "erasing"  # the person is erasing the answer: a late or replayed event writes nothing
    # The event's pipeline run started from another video than the record's at the same attempt: within one
    # answer an attempt has one video, so it belongs to an erased answer (attempts restart at 1): no write.
    OTHER_RECORDING = "other_recording"


def _same_recording(record: AnswerRecord, event: DomainEvent) -> bool:
    """Whether the event's pipeline run started from the record's video (its VideoUploaded event id).

    An event from a producer older than ``video_event_id`` names no video: the attempt number alone decides.
    """
    data = event.data
    video = data.video_event_id if isinstance(data, PipelineRef) else None
    return video is None or video == record.video_event_id


def project_event(record: AnswerRecord, event: DomainEvent, *, now: datetime) -> tuple[Projection, AnswerRecord | None]:
    """What ``event`` does to ``record`` and the record after it (None when nothing is to be written).

    Raises UnknownEventError for events this projection does not handle, and AttemptAheadError for an
    attempt the record has not seen (uploadLanded records an attempt before announcing it: a retryable gap).
    """
    status, status_at = _claim(event)
    if record.status is Status.DELETING:
        return Projection.ERASING, None
    attempt = answer_of(event).attempt
    if attempt < record.attempt:
        return Projection.OLDER_ATTEMPT, None
    if attempt > record.attempt:
        raise AttemptAheadError(f"{event.DETAIL_TYPE} for attempt {attempt}, record holds {record.attempt}")
    if not _same_recording(record, event):
        return Projection.OTHER_RECORDING, None
    event_id = event.metadata.event_id
    known = record.trail.get(event_id)
    # Redelivery and archive replay carry the very same event: never newer than its trail entry.
    if known is not None and event.metadata.occurred_at <= known.occurred_at:
        return Projection.DUPLICATE, None
    update: dict[str, object] = {
        "trail": {**record.trail, event_id: _trail_entry(event, attempt)},
        "updated_at": now,
        **_pointers(record, event),
    }
    current = (RANK[record.status], record.status_at, record.status_event_id)
    if (RANK[status], status_at, event_id) > current:
        update |= {"status": status, "status_at": status_at, "status_event_id": event_id}
        if RANK[status] == RANK[Status.FAILED]:
            update |= _outcome_fields(status, event)
    return (Projection.APPLIED if known is None else Projection.RECOMPUTED), record.model_copy(update=update)


def project(record: AnswerRecord, event: DomainEvent, *, now: datetime) -> AnswerRecord | None:
    """The record after ``event``, or None when the event changes nothing (see project_event)."""
    return project_event(record, event, now=now)[1]
