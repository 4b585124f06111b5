"""The analyzeSentiment use case with in-memory ports: every outcome and which events it emits."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from nlp.domain.analysis import Analyzer, Outcome
from nlp.domain.chunking import MAX_CHUNK_BYTES
from nlp.domain.errors import (
    AnalysisRejected,
    SentimentServiceError,
    TranscriptUnavailable,
    UnsupportedLanguage,
)
from nlp.domain.record import AnalysisRecord
from nlp.domain.scoring import Scores, Sentiment
from vidsense_shared.consume import parse_delivery
from vidsense_shared.events import (
    DomainEvent,
    NoSpeechDetected,
    S3Pointer,
    SentimentDetected,
    SentimentFailed,
    TranscriptReady,
    derived_event_id,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "nlp"
NOW = datetime(2026, 11, 29, 1, 45, 0, tzinfo=UTC)
POSITIVE = Sentiment("POSITIVE", Scores(0.91, 0.02, 0.06, 0.01))
NEGATIVE = Sentiment("NEGATIVE", Scores(0.03, 0.88, 0.08, 0.01))


def _delivery(name: str) -> TranscriptReady:
    raw = json.loads((FIXTURES / f"eventbridge-transcript-ready-{name}.json").read_text())
    return parse_delivery(raw, TranscriptReady).event


def _transcript(name: str) -> bytes:
    return (FIXTURES / f"transcript-{name}.json").read_bytes()


def _with_text(text: str) -> bytes:
    document = json.loads(_transcript("en-US"))
    document["results"]["transcripts"][0]["transcript"] = text
    return json.dumps(document).encode()


@dataclass
class FakeTranscripts:
    body: bytes | None

    def read(self, pointer: S3Pointer) -> bytes:
        if self.body is None:
            raise TranscriptUnavailable(f"cannot read {pointer.uri}: NoSuchKey")
        return self.body


@dataclass
class FakeDetector:
    answer: Sentiment = POSITIVE
    error: Exception | None = None
    single_calls: list[tuple[str, str]] = field(default_factory=list)
    batch_calls: list[tuple[list[str], str]] = field(default_factory=list)

    def detect(self, text: str, language: str) -> Sentiment:
        self.single_calls.append((text, language))
        if self.error:
            raise self.error
        return self.answer

    def detect_batch(self, texts: Sequence[str], language: str) -> list[Sentiment]:
        self.batch_calls.append((list(texts), language))
        if self.error:
            raise self.error
        # Short documents read as complaints, long ones as praise: the combination must weight by size.
        return [POSITIVE if len(t.encode()) > 2000 else NEGATIVE for t in texts]


@dataclass
class FakeStore:
    newest_attempt: int = 0
    saved: list[AnalysisRecord] = field(default_factory=list)

    def save(self, record: AnalysisRecord) -> bool:
        if record.answer.attempt < self.newest_attempt:
            return False
        self.newest_attempt = record.answer.attempt
        self.saved.append(record)
        return True


@dataclass
class FakePublisher:
    events: list[DomainEvent] = field(default_factory=list)

    def publish(self, *events: DomainEvent) -> None:
        self.events.extend(events)


@dataclass
class World:
    transcripts: FakeTranscripts
    detector: FakeDetector = field(default_factory=FakeDetector)
    store: FakeStore = field(default_factory=FakeStore)
    publisher: FakePublisher = field(default_factory=FakePublisher)

    def analyze(self, cause: TranscriptReady):
        analyzer = Analyzer(self.transcripts, self.detector, self.store, self.publisher, clock=lambda: NOW)
        return analyzer(cause)


def test_english_answer_is_detected_with_one_call_stored_and_announced():
    # Given an English transcript of one short answer
    world = World(FakeTranscripts(_transcript("en-US")))
    cause = _delivery("en-US")
    # When analyzed
    result = world.analyze(cause)
    # Then Comprehend was asked once, in English, with the whole stripped text
    assert result.outcome is Outcome.SENTIMENT_DETECTED
    assert world.detector.batch_calls == []
    [(text, language)] = world.detector.single_calls
    assert language == "en"
    assert text.startswith("Honestly,") and text.endswith("the project.")
    # And the record and the event carry Comprehend's answer
    [record] = world.store.saved
    assert record.sentiment == POSITIVE
    assert record.transcript_text == text
    assert record.word_count == 45
    assert record.analyzed_at == NOW
    [event] = world.publisher.events
    assert isinstance(event, SentimentDetected)
    assert event.data.sentiment == "POSITIVE"
    assert event.data.sentiment_score.Positive == 0.91
    assert event.data.transcript == cause.data.transcript
    assert event.data.language_code == "en-US"
    assert event.data.analyzed_at == NOW
    assert event.data.attempt == cause.data.attempt
    # And its identity follows the chain: derived id, answer correlation, cause as causation
    assert event.metadata.event_id == derived_event_id(cause.metadata.event_id, "SentimentDetected")
    assert event.metadata.correlation_id == cause.data.answer_id
    assert event.metadata.causation_id == cause.metadata.event_id


def test_long_multibyte_answer_goes_through_batches_and_is_weighted_by_size():
    world = World(FakeTranscripts(_transcript("multibyte-20kb")))
    result = world.analyze(_delivery("multibyte-20kb"))
    assert result.outcome is Outcome.SENTIMENT_DETECTED
    assert world.detector.single_calls == []
    [(texts, language)] = world.detector.batch_calls
    assert language == "en"
    sizes = [len(t.encode()) for t in texts]
    assert len(texts) == result.chunk_count > 1
    assert all(size <= MAX_CHUNK_BYTES for size in sizes)
    # The fake calls documents over 2,000 bytes positive: they hold most of the bytes, so POSITIVE wins
    long_share = sum(s for s in sizes if s > 2000) / sum(sizes)
    assert long_share > 0.5
    [event] = world.publisher.events
    assert isinstance(event, SentimentDetected)
    assert event.data.sentiment == "POSITIVE"
    assert event.data.sentiment_score.Positive == pytest.approx(long_share * 0.91 + (1 - long_share) * 0.03)


def test_more_than_25_chunks_take_several_batch_calls():
    # Given about 140 KB of text (29 documents of at most 5,000 bytes)
    sentence = "The mentoring programme was really useful and I learned a lot every single day. "
    world = World(FakeTranscripts(_with_text(sentence * 1750)))
    result = world.analyze(_delivery("en-US"))
    assert [len(texts) for texts, _ in world.detector.batch_calls] == [25, result.chunk_count - 25]
    assert result.chunk_count > 25


@pytest.mark.parametrize("text", ["", "   \n\t  "])
def test_no_speech_is_stored_and_announced_without_calling_comprehend(text):
    world = World(FakeTranscripts(_with_text(text)))
    cause = _delivery("empty")
    result = world.analyze(cause)
    assert result.outcome is Outcome.NO_SPEECH
    assert world.detector.single_calls == []
    assert world.detector.batch_calls == []
    [record] = world.store.saved
    assert record.sentiment is None and record.transcript_text == "" and record.chunk_count == 0
    [event] = world.publisher.events
    assert isinstance(event, NoSpeechDetected)
    assert event.metadata.event_id == derived_event_id(cause.metadata.event_id, "NoSpeechDetected")
    assert event.data.language_code == "en-US"


def test_spanish_answer_is_analyzed_in_spanish():
    world = World(FakeTranscripts(_transcript("es-ES")))
    world.analyze(_delivery("es-ES"))
    [(_, language)] = world.detector.single_calls
    assert language == "es"
    assert world.store.saved[0].comprehend_language == "es"
    assert world.store.saved[0].language_code == "es-ES"


def test_language_comprehend_lacks_fails_the_answer_without_a_call():
    world = World(FakeTranscripts(_transcript("sv-SE")))
    cause = _delivery("sv-SE")
    result = world.analyze(cause)
    assert result.outcome is Outcome.FAILED
    assert world.detector.single_calls == [] and world.store.saved == []
    [event] = world.publisher.events
    assert isinstance(event, SentimentFailed)
    assert event.data.error_code == "UnsupportedLanguage"
    assert "sv-SE" in event.data.error_message
    assert event.data.retryable is False
    assert event.data.language_code == "sv-SE"
    assert event.metadata.event_id == derived_event_id(cause.metadata.event_id, "SentimentFailed")
    assert event.metadata.causation_id == cause.metadata.event_id


def test_comprehend_rejection_fails_the_answer():
    world = World(FakeTranscripts(_transcript("en-US")))
    world.detector.error = UnsupportedLanguage("Unsupported language: en")
    result = world.analyze(_delivery("en-US"))
    assert result.outcome is Outcome.FAILED
    [event] = world.publisher.events
    assert isinstance(event, SentimentFailed)
    assert event.data.error_code == "UnsupportedLanguage"
    assert world.store.saved == []


def test_malformed_transcript_fails_the_answer():
    world = World(FakeTranscripts(_transcript("malformed")))
    result = world.analyze(_delivery("en-US"))
    assert result.outcome is Outcome.FAILED
    [event] = world.publisher.events
    assert isinstance(event, SentimentFailed)
    assert event.data.error_code == "TranscriptMalformed"
    assert event.data.transcript == _delivery("en-US").data.transcript


@pytest.mark.parametrize(
    "error",
    [SentimentServiceError("Comprehend ThrottlingException: Rate exceeded"), TimeoutError("read timeout")],
)
def test_transient_comprehend_errors_propagate_for_a_retry(error):
    world = World(FakeTranscripts(_transcript("en-US")))
    world.detector.error = error
    with pytest.raises(type(error)):
        world.analyze(_delivery("en-US"))
    assert world.publisher.events == [] and world.store.saved == []


def test_missing_transcript_object_propagates_for_a_retry():
    world = World(FakeTranscripts(None))
    with pytest.raises(TranscriptUnavailable, match="NoSuchKey"):
        world.analyze(_delivery("en-US"))
    assert world.publisher.events == []


def test_older_attempt_is_not_announced_once_a_newer_one_is_stored():
    # Given attempt 2 already analyzed, When attempt 1's late delivery is analyzed
    world = World(FakeTranscripts(_transcript("en-US")), store=FakeStore(newest_attempt=2))
    result = world.analyze(_delivery("en-US"))  # attempt 1
    # Then nothing is stored or announced
    assert result.outcome is Outcome.SUPERSEDED
    assert world.publisher.events == [] and world.store.saved == []


def test_redelivery_yields_the_same_event_id():
    world = World(FakeTranscripts(_transcript("en-US")))
    first = world.analyze(_delivery("en-US"))
    second = world.analyze(_delivery("en-US"))
    assert first.event is not None and second.event is not None
    assert first.event.metadata.event_id == second.event.metadata.event_id


def test_rejections_carry_code_and_message():
    rejected = AnalysisRejected("InvalidRequestException", "bad document")
    assert (rejected.code, rejected.message, str(rejected)) == (
        "InvalidRequestException",
        "bad document",
        "InvalidRequestException: bad document",
    )
