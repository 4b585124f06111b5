"""The analyzeSentiment use case: transcript in, sentiment record and one outcome event out.

Pure orchestration over small ports (transcript store, sentiment detector, metadata store, event publisher);
the adapters behind them live in ``nlp.adapters``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from nlp.domain.chunking import batches, split_text
from nlp.domain.errors import AnalysisRejected, UnsupportedLanguage
from nlp.domain.language import comprehend_language
from nlp.domain.record import AnalysisRecord
from nlp.domain.scoring import ChunkSentiment, Sentiment, combine
from nlp.domain.transcript import parse_transcript
from vidsense_shared.events import (
    AnswerRef,
    DomainEvent,
    NoSpeechDetected,
    NoSpeechDetectedData,
    S3Pointer,
    SentimentDetected,
    SentimentDetectedData,
    SentimentFailed,
    SentimentFailedData,
    SentimentScore,
    TranscriptReady,
    derived_event_id,
)


class TranscriptStore(Protocol):
    def read(self, pointer: S3Pointer) -> bytes: ...


class SentimentDetector(Protocol):
    """Comprehend's two calls; both raise AnalysisRejected for permanent errors and other errors otherwise."""

    def detect(self, text: str, language: str) -> Sentiment: ...

    def detect_batch(self, texts: Sequence[str], language: str) -> list[Sentiment]: ...


class EventPublisher(Protocol):
    """vidsense_shared.bus.EventBridgePublisher fits; declared here so the domain imports no botocore."""

    def publish(self, *events: DomainEvent) -> None: ...


class MetadataStore(Protocol):
    def save(self, record: AnalysisRecord) -> bool:
        """Store the record unless a newer attempt is already stored; False when it was superseded."""
        ...


class Outcome(enum.StrEnum):
    SENTIMENT_DETECTED = "SentimentDetected"
    NO_SPEECH = "NoSpeechDetected"
    FAILED = "SentimentFailed"
    SUPERSEDED = "Superseded"


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    event: DomainEvent | None
    chunk_count: int = 0


@dataclass(frozen=True)
class Analyzer:
    transcripts: TranscriptStore
    detector: SentimentDetector
    store: MetadataStore
    publisher: EventPublisher
    clock: Callable[[], datetime]

    def __call__(self, cause: TranscriptReady) -> Result:
        data = cause.data
        try:
            transcript = parse_transcript(self.transcripts.read(data.transcript))
        except AnalysisRejected as rejected:
            return self._fail(cause, rejected)
        text = transcript.text.strip()
        if not text:
            # Silence is a valid answer: store it without sentiment and never call Comprehend.
            no_speech = self._record(
                cause, text="", word_count=transcript.word_count, language=None, sentiment=None, chunk_count=0
            )
            return self._finish(cause, no_speech)
        try:
            language = comprehend_language(data.language_code)
            if language is None:
                raise UnsupportedLanguage(f"Comprehend has no sentiment model for {data.language_code}")
            chunks = split_text(text)
            sentiment = self._sentiment(chunks, language)
        except AnalysisRejected as rejected:
            return self._fail(cause, rejected)
        record = self._record(
            cause,
            text=text,
            word_count=transcript.word_count,
            language=language,
            sentiment=sentiment,
            chunk_count=len(chunks),
        )
        return self._finish(cause, record)

    def _sentiment(self, chunks: list[str], language: str) -> Sentiment:
        if len(chunks) == 1:
            return self.detector.detect(chunks[0], language)
        results: list[ChunkSentiment] = []
        for batch in batches(chunks):
            for chunk, sentiment in zip(batch, self.detector.detect_batch(batch, language), strict=True):
                results.append(ChunkSentiment(byte_length=len(chunk.encode("utf-8")), sentiment=sentiment))
        return combine(results)

    def _record(
        self,
        cause: TranscriptReady,
        *,
        text: str,
        word_count: int,
        language: str | None,
        sentiment: Sentiment | None,
        chunk_count: int,
    ) -> AnalysisRecord:
        return AnalysisRecord(
            answer=cause.data,
            transcript_text=text,
            word_count=word_count,
            language_code=cause.data.language_code,
            comprehend_language=language,
            sentiment=sentiment,
            chunk_count=chunk_count,
            analyzed_at=self.clock(),
            source_event_id=cause.metadata.event_id,
        )

    def _finish(self, cause: TranscriptReady, record: AnalysisRecord) -> Result:
        if not self.store.save(record):
            # A newer attempt's result is stored already; announcing this older one would be stale news.
            return Result(Outcome.SUPERSEDED, None, record.chunk_count)
        answer = cause.data
        ref = _answer_ref(answer)
        if record.sentiment is None:
            data: object = NoSpeechDetectedData(**ref, transcript=answer.transcript, language_code=answer.language_code)
            return Result(Outcome.NO_SPEECH, self._emit(cause, NoSpeechDetected, data))
        scores = record.sentiment.scores
        data = SentimentDetectedData(
            **ref,
            transcript=answer.transcript,
            language_code=answer.language_code,
            sentiment=record.sentiment.label,
            sentiment_score=SentimentScore(
                Positive=scores.positive, Negative=scores.negative, Neutral=scores.neutral, Mixed=scores.mixed
            ),
            analyzed_at=record.analyzed_at,
        )
        return Result(Outcome.SENTIMENT_DETECTED, self._emit(cause, SentimentDetected, data), record.chunk_count)

    def _fail(self, cause: TranscriptReady, rejected: AnalysisRejected) -> Result:
        answer = cause.data
        data = SentimentFailedData(
            **_answer_ref(answer),
            error_code=rejected.code,
            error_message=rejected.message,
            retryable=False,
            transcript=answer.transcript,
            language_code=answer.language_code,
        )
        return Result(Outcome.FAILED, self._emit(cause, SentimentFailed, data))

    def _emit(self, cause: TranscriptReady, kind: type[DomainEvent], data: object) -> DomainEvent:
        event = kind.create(
            data,
            correlation_id=cause.data.answer_id,
            causation_id=cause.metadata.event_id,
            event_id=derived_event_id(cause.metadata.event_id, kind.DETAIL_TYPE),
            occurred_at=self.clock(),
        )
        self.publisher.publish(event)
        return event


def _answer_ref(answer: AnswerRef) -> dict[str, Any]:
    """The answer-identifying fields every outcome event repeats from its cause."""
    return {name: getattr(answer, name) for name in AnswerRef.model_fields}
