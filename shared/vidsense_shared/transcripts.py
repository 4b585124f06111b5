"""Amazon Transcribe's batch output document (the JSON a TranscriptReady event points at): one parser for every
reader (ingest shows the text, nlp analyses it)."""

# Annotations evaluated as written, no `from __future__ import annotations`: pydantic would compile each field's
# annotation string when the models are declared, in every cold start (docs/performance.md, Lambda cold init).

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class TranscriptFormatError(ValueError):
    """The document is not a completed Transcribe output; the message says where it differs."""


class _Lenient(BaseModel):
    # Transcribe adds fields over time (audio_segments, speaker_labels, ...): ignore what we do not read.
    # Built on first use (the functions that import this module do not all read transcripts).
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)


class TranscriptText(_Lenient):
    transcript: str


class Alternative(_Lenient):
    content: str
    confidence: str | None = None


class Item(_Lenient):
    type: Literal["pronunciation", "punctuation"]
    alternatives: list[Alternative] = Field(min_length=1)
    start_time: str | None = None
    end_time: str | None = None


class Results(_Lenient):
    # A job that heard nothing may list no transcripts at all (readers decide whether that is empty text).
    transcripts: list[TranscriptText]
    items: list[Item] = Field(default_factory=list)
    # Set when the job identified the language itself.
    language_code: str | None = None


class TranscribeOutput(_Lenient):
    job_name: str | None = Field(default=None, alias="jobName")
    status: str | None = None
    results: Results

    @property
    def text(self) -> str:
        """``results.transcripts[0].transcript``; empty when the job listed no transcript."""
        return self.results.transcripts[0].transcript if self.results.transcripts else ""

    @property
    def word_count(self) -> int:
        """Spoken words: the pronunciation items (punctuation items are not words)."""
        return sum(1 for item in self.results.items if item.type == "pronunciation")


def parse_transcribe_output(document: bytes | str | Any) -> TranscribeOutput:
    """Parse the raw JSON (bytes or str) or an already decoded document; TranscriptFormatError otherwise."""
    try:
        if isinstance(document, bytes | str):
            output = TranscribeOutput.model_validate_json(document)
        else:
            output = TranscribeOutput.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "document"
        raise TranscriptFormatError(f"not a Transcribe transcript ({where}: {first['msg']})") from exc
    if output.status not in (None, "COMPLETED"):
        raise TranscriptFormatError(f"transcript status is {output.status}, not COMPLETED")
    try:
        output.text.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates from a \ud800 escape cannot be sent anywhere
        raise TranscriptFormatError("transcript text is not valid Unicode") from exc
    return output
