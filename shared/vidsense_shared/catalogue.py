"""Renders docs/events.md, the events catalogue, from the event models (a test fails when it drifts)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from vidsense_shared.events import (
    ALL_EVENTS,
    AnswerDeleted,
    AnswerDeletedData,
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
    VideoUploaded,
    VideoUploadedData,
)
from vidsense_shared.resources import StageResources

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "events.md"

_USER_KEY = "9f2c4e1b" * 8
_DEV = StageResources("dev")
_ACCOUNT = "111122223333"
_ANSWER = {"project": "onboarding", "step": "2", "user_key": _USER_KEY, "attempt": 1}
_VIDEO = S3Pointer(
    bucket=_DEV.media_bucket(_ACCOUNT),
    key=f"onboarding/2/{_USER_KEY}.webm",
    version_id="3sL4kqtJlcpXroDTDmJ",
)
_AUDIO = S3Pointer(
    bucket=_DEV.work_bucket(_ACCOUNT),
    key=f"dev/audio/onboarding/2/{_USER_KEY}/attempt-1/answer.mp3",
)
_TRANSCRIPT = S3Pointer(
    bucket=_DEV.work_bucket(_ACCOUNT), key=f"dev/transcripts/onboarding/2/{_USER_KEY}/attempt-1.json"
)
_WHEN = datetime(2026, 11, 29, 10, 0, 5, tzinfo=UTC)

# producer, consumers (function names as in docs/architecture.md), example data
_CATALOGUE: dict[type[DomainEvent], tuple[str, str, BaseModel]] = {
    VideoUploaded: (
        "ingest `uploadLanded` (S3 Object Created on the media bucket)",
        "transcode `startTranscode`",
        VideoUploadedData(**_ANSWER, video=_VIDEO, size_bytes=482113, content_type="video/webm"),
    ),
    TranscoderCompleted: (
        "transcode `relayTranscoderEvents` (MediaConvert COMPLETE via the onComplete SNS topic)",
        "transcode `startTranscription`, ingest `projectAnswers`",
        TranscoderCompletedData(**_ANSWER, job_id="1764410405123-abc123", audio=_AUDIO, duration_ms=9840),
    ),
    TranscodeFailed: (
        "transcode `relayTranscoderEvents` (MediaConvert ERROR/CANCELED) or `startTranscode` (rejected job)",
        "ingest `projectAnswers`",
        TranscodeFailedData(
            **_ANSWER,
            job_id="1764410405123-abc123",
            error_code="1010",
            error_message="Unable to open input file",
        ),
    ),
    TranscriptReady: (
        "transcode `transcriptionCompleted` (Transcribe COMPLETED)",
        "nlp `analyzeSentiment`, ingest `projectAnswers`",
        TranscriptReadyData(
            **_ANSWER,
            job_name=f"vidsense.dev.onboarding.2.{_USER_KEY}.1",
            transcript=_TRANSCRIPT,
            language_code="en-US",
            duration_ms=9840,
        ),
    ),
    TranscriptionFailed: (
        "transcode `transcriptionCompleted` (Transcribe FAILED) or `startTranscription` (unusable media)",
        "ingest `projectAnswers`",
        TranscriptionFailedData(
            **_ANSWER,
            job_name=f"vidsense.dev.onboarding.2.{_USER_KEY}.1",
            error_code="TranscriptionJobFailed",
            error_message="The media format that you specified doesn't match the detected media format.",
        ),
    ),
    SentimentDetected: (
        "nlp `analyzeSentiment`",
        "ingest `projectAnswers`",
        SentimentDetectedData(
            **_ANSWER,
            transcript=_TRANSCRIPT,
            language_code="en-US",
            sentiment="POSITIVE",
            sentiment_score=SentimentScore(Positive=0.91, Negative=0.01, Neutral=0.07, Mixed=0.01),
            analyzed_at=_WHEN,
        ),
    ),
    NoSpeechDetected: (
        "nlp `analyzeSentiment` (empty transcript: Comprehend is not called)",
        "ingest `projectAnswers`",
        NoSpeechDetectedData(**_ANSWER, transcript=_TRANSCRIPT, language_code="en-US"),
    ),
    SentimentFailed: (
        "nlp `analyzeSentiment` (language Comprehend lacks, unreadable transcript)",
        "ingest `projectAnswers`",
        SentimentFailedData(
            **_ANSWER,
            error_code="UnsupportedLanguage",
            error_message="Comprehend has no sentiment model for sv",
            transcript=_TRANSCRIPT,
            language_code="sv-SE",
        ),
    ),
    AnswerDeleted: (
        "ingest `api` (`DELETE /answers/{project}/{step}`, after the video is erased)",
        "transcode `eraseAnswer`, nlp `eraseAnswer`",
        AnswerDeletedData(**{**_ANSWER, "attempt": 2}),
    ),
}


def _fields(model: type[BaseModel], prefix: str = "") -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    for name, field in model.model_fields.items():
        annotation = field.annotation
        nested = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
        type_name = getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")
        type_name = type_name.replace(" | ", " or ") + ("" if name in required else " (optional)")
        rows.append((f"{prefix}{name}", type_name, field.description or ""))
        if nested is not None:
            rows.extend(_fields(nested, prefix=f"{prefix}{name}."))
    return rows


def _example(event: type[DomainEvent], data: BaseModel) -> dict[str, Any]:
    built = event.create(
        data,
        correlation_id=f"onboarding/2/{_USER_KEY}",
        causation_id="0b6f7c6e-3f1e-4d5c-9a39-2f1e5c2b7a10",
        event_id="5d1f3b7e-8c2a-4f4e-9b1d-7e6a2c9f0a11",
        occurred_at=_WHEN,
    )
    return {
        "source": event.SOURCE,
        "detail-type": event.DETAIL_TYPE,
        "detail": json.loads(built.model_dump_json()),
    }


def render() -> str:
    out = [
        "# Events catalogue",
        "",
        "Generated from `shared/vidsense_shared/events.py` by `make schemas` (a test fails when it drifts).",
        "JSON Schemas: `shared/schemas/<DetailType>.v<version>.json`.",
        "",
        "Every event goes to the stage's bus `vidsense-{stage}-bus` with `source` `vidsense.<service>`",
        "and `detail = {metadata, data}`. `metadata.correlation_id` is the answer's id",
        "(`{project}/{step}/{user_key}`) on every event of the chain; `metadata.causation_id` is the",
        "`event_id` of the event that caused this one. Large payloads (video, audio, transcript) travel",
        "as S3 pointers (`{bucket, key, version_id}`), never inline. A breaking change is a new version",
        "published beside the old; changes inside a version are additive.",
        "",
        "| event | version | source | producer | consumers |",
        "|---|---|---|---|---|",
    ]
    for event in ALL_EVENTS:
        producer, consumers, _ = _CATALOGUE[event]
        out.append(f"| {event.DETAIL_TYPE} | {event.VERSION} | `{event.SOURCE}` | {producer} | {consumers} |")
    out += ["", "## Metadata (every event)", "", "| field | type | meaning |", "|---|---|---|"]
    from vidsense_shared.events import EventMetadata  # noqa: PLC0415

    out += [f"| `{n}` | {t} | {d} |" for n, t, d in _fields(EventMetadata)]
    for event in ALL_EVENTS:
        producer, consumers, data = _CATALOGUE[event]
        data_model = event.model_fields["data"].annotation
        assert isinstance(data_model, type)
        out += [
            "",
            f"## {event.DETAIL_TYPE} (v{event.VERSION})",
            "",
            f"Producer: {producer}. Consumers: {consumers}.",
            "",
            "| data field | type | meaning |",
            "|---|---|---|",
        ]
        out += [f"| `{n}` | {t} | {d} |" for n, t, d in _fields(data_model)]
        out += ["", "```json", json.dumps(_example(event, data), indent=2), "```"]
    return "\n".join(out) + "\n"


def write(path: Path = DOC_PATH) -> Path:
    path.write_text(render())
    return path


if __name__ == "__main__":
    print(write(Path(sys.argv[1]) if len(sys.argv) > 1 else DOC_PATH))  # noqa: T201
