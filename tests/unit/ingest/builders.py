"""Builders for ingest tests: pipeline events shaped exactly as the producing services publish them."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ingest.domain.keys import AnswerKey
from vidsense_shared.events import (
    DomainEvent,
    NoSpeechDetected,
    NoSpeechDetectedData,
    S3Pointer,
    SentimentDetected,
    SentimentDetectedData,
    SentimentFailed,
    SentimentFailedData,
    SentimentScore,
    TranscodeFailed,
    TranscodeFailedData,
    TranscoderCompleted,
    TranscoderCompletedData,
    TranscriptionFailed,
    TranscriptionFailedData,
    TranscriptReady,
    TranscriptReadyData,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ingest"
USER_KEY = "3f" * 32
ANSWER = AnswerKey("onboarding-2026", "3", USER_KEY)
T0 = datetime(2026, 11, 29, 1, 41, 7, tzinfo=UTC)
WORK_BUCKET = "vidsense-test-work-123456789012"


def fixture(name: str) -> dict[str, Any]:
    return copy.deepcopy(json.loads((FIXTURES / name).read_text()))


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _ref(answer: AnswerKey, attempt: int, video: str | None = None) -> dict[str, Any]:
    """``video``: the VideoUploaded event id the pipeline run started from (None: a producer that predates it)."""
    ref = {"project": answer.project, "step": answer.step, "user_key": answer.user_key, "attempt": attempt}
    return ref if video is None else {**ref, "video_event_id": video}


def transcript_pointer(answer: AnswerKey = ANSWER, attempt: int = 1) -> S3Pointer:
    key = f"test/transcripts/{answer.project}/{answer.step}/{answer.user_key}/attempt-{attempt}.json"
    return S3Pointer(bucket=WORK_BUCKET, key=key)


def _create(model: type[DomainEvent], data: Any, answer: AnswerKey, when: datetime, event_id: str | None) -> Any:
    return model.create(
        data, correlation_id=answer.answer_id, causation_id="cause-1", occurred_at=when, event_id=event_id
    )


def transcoder_completed(
    answer: AnswerKey = ANSWER,
    attempt: int = 1,
    when: datetime | None = None,
    event_id: str | None = None,
    video: str | None = None,
) -> TranscoderCompleted:
    audio_key = f"test/audio/{answer.project}/{answer.step}/{answer.user_key}/attempt-{attempt}/answer.mp3"
    data = TranscoderCompletedData(
        **_ref(answer, attempt, video),
        job_id="1764380467512-abc123",
        audio=S3Pointer(bucket=WORK_BUCKET, key=audio_key),
        duration_ms=42_000,
    )
    return _create(TranscoderCompleted, data, answer, when or at(30), event_id)  # type: ignore[no-any-return]


def transcript_ready(
    answer: AnswerKey = ANSWER,
    attempt: int = 1,
    when: datetime | None = None,
    event_id: str | None = None,
    video: str | None = None,
) -> TranscriptReady:
    data = TranscriptReadyData(
        **_ref(answer, attempt, video),
        job_name=f"vidsense.test.{answer.project}.{answer.step}.{answer.user_key}.{attempt}",
        transcript=transcript_pointer(answer, attempt),
        language_code="en-US",
    )
    return _create(TranscriptReady, data, answer, when or at(60), event_id)  # type: ignore[no-any-return]


def sentiment_detected(
    answer: AnswerKey = ANSWER,
    attempt: int = 1,
    when: datetime | None = None,
    analyzed_at: datetime | None = None,
    sentiment: str = "MIXED",
    event_id: str | None = None,
    score: SentimentScore | None = None,
    video: str | None = None,
) -> SentimentDetected:
    data = SentimentDetectedData(
        **_ref(answer, attempt, video),
        transcript=transcript_pointer(answer, attempt),
        language_code="en",
        sentiment=sentiment,  # type: ignore[arg-type]
        sentiment_score=score or SentimentScore(Positive=0.41, Negative=0.32, Neutral=0.07, Mixed=0.2),
        analyzed_at=analyzed_at or when or at(70),
    )
    # nlp stamps the event with the analysis time (outcome_event: occurred_at=analyzed_at)
    return _create(SentimentDetected, data, answer, when or analyzed_at or at(70), event_id)  # type: ignore[no-any-return]


def no_speech(
    answer: AnswerKey = ANSWER, attempt: int = 1, when: datetime | None = None, video: str | None = None
) -> NoSpeechDetected:
    data = NoSpeechDetectedData(**_ref(answer, attempt, video), transcript=transcript_pointer(answer, attempt))
    return _create(NoSpeechDetected, data, answer, when or at(70), None)  # type: ignore[no-any-return]


def transcode_failed(
    answer: AnswerKey = ANSWER, attempt: int = 1, when: datetime | None = None, video: str | None = None
) -> TranscodeFailed:
    data = TranscodeFailedData(
        **_ref(answer, attempt, video), error_code="1010", error_message="Unsupported codec in input", job_id="job-9"
    )
    return _create(TranscodeFailed, data, answer, when or at(30), None)  # type: ignore[no-any-return]


def transcription_failed(
    answer: AnswerKey = ANSWER, attempt: int = 1, when: datetime | None = None, video: str | None = None
) -> TranscriptionFailed:
    data = TranscriptionFailedData(
        **_ref(answer, attempt, video), error_code="BadRequestException", error_message="Unsupported language"
    )
    return _create(TranscriptionFailed, data, answer, when or at(60), None)  # type: ignore[no-any-return]


def sentiment_failed(
    answer: AnswerKey = ANSWER, attempt: int = 1, when: datetime | None = None, video: str | None = None
) -> SentimentFailed:
    data = SentimentFailedData(
        **_ref(answer, attempt, video),
        error_code="UnsupportedLanguageException",
        error_message="Comprehend does not support sv",
        transcript=transcript_pointer(answer, attempt),
        language_code="sv",
    )
    return _create(SentimentFailed, data, answer, when or at(70), None)  # type: ignore[no-any-return]


def reanalysed(
    original: SentimentDetected, analyzed_at: datetime, sentiment: str, score: SentimentScore
) -> SentimentDetected:
    """nlp's answer to a replayed TranscriptReady: the original's derived event id, a fresh analysis."""
    update = {"sentiment": sentiment, "sentiment_score": score, "analyzed_at": analyzed_at}
    data = original.data.model_copy(update=update)
    metadata = original.metadata.model_copy(update={"occurred_at": analyzed_at})
    return SentimentDetected(metadata=metadata, data=data)


def delivery(event: DomainEvent, *, replay_name: str | None = None) -> dict[str, Any]:
    """An EventBridge delivery of ``event`` to a Lambda target, as AWS sends it."""
    raw = fixture("eventbridge_delivery.json")
    raw["detail-type"] = event.DETAIL_TYPE
    raw["source"] = event.SOURCE
    raw["time"] = event.metadata.occurred_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    raw["detail"] = json.loads(event.detail_json())
    if replay_name:
        raw["replay-name"] = replay_name
    return raw
