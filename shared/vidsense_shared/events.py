"""Versioned domain events shared by every vidsense service.

Every event travels on the stage's custom EventBridge bus as
``{"source": SOURCE, "detail-type": DETAIL_TYPE, "detail": {"metadata": {...}, "data": {...}}}``.
Detail types and versions are explicit class constants, never derived from class names, so renaming a class
cannot change the wire contract. Changes inside a version are additive only; a breaking change is a new
model (``VERSION = "2"``) published beside the old one.
"""

# Annotations evaluated as written, no `from __future__ import annotations`: pydantic would compile each field's
# annotation string when the models are declared, in every cold start (docs/performance.md, Lambda cold init).

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

APP = "vidsense"
SOURCE_INGEST = f"{APP}.ingest"
SOURCE_TRANSCODE = f"{APP}.transcode"
SOURCE_NLP = f"{APP}.nlp"

ProjectId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="Project identifier")]
StepId = Annotated[str, Field(pattern=r"^(0|[1-9][0-9]{0,2})$", description="Step number as a string")]
UserKey = Annotated[
    str, Field(pattern=r"^[0-9a-f]{64}$", description="HMAC-SHA256 of the token's issuer and subject, lowercase hex")
]
Attempt = Annotated[int, Field(ge=1, le=1000, description="Answer attempt, 1 for the first recording")]
SentimentLabel = Literal["POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED"]


def utc_now() -> datetime:
    return datetime.now(UTC)


class _Frozen(BaseModel):
    # Validators are built on first use: a function builds the few events it receives or publishes, not all of
    # them in its cold start (docs/performance.md, Lambda cold init).
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class EventMetadata(_Frozen):
    """Envelope data common to every event."""

    event_id: str = Field(description="Unique id of this event (UUID, or derived from the causing event)")
    correlation_id: str = Field(
        description="The answer's id ({project}/{step}/{user_key}); the same on every event of the chain"
    )
    causation_id: str | None = Field(description="event_id of the event that caused this one; null for a root")
    version: str = Field(description="Version of the event's data contract")
    occurred_at: AwareDatetime = Field(description="When the fact happened, UTC")

    @field_validator("occurred_at")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        try:
            return value.astimezone(UTC)
        except OverflowError as exc:  # e.g. 0001-01-01T00:00+01:00 has no UTC equivalent
            raise ValueError("occurred_at is out of range once converted to UTC") from exc


class AnswerIdentity:
    """What names one person's answer to one project step (an event's AnswerRef, ingest's AnswerKey) derives its
    answer id and video key from these three, the same way."""

    project: str
    step: str
    user_key: str

    @property
    def answer_id(self) -> str:
        return answer_id(self.project, self.step, self.user_key)

    @property
    def video_key(self) -> str:
        return video_key(self.project, self.step, self.user_key)


class AnswerRef(_Frozen, AnswerIdentity):
    """Identifies one recording attempt of one person's answer to one project step."""

    project: ProjectId
    step: StepId
    user_key: UserKey
    attempt: Attempt


def answer_id(project: str, step: str, user_key: str) -> str:
    return f"{project}/{step}/{user_key}"


def video_key(project: str, step: str, user_key: str) -> str:
    return f"{answer_id(project, step, user_key)}.webm"


class S3Pointer(_Frozen):
    """Claim check: large payloads (videos, audio, transcripts) travel as S3 locations, never inline."""

    bucket: str = Field(min_length=3, max_length=63, description="S3 bucket name")
    key: str = Field(min_length=1, max_length=1024, description="Object key (not URL-encoded)")
    version_id: str | None = Field(default=None, description="Object version, when the bucket is versioned")

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


