"""The answers read model: one record per answer (its current attempt), its statuses and its trail.

Every writer reads the record, computes the next record (domain/upload.py, domain/projection.py,
domain/erasure.py), and writes it back with a conditional write on the revision it read, so concurrent writers
never lose each other's changes.
"""

# Annotations evaluated as written, no `from __future__ import annotations`: pydantic would compile each field's
# annotation string when the models are declared, in every cold start (docs/performance.md, Lambda cold init).

from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict

from vidsense_shared.events import DomainEvent, S3Pointer, SentimentLabel, SentimentScore


class Status(StrEnum):
    UPLOADED = "UPLOADED"
    TRANSCODED = "TRANSCODED"
    TRANSCRIBED = "TRANSCRIBED"
    ANALYZED = "ANALYZED"
    NO_SPEECH = "NO_SPEECH"
    FAILED = "FAILED"
    # The person asked for erasure (DELETE /answers): nothing but the erasure writes the item any more.
    DELETING = "DELETING"


# The three outcomes share the top rank: which one stands is decided by time (see projection.project).
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


class TrailEntry(BaseModel):
    # Validators built on first use, not in every cold start (docs/performance.md, Lambda cold init).
    model_config = ConfigDict(frozen=True, defer_build=True)

    detail_type: str
    event_id: str
    occurred_at: AwareDatetime
    attempt: int


class AnswerRecord(BaseModel):
    """One item of the answers table."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

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


def trail_entry(event: DomainEvent, attempt: int) -> TrailEntry:
    """What the record keeps of an event it took in: one entry per event id."""
    return TrailEntry(
        detail_type=event.DETAIL_TYPE,
        event_id=event.metadata.event_id,
        occurred_at=event.metadata.occurred_at,
        attempt=attempt,
    )
