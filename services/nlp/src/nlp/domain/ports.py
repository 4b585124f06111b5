"""What the analyzeSentiment and eraseAnswer use cases need from the outside world; adapters implement these,
tests pass fakes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from nlp.domain.record import AnalysisRecord, StoredAnalysis
from nlp.domain.scoring import Sentiment
from vidsense_shared.events import S3Pointer


class TranscriptStore(Protocol):
    def read(self, pointer: S3Pointer) -> bytes: ...


class SentimentDetector(Protocol):
    """Comprehend's two calls; both raise AnalysisRejected for permanent errors and other errors otherwise."""

    def detect(self, text: str, language: str) -> Sentiment: ...

    def detect_batch(self, texts: Sequence[str], language: str) -> list[Sentiment]: ...


class MetadataStore(Protocol):
    def load(self, answer_id: str) -> StoredAnalysis | None:
        """The answer's stored analysis (a strongly consistent read), or None when there is none."""
        ...

    def save(self, record: AnalysisRecord) -> bool:
        """Store the record unless a newer attempt is already stored; False when it was superseded."""
        ...

    def mark_published(self, answer_id: str, source_event_id: str, analyzed_at: datetime, event_id: str) -> bool:
        """Note that this very analysis was announced; False when another write has replaced it meanwhile."""
        ...


class MetadataItems(Protocol):
    """eraseAnswer's port (domain/erasure.py): only the call the erasure makes."""

    def delete(self, answer_id: str, analyzed_before: datetime) -> bool:
        """Delete the answer's item unless it was analysed after ``analyzed_before``; False when nothing went."""
        ...
