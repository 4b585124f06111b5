"""The analyzeSentiment use case: transcript in, sentiment record and at most one outcome event out.

Pure orchestration over small ports (domain/ports.py: transcript store, sentiment detector, metadata store; and
vidsense_shared.publishing's event publisher); the adapters behind them live in ``nlp.adapters``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nlp.domain.chunking import batches, split_text
from nlp.domain.errors import AnalysisRejected, UnsupportedLanguage
from nlp.domain.language import comprehend_language
from nlp.domain.ports import MetadataStore, SentimentDetector, TranscriptStore
from nlp.domain.record import AnalysisRecord, Failure, Outcome, Verdict
from nlp.domain.scoring import ChunkSentiment, Sentiment, combine
from nlp.domain.transcript import parse_transcript
from vidsense_shared.events import (
    DomainEvent,
    NoSpeechDetected,
    NoSpeechDetectedData,
    PipelineRef,
    SentimentDetected,
    SentimentDetectedData,
    SentimentFailed,
    SentimentFailedData,
    SentimentScore,
    TranscriptReady,
    derived_event_id,
)
from vidsense_shared.publishing import EventPublisher, publish_then_mark


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    event: DomainEvent | None
    chunk_count: int = 0
    republished: bool = False  # the stored verdict was announced again (the last run stopped before it)


@dataclass(frozen=True)
class Analyzer:
    """One TranscriptReady in, at most one outcome event out.

    Order: store the result, publish, then mark the item published. A run that stops after the store is
    retried with the same event and announces the stored verdict under the same id; a delivery of an event
    whose outcome is marked published is a duplicate and does nothing. A replay (``replay=True``) recomputes
    and overwrites, and announces under the same derived id as the original run.
    """

    transcripts: TranscriptStore
    detector: SentimentDetector
    store: MetadataStore
    publisher: EventPublisher
    clock: Callable[[], datetime]

    def analyze(self, cause: TranscriptReady, *, replay: bool = False) -> Result:
        data = cause.data
        prior = self.store.load(data.answer_id)
        if prior is not None and prior.attempt > data.attempt:
            # A newer attempt is stored: analyzing this one would cost a Comprehend call for stale news.
            return Result(Outcome.SUPERSEDED, None)
        if not replay and prior is not None and prior.is_result_of(cause.metadata.event_id, data.attempt):
            if prior.published_event_id is not None:
                return Result(Outcome.DUPLICATE, None)
            if prior.verdict is not None:
                event = self._announce(cause, prior.verdict)
                return Result(prior.verdict.outcome, event, republished=True)
        return self._analyze_transcript(cause)

    def _analyze_transcript(self, cause: TranscriptReady) -> Result:
        data = cause.data
        try:
            transcript = parse_transcript(self.transcripts.read(data.transcript))
        except AnalysisRejected as rejected:
            return self._fail(cause, rejected, text="", word_count=0, language=None)
        if not transcript.has_speech:
            # Silence is a valid answer: store it without sentiment and never call Comprehend.
            no_speech = self._record(
                cause, text="", word_count=transcript.word_count, language=None, sentiment=None, chunk_count=0
            )
            return self._finish(cause, no_speech)
        text = transcript.text.strip()
        language = comprehend_language(data.language_code)
        try:
            if language is None:
                raise UnsupportedLanguage(f"Comprehend has no sentiment model for {data.language_code}")
            chunks = split_text(text)
            sentiment = self._sentiment(chunks, language)
        except AnalysisRejected as rejected:
            return self._fail(cause, rejected, text=text, word_count=transcript.word_count, language=language)
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
        failure: Failure | None = None,
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
            failure=failure,
        )

    def _fail(
        self, cause: TranscriptReady, rejected: AnalysisRejected, *, text: str, word_count: int, language: str | None
    ) -> Result:
        # Failures are stored too: a duplicate delivery must find that this event was handled.
        record = self._record(
            cause,
            text=text,
            word_count=word_count,
            language=language,
            sentiment=None,
            chunk_count=0,
            failure=Failure(code=rejected.code, message=rejected.message),
        )
        return self._finish(cause, record)

    def _finish(self, cause: TranscriptReady, record: AnalysisRecord) -> Result:
        if not self.store.save(record):
            # A newer attempt's result is stored already; announcing this older one would be stale news.
            return Result(Outcome.SUPERSEDED, None, record.chunk_count)
        return Result(record.verdict.outcome, self._announce(cause, record.verdict), record.chunk_count)

    def _announce(self, cause: TranscriptReady, verdict: Verdict) -> DomainEvent:
        return publish_then_mark(
            self.publisher,
            outcome_event(cause, verdict),
            lambda event: self.store.mark_published(
                cause.data.answer_id, cause.metadata.event_id, verdict.analyzed_at, event.metadata.event_id
            ),
        )


def outcome_event(cause: TranscriptReady, verdict: Verdict) -> DomainEvent:
    """The event announcing ``verdict``: fully determined by cause and verdict, so a re-announcement is identical."""
    answer = cause.data
    ref = _answer_ref(answer)
    data: object
    kind: type[DomainEvent]
    if verdict.failure is not None:
        kind = SentimentFailed
        data = SentimentFailedData(
            **ref,
            error_code=verdict.failure.code,
            error_message=verdict.failure.message,
            retryable=False,
            transcript=answer.transcript,
            language_code=answer.language_code,
        )
    elif verdict.sentiment is None:
        kind = NoSpeechDetected
        data = NoSpeechDetectedData(**ref, transcript=answer.transcript, language_code=answer.language_code)
    else:
        kind = SentimentDetected
        scores = verdict.sentiment.scores
        data = SentimentDetectedData(
            **ref,
            transcript=answer.transcript,
            language_code=answer.language_code,
            sentiment=verdict.sentiment.label,
            sentiment_score=SentimentScore(
                Positive=scores.positive, Negative=scores.negative, Neutral=scores.neutral, Mixed=scores.mixed
            ),
            analyzed_at=verdict.analyzed_at,
        )
    return kind.create(
        data,
        correlation_id=answer.answer_id,
        causation_id=cause.metadata.event_id,
        # Derived from the cause: a retry, a re-announcement and every replay of it carry the same id.
        event_id=derived_event_id(cause.metadata.event_id, kind.DETAIL_TYPE),
        occurred_at=verdict.analyzed_at,
    )


def _answer_ref(answer: PipelineRef) -> dict[str, Any]:
    """The answer-identifying fields every outcome event repeats from its cause (with the video it started from)."""
    return {name: getattr(answer, name) for name in PipelineRef.model_fields}