class DomainEvent(BaseModel):
    """Base of every event: ``metadata`` plus typed ``data``. Subclasses set the class constants."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)  # built on first use, as _Frozen

    DETAIL_TYPE: ClassVar[str]
    VERSION: ClassVar[str]
    SOURCE: ClassVar[str]

    metadata: EventMetadata
    data: BaseModel

    @classmethod
    def create(
        cls,
        data: Any,
        *,
        correlation_id: str,
        causation_id: str | None,
        event_id: str | None = None,
        occurred_at: datetime | None = None,
    ) -> Self:
        """Build an event with fresh metadata. Pass ``event_id`` to derive a deterministic id (replays)."""
        metadata = EventMetadata(
            event_id=event_id or str(uuid.uuid4()),
            correlation_id=correlation_id,
            causation_id=causation_id,
            version=cls.VERSION,
            occurred_at=occurred_at or utc_now(),
        )
        return cls(metadata=metadata, data=data)

    def detail_json(self) -> str:
        return self.model_dump_json()


def derived_event_id(cause_event_id: str, detail_type: str) -> str:
    """Deterministic id for the event ``detail_type`` caused by ``cause_event_id``.

    Replaying the same cause twice yields the same downstream id, so consumers can deduplicate.
    """
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{APP}:{cause_event_id}:{detail_type}"))


# --- data payloads -----------------------------------------------------------------------------------------


class PipelineRef(AnswerRef):
    """An answer attempt as the pipeline events name it: also which recorded video the pipeline run started from."""

    video_event_id: str | None = Field(
        default=None,
        description=(
            "event_id of the VideoUploaded this pipeline run started from (one per recorded video). After an"
            " erasure the person's next answer is attempt 1 again: this tells the erased answer's late events"
            " from the new answer's. Null only from producers older than this field"
        ),
    )


class VideoUploadedData(AnswerRef):
    video: S3Pointer = Field(description="The uploaded video object (the version that won)")
    size_bytes: int = Field(gt=0, description="Size of the uploaded object in bytes")
    content_type: str = Field(description="Content-Type stored with the object (video/webm)")


class TranscoderCompletedData(PipelineRef):
    job_id: str = Field(description="MediaConvert job id")
    audio: S3Pointer = Field(description="The audio rendition MediaConvert wrote")
    duration_ms: int | None = Field(default=None, ge=0)


class TranscriptReadyData(PipelineRef):
    job_name: str = Field(description="Transcribe job name")
    transcript: S3Pointer = Field(description="Transcribe output JSON (claim check)")
    language_code: str
    duration_ms: int | None = Field(default=None, ge=0)


class SentimentScore(_Frozen):
    """Comprehend's four scores; they sum to 1."""

    Positive: float = Field(ge=0, le=1)
    Negative: float = Field(ge=0, le=1)
    Neutral: float = Field(ge=0, le=1)
    Mixed: float = Field(ge=0, le=1)


class SentimentDetectedData(PipelineRef):
    transcript: S3Pointer = Field(description="Transcribe output JSON that was analysed")
    language_code: str = Field(description="Language of the transcript (Transcribe code, e.g. en-US)")
    sentiment: SentimentLabel = Field(description="Label with the highest combined score")
    sentiment_score: SentimentScore = Field(description="Scores combined over chunks, weighted by length")
    analyzed_at: AwareDatetime = Field(description="When the analysis ran, UTC")


class NoSpeechDetectedData(PipelineRef):
    transcript: S3Pointer = Field(description="The (empty) Transcribe output JSON")
    language_code: str | None = Field(default=None, description="Language the transcription was run in")


class FailureData(PipelineRef):
    error_code: str = Field(description="Machine-readable error code from the failing service or vidsense")
    error_message: str = Field(description="Human-readable reason")
    retryable: bool = Field(default=False, description="True when retrying the same input may succeed")


class TranscodeFailedData(FailureData):
    job_id: str | None = Field(default=None, description="MediaConvert job id, when a job was created")


class TranscriptionFailedData(FailureData):
    job_name: str | None = Field(default=None, description="Transcribe job name, when a job was started")


class SentimentFailedData(FailureData):
    transcript: S3Pointer | None = Field(default=None, description="Transcript that could not be analysed")
    language_code: str | None = Field(default=None, description="Language of the transcript")


