"""Amazon Transcribe batch output (the transcript JSON the TranscriptReady event points at)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nlp.domain.errors import TranscriptMalformed


class _Lenient(BaseModel):
    # Transcribe adds fields over time (audio_segments, speaker_labels, ...): ignore what we do not read.
    model_config = ConfigDict(extra="ignore", frozen=True)


class _TranscriptText(_Lenient):
    transcript: str


class _Alternative(_Lenient):
    content: str
    confidence: str | None = None


class _Item(_Lenient):
    type: Literal["pronunciation", "punctuation"]
    alternatives: list[_Alternative] = Field(min_length=1)
    start_time: str | None = None
    end_time: str | None = None


class _Results(_Lenient):
    transcripts: list[_TranscriptText] = Field(min_length=1)
    items: list[_Item] = Field(default_factory=list)
    language_code: str | None = None


class _TranscribeOutput(_Lenient):
    jobName: str
    status: str | None = None
    results: _Results


@dataclass(frozen=True)
class Transcript:
    job_name: str
    text: str
    word_count: int
    identified_language: str | None

    @property
    def has_speech(self) -> bool:
        return bool(self.text.strip())


def parse_transcript(raw: bytes) -> Transcript:
    """Parse Transcribe's output JSON; anything that is not one raises TranscriptMalformed."""
    try:
        output = _TranscribeOutput.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "document"
        raise TranscriptMalformed(f"not a Transcribe transcript ({where}: {first['msg']})") from exc
    if output.status not in (None, "COMPLETED"):
        raise TranscriptMalformed(f"transcript status is {output.status}, not COMPLETED")
    text = output.results.transcripts[0].transcript
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates from a \ud800 escape cannot be sent anywhere
        raise TranscriptMalformed("transcript text is not valid Unicode") from exc
    return Transcript(
        job_name=output.jobName,
        text=text,
        word_count=sum(1 for item in output.results.items if item.type == "pronunciation"),
        identified_language=output.results.language_code,
    )
