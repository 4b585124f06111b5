"""The analyzeSentiment use case with in-memory ports: every outcome and which events it emits."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from nlp.domain.analysis import Analyzer
from nlp.domain.chunking import MAX_CHUNK_BYTES
from nlp.domain.errors import (
    AnalysisRejected,
    SentimentServiceError,
    TranscriptUnavailable,
    UnsupportedLanguage,
)
from nlp.domain.record import AnalysisRecord, Outcome, StoredAnalysis
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
            raise TranscriptUnavailable(f"cannot read {pointer.uri}: AccessDenied")
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
    """One answer's item: the last saved record and its publish marker, with the table's conditions."""

    newest_attempt: int = 0
    saved: list[AnalysisRecord] = field(default_factory=list)
    published_event_id: str | None = None
    marks: list[str] = field(default_factory=list)

    def load(self, answer_id: str) -> StoredAnalysis | None:
        if not self.saved:
            return StoredAnalysis(self.newest_attempt, None, None, None) if self.newest_attempt else None
        last = self.saved[-1]
        assert last.answer.answer_id == answer_id
        return StoredAnalysis(last.answer.attempt, last.source_event_id, last.verdict, self.published_event_id)

    def save(self, record: AnalysisRecord) -> bool:
        if record.answer.attempt < self.newest_attempt:
            return False
        self.newest_attempt = record.answer.attempt
        self.saved.append(record)
        self.published_event_id = None  # a put replaces the whole item, marker included
        return True

    def mark_published(self, answer_id: str, source_event_id: str, analyzed_at: datetime, event_id: str) -> bool:
        last = self.saved[-1] if self.saved else None
        if last is None or (last.source_event_id, last.analyzed_at) != (source_event_id, analyzed_at):
            return False
        self.published_event_id = event_id
        self.marks.append(event_id)
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

    clock: list[datetime] = field(default_factory=lambda: [NOW])

    def analyze(self, cause: TranscriptReady, *, replay: bool = False):
        analyzer = Analyzer(self.transcripts, self.detector, self.store, self.publisher, clock=lambda: self.clock[0])
        return analyzer.analyze(cause, replay=replay)


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
    assert world.detector.single_calls == []
    # And the failure is stored with the transcript (so a duplicate delivery finds it handled)
    [record] = world.store.saved
    assert record.sentiment is None and record.failure is not None
    assert record.failure.code == "UnsupportedLanguage" and record.transcript_text.startswith("Jag")
    assert world.store.marks == [derived_event_id(cause.metadata.event_id, "SentimentFailed")]
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
    [record] = world.store.saved
    assert record.failure is not None and record.failure.message == "Unsupported language: en"


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


def test_unreadable_transcript_object_propagates_for_a_retry():
    world = World(FakeTranscripts(None))
    with pytest.raises(TranscriptUnavailable, match="AccessDenied"):
        world.analyze(_delivery("en-US"))
    assert world.publisher.events == []


def test_older_attempt_is_not_announced_once_a_newer_one_is_stored():
    # Given attempt 2 already analyzed, When attempt 1's late delivery is analyzed
    world = World(FakeTranscripts(_transcript("en-US")), store=FakeStore(newest_attempt=2))
    result = world.analyze(_delivery("en-US"))  # attempt 1
    # Then nothing is stored or announced
    assert result.outcome is Outcome.SUPERSEDED
    assert world.publisher.events == [] and world.store.saved == []


def test_rejections_carry_code_and_message():
    rejected = AnalysisRejected("InvalidRequestException", "bad document")
    assert (rejected.code, rejected.message, str(rejected)) == (
        "InvalidRequestException",
        "bad document",
        "InvalidRequestException: bad document",
    )


# --- duplicates, interrupted runs and replays (issue 6) ------------------------------------------------------

LATER = datetime(2026, 11, 30, 9, 0, 0, tzinfo=UTC)


@dataclass
class FlakyPublisher(FakePublisher):
    """The bus fails the first ``failures`` publishes, as a crash or time-out between store and publish would."""

    failures: int = 1

    def publish(self, *events: DomainEvent) -> None:
        if self.failures:
            self.failures -= 1
            raise TimeoutError("put_events timed out")
        super().publish(*events)


@dataclass
class MarkFailsOnce(FakeStore):
    """The run stops after the publish, before the item is marked published."""

    failed: bool = False

    def mark_published(self, answer_id: str, source_event_id: str, analyzed_at: datetime, event_id: str) -> bool:
        if not self.failed:
            self.failed = True
            raise TimeoutError("update_item timed out")
        return super().mark_published(answer_id, source_event_id, analyzed_at, event_id)


OUTCOME_CASES = [
    # (transcript fixture, delivery fixture, detector error, expected outcome)
    ("en-US", "en-US", None, Outcome.SENTIMENT_DETECTED),
    ("empty", "empty", None, Outcome.NO_SPEECH),
    ("sv-SE", "sv-SE", None, Outcome.FAILED),
    ("en-US", "en-US", AnalysisRejected("InvalidRequestException", "bad document"), Outcome.FAILED),
]


@pytest.mark.parametrize(("transcript", "delivery", "error", "outcome"), OUTCOME_CASES)
def test_duplicate_delivery_changes_nothing_and_emits_nothing(transcript, delivery, error, outcome):
    # Given an event analyzed and announced
    world = World(FakeTranscripts(_transcript(transcript)))
    world.detector.error = error
    cause = _delivery(delivery)
    assert world.analyze(cause).outcome is outcome
    calls = (list(world.detector.single_calls), list(world.detector.batch_calls))
    # When the same event is delivered again (no replay-name), even a day later
    world.clock[0] = LATER
    result = world.analyze(cause)
    # Then Comprehend is not asked, nothing is stored and nothing is emitted
    assert result.outcome is Outcome.DUPLICATE and result.event is None
    assert (world.detector.single_calls, world.detector.batch_calls) == calls
    assert len(world.store.saved) == 1 and len(world.publisher.events) == 1


@pytest.mark.parametrize(("transcript", "delivery", "error", "outcome"), OUTCOME_CASES)
def test_run_stopped_between_store_and_publish_announces_the_stored_result_on_retry(
    transcript, delivery, error, outcome
):
    # Given a run that stored its result and then failed to publish
    world = World(FakeTranscripts(_transcript(transcript)), publisher=FlakyPublisher())
    world.detector.error = error
    cause = _delivery(delivery)
    with pytest.raises(TimeoutError):
        world.analyze(cause)
    assert len(world.store.saved) == 1 and world.publisher.events == [] and world.store.marks == []
    calls = len(world.detector.single_calls) + len(world.detector.batch_calls)
    # When Lambda retries the same delivery
    world.clock[0] = LATER
    retried = world.analyze(cause)
    # Then the stored verdict is announced once, under the derived id, without asking Comprehend again
    assert retried.outcome is outcome and retried.republished
    [event] = world.publisher.events
    assert str(outcome) == type(event).DETAIL_TYPE
    assert event.metadata.event_id == derived_event_id(cause.metadata.event_id, outcome.value)
    assert event.metadata.occurred_at == NOW  # the stored analysis' time, not the retry's
    assert len(world.detector.single_calls) + len(world.detector.batch_calls) == calls
    assert len(world.store.saved) == 1 and world.store.marks == [event.metadata.event_id]
    # And a further delivery is a duplicate
    assert world.analyze(cause).outcome is Outcome.DUPLICATE and len(world.publisher.events) == 1


def test_run_stopped_after_publish_repeats_the_same_event_on_retry():
    # Given a run that published but stopped before marking the item
    world = World(FakeTranscripts(_transcript("en-US")), store=MarkFailsOnce())
    cause = _delivery("en-US")
    with pytest.raises(TimeoutError):
        world.analyze(cause)
    # When retried, Then the very same event goes out again (at least once; consumers deduplicate on its id)
    world.analyze(cause)
    first, second = world.publisher.events
    assert first == second
    assert len(world.detector.single_calls) == 1
    assert world.store.marks == [first.metadata.event_id]


def test_replay_recomputes_overwrites_and_repeats_the_event_id():
    # Given an answer analyzed as POSITIVE
    world = World(FakeTranscripts(_transcript("en-US")))
    cause = _delivery("en-US")
    original = world.analyze(cause).event
    assert isinstance(original, SentimentDetected)
    # When the archive replays the same TranscriptReady twice, after Comprehend's model changed
    world.detector.answer = NEGATIVE
    replays = []
    for when in (LATER, LATER.replace(hour=10)):
        world.clock[0] = when
        replays.append(world.analyze(cause, replay=True))
    # Then each replay asked Comprehend again and overwrote the stored result
    assert len(world.detector.single_calls) == 3
    assert [r.sentiment for r in world.store.saved] == [POSITIVE, NEGATIVE, NEGATIVE]
    assert world.store.saved[-1].analyzed_at == LATER.replace(hour=10)
    # And announced it under the original's id, with the new analysis time
    events = [r.event for r in replays]
    assert all(isinstance(e, SentimentDetected) for e in events)
    assert {e.metadata.event_id for e in events if e} == {original.metadata.event_id}
    assert [e.data.analyzed_at for e in events if isinstance(e, SentimentDetected)] == [
        LATER,
        LATER.replace(hour=10),
    ]
    assert [e.data.sentiment for e in events if isinstance(e, SentimentDetected)] == ["NEGATIVE", "NEGATIVE"]
    # And a plain duplicate afterwards still changes nothing
    assert world.analyze(cause).outcome is Outcome.DUPLICATE


def test_replay_of_a_failure_recomputes_it():
    world = World(FakeTranscripts(_transcript("en-US")))
    world.detector.error = AnalysisRejected("InvalidRequestException", "bad document")
    cause = _delivery("en-US")
    world.analyze(cause)
    # When replayed after the cause was fixed, Then the answer gets its sentiment
    world.detector.error = None
    replayed = world.analyze(cause, replay=True)
    assert replayed.outcome is Outcome.SENTIMENT_DETECTED
    assert world.store.saved[-1].failure is None and world.store.saved[-1].sentiment == POSITIVE


def test_replay_of_an_older_attempt_neither_calls_comprehend_nor_announces():
    # Given attempt 2 stored, When attempt 1's TranscriptReady is replayed
    world = World(FakeTranscripts(_transcript("en-US")), store=FakeStore(newest_attempt=2))
    result = world.analyze(_delivery("en-US"), replay=True)
    # Then the newer attempt stays, at no Comprehend cost
    assert result.outcome is Outcome.SUPERSEDED
    assert world.detector.single_calls == [] and world.store.saved == [] and world.publisher.events == []


@pytest.mark.parametrize(
    ("transcript", "error", "kind"),
    [
        ("en-US", None, SentimentDetected),
        ("empty", None, NoSpeechDetected),
        ("en-US", UnsupportedLanguage("Unsupported language: en"), SentimentFailed),
    ],
)
def test_every_outcome_names_the_video_its_transcript_came_from(transcript, error, kind):
    # Given a TranscriptReady that names the VideoUploaded its pipeline run started from
    cause = _delivery("en-US")
    cause = cause.model_copy(update={"data": cause.data.model_copy(update={"video_event_id": "video-of-attempt"})})
    world = World(FakeTranscripts(_transcript(transcript)), detector=FakeDetector(error=error))
    # When analysed
    world.analyze(cause)
    # Then the outcome names the same video (the read model tells an erased answer's events by it)
    [event] = world.publisher.events
    assert isinstance(event, kind)
    assert event.data.video_event_id == "video-of-attempt"  # type: ignore[attr-defined]