class AnswerDeletedData(AnswerRef):
    """The person erased their answer: every service deletes what it keeps of attempts 1..``attempt``.

    Ids only (no email, no transcript): the event stays in the bus archive for its retention period.
    """

    attempt: Attempt = Field(description="The answer's highest attempt: attempts 1 to this one are erased")


# --- events ------------------------------------------------------------------------------------------------


class VideoUploaded(DomainEvent):
    DETAIL_TYPE: ClassVar[str] = "VideoUploaded"
    VERSION: ClassVar[str] = "1"
    SOURCE: ClassVar[str] = SOURCE_INGEST
    data: VideoUploadedData


class TranscoderCompleted(DomainEvent):
    DETAIL_TYPE: ClassVar[str] = "TranscoderCompleted"
    VERSION: ClassVar[str] = "1"
    SOURCE: ClassVar[str] = SOURCE_TRANSCODE
    data: TranscoderCompletedData


class TranscodeFailed(DomainEvent):
    DETAIL_TYPE: ClassVar[str] = "TranscodeFailed"
    VERSION: ClassVar[str] = "1"
    SOURCE: ClassVar[str] = SOURCE_TRANSCODE
    data: TranscodeFailedData


class TranscriptReady(DomainEvent):
    DETAIL_TYPE: ClassVar[str] = "TranscriptReady"
    VERSION: ClassVar[str] = "1"
    SOURCE: ClassVar[str] = SOURCE_TRANSCODE
    data: TranscriptReadyData


class TranscriptionFailed(DomainEvent):
    DETAIL_TYPE: ClassVar[str] = "TranscriptionFailed"
    VERSION: ClassVar[str] = "1"
    SOURCE: ClassVar[str] = SOURCE_TRANSCODE
    data: TranscriptionFailedData


class SentimentDetected(DomainEvent):
    DETAIL_TYPE: ClassVar[str] = "SentimentDetected"
    VERSION: ClassVar[str] = "1"
    SOURCE: ClassVar[str] = SOURCE_NLP
    data: SentimentDetectedData


class NoSpeechDetected(DomainEvent):
    DETAIL_TYPE: ClassVar[str] = "NoSpeechDetected"
    VERSION: ClassVar[str] = "1"
    SOURCE: ClassVar[str] = SOURCE_NLP
    data: NoSpeechDetectedData


class SentimentFailed(DomainEvent):
    DETAIL_TYPE: ClassVar[str] = "SentimentFailed"
    VERSION: ClassVar[str] = "1"
    SOURCE: ClassVar[str] = SOURCE_NLP
    data: SentimentFailedData


class AnswerDeleted(DomainEvent):
    DETAIL_TYPE: ClassVar[str] = "AnswerDeleted"
    VERSION: ClassVar[str] = "1"
    SOURCE: ClassVar[str] = SOURCE_INGEST
    data: AnswerDeletedData


ALL_EVENTS: tuple[type[DomainEvent], ...] = (
    VideoUploaded,
    TranscoderCompleted,
    TranscodeFailed,
    TranscriptReady,
    TranscriptionFailed,
    SentimentDetected,
    NoSpeechDetected,
    SentimentFailed,
    AnswerDeleted,
)
FAILURE_EVENTS: tuple[type[DomainEvent], ...] = (TranscodeFailed, TranscriptionFailed, SentimentFailed)
EVENTS_BY_DETAIL_TYPE: dict[str, type[DomainEvent]] = {e.DETAIL_TYPE: e for e in ALL_EVENTS}


def parse_detail(detail_type: str, detail: dict[str, Any] | str) -> DomainEvent:
    """Parse a known detail-type's ``detail`` into its model (KeyError or ValidationError otherwise)."""
    model = EVENTS_BY_DETAIL_TYPE[detail_type]
    if isinstance(detail, str):
        return model.model_validate_json(detail)
    return model.model_validate(detail)
