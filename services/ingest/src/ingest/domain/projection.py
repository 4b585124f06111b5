"""projectAnswers' rules: what a pipeline event does to the answer's record."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from ingest.domain.answers import RANK, AnswerRecord, Status, trail_entry
from ingest.domain.errors import AttemptAheadError, IngestError
from vidsense_shared.events import (
    AnswerRef,
    DomainEvent,
    NoSpeechDetected,
    PipelineRef,
    SentimentDetected,
    SentimentFailed,
    TranscodeFailed,
    TranscoderCompleted,
    TranscriptionFailed,
    TranscriptReady,
)


class UnknownEventError(IngestError, TypeError):
    """The projector received a detail-type it does not project."""


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


class ProjectionOutcome(StrEnum):
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


def project(
    record: AnswerRecord, event: DomainEvent, *, now: datetime
) -> tuple[ProjectionOutcome, AnswerRecord | None]:
    """What ``event`` does to ``record``, and the record after it (None when nothing is to be written).

    Raises UnknownEventError for events this projection does not handle, and AttemptAheadError for an
    attempt the record has not seen (uploadLanded records an attempt before announcing it: a retryable gap).
    """
    status, status_at = _claim(event)
    if record.status is Status.DELETING:
        return ProjectionOutcome.ERASING, None
    attempt = answer_of(event).attempt
    if attempt < record.attempt:
        return ProjectionOutcome.OLDER_ATTEMPT, None
    if attempt > record.attempt:
        raise AttemptAheadError(f"{event.DETAIL_TYPE} for attempt {attempt}, record holds {record.attempt}")
    if not _same_recording(record, event):
        return ProjectionOutcome.OTHER_RECORDING, None
    event_id = event.metadata.event_id
    known = record.trail.get(event_id)
    # Redelivery and archive replay carry the very same event: never newer than its trail entry.
    if known is not None and event.metadata.occurred_at <= known.occurred_at:
        return ProjectionOutcome.DUPLICATE, None
    update: dict[str, object] = {
        "trail": {**record.trail, event_id: trail_entry(event, attempt)},
        "updated_at": now,
        **_pointers(record, event),
    }
    current = (RANK[record.status], record.status_at, record.status_event_id)
    if (RANK[status], status_at, event_id) > current:
        update |= {"status": status, "status_at": status_at, "status_event_id": event_id}
        if RANK[status] == RANK[Status.FAILED]:
            update |= _outcome_fields(status, event)
    outcome = ProjectionOutcome.APPLIED if known is None else ProjectionOutcome.RECOMPUTED
    return outcome, record.model_copy(update=update)
