"""What the metadata table keeps per answer: the latest analysis of the latest attempt, and whether it was
announced."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from nlp.domain.scoring import Sentiment
from vidsense_shared.events import S3Pointer, TranscriptReadyData


class Outcome(enum.StrEnum):
    """What one delivery came to (the handler counts each under a metric of its own: OUTCOME_METRICS)."""

    SENTIMENT_DETECTED = "SentimentDetected"
    NO_SPEECH = "NoSpeechDetected"
    FAILED = "SentimentFailed"
    SUPERSEDED = "Superseded"  # a newer attempt is stored: nothing stored, nothing announced
    DUPLICATE = "Duplicate"  # this very event was analyzed and announced already: nothing to do


@dataclass(frozen=True)
class Failure:
    """A permanent failure of the answer's analysis (an AnalysisRejected, as stored and announced)."""

    code: str
    message: str


@dataclass(frozen=True)
class Verdict:
    """The result of one analysis: everything its outcome event says beyond the cause's own data."""

    sentiment: Sentiment | None
    failure: Failure | None
    analyzed_at: datetime

    @property
    def outcome(self) -> Outcome:
        if self.failure is not None:
            return Outcome.FAILED
        return Outcome.NO_SPEECH if self.sentiment is None else Outcome.SENTIMENT_DETECTED


@dataclass(frozen=True)
class AnalysisRecord:
    answer: TranscriptReadyData
    transcript_text: str
    word_count: int
    language_code: str
    comprehend_language: str | None
    sentiment: Sentiment | None  # None when no speech was detected or the analysis failed
    chunk_count: int
    analyzed_at: datetime
    source_event_id: str
    failure: Failure | None = None

    @property
    def transcript(self) -> S3Pointer:
        return self.answer.transcript

    @property
    def verdict(self) -> Verdict:
        return Verdict(sentiment=self.sentiment, failure=self.failure, analyzed_at=self.analyzed_at)


@dataclass(frozen=True)
class StoredAnalysis:
    """The stored item as far as deduplication needs it (read back without the transcript text).

    ``verdict`` is None when the item cannot tell its outcome (written by hand or by an older version);
    ``published_event_id`` is set only after the outcome event was accepted by the bus.
    """

    attempt: int
    source_event_id: str | None
    verdict: Verdict | None
    published_event_id: str | None

    def is_result_of(self, cause_event_id: str, attempt: int) -> bool:
        return self.attempt == attempt and self.source_event_id == cause_event_id


def transcript_expires_at(analyzed_at: datetime, retention_days: int) -> int:
    """When the item's transcript text expires, in epoch seconds (its DynamoDB TTL): the analysis time plus the
    retention of the transcript objects in the work bucket (both the stage parameter transcriptExpirationDays), so
    the text does not outlive the object it was read from."""
    return int((analyzed_at + timedelta(days=retention_days)).timestamp())


def truncate_utf8(text: str, max_bytes: int) -> tuple[str, bool]:
    """The longest prefix of ``text`` within ``max_bytes`` UTF-8 bytes (never cut inside a character)."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text, False
    # errors="ignore" drops only the partial character left at the cut
    return encoded[: max(0, max_bytes)].decode("utf-8", errors="ignore"), True
