"""What the metadata table keeps per answer: the latest attempt's transcript and sentiment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from nlp.domain.scoring import Sentiment
from vidsense_shared.events import S3Pointer, TranscriptReadyData


@dataclass(frozen=True)
class AnalysisRecord:
    answer: TranscriptReadyData
    transcript_text: str
    word_count: int
    language_code: str
    comprehend_language: str | None
    sentiment: Sentiment | None  # None when no speech was detected
    chunk_count: int
    analyzed_at: datetime
    source_event_id: str

    @property
    def transcript(self) -> S3Pointer:
        return self.answer.transcript


def truncate_utf8(text: str, max_bytes: int) -> tuple[str, bool]:
    """The longest prefix of ``text`` within ``max_bytes`` UTF-8 bytes (never cut inside a character)."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text, False
    # errors="ignore" drops only the partial character left at the cut
    return encoded[: max(0, max_bytes)].decode("utf-8", errors="ignore"), True
