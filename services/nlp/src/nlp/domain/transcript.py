"""Amazon Transcribe batch output (the transcript JSON the TranscriptReady event points at), as nlp needs it."""

from __future__ import annotations

from dataclasses import dataclass

from nlp.domain.errors import TranscriptMalformed
from vidsense_shared.transcripts import TranscriptFormatError, parse_transcribe_output


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
    """Parse Transcribe's output JSON; anything that is not one raises TranscriptMalformed.

    Stricter than the shared parser: the analysed document must name its job and list a transcript.
    """
    try:
        output = parse_transcribe_output(raw)
    except TranscriptFormatError as exc:
        raise TranscriptMalformed(str(exc)) from exc
    if output.job_name is None:
        raise TranscriptMalformed("not a Transcribe transcript (jobName: Field required)")
    if not output.results.transcripts:
        raise TranscriptMalformed("not a Transcribe transcript (results.transcripts: no transcript listed)")
    return Transcript(
        job_name=output.job_name,
        text=output.text,
        word_count=output.word_count,
        identified_language=output.results.language_code,
    )
