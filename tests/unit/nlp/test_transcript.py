"""Parsing Amazon Transcribe's batch output JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nlp.domain.errors import TranscriptMalformed
from nlp.domain.transcript import parse_transcript

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "nlp"


def _raw(name: str) -> bytes:
    return (FIXTURES / f"transcript-{name}.json").read_bytes()


def test_english_transcript_text_and_words():
    transcript = parse_transcript(_raw("en-US"))
    assert transcript.text.startswith("Honestly, I really enjoyed the onboarding week.")
    assert transcript.job_name.startswith("vidsense.test.onboarding-2026.3.")
    assert transcript.word_count == 45  # pronunciation items; punctuation items do not count
    assert transcript.identified_language is None
    assert transcript.has_speech


def test_identified_language_is_read_when_present():
    assert parse_transcript(_raw("es-ES")).identified_language == "es-ES"


def test_empty_transcript_has_no_speech():
    transcript = parse_transcript(_raw("empty"))
    assert transcript.text == ""
    assert transcript.word_count == 0
    assert not transcript.has_speech


def test_whitespace_only_transcript_has_no_speech():
    document = json.loads(_raw("empty"))
    document["results"]["transcripts"][0]["transcript"] = " \n "
    assert not parse_transcript(json.dumps(document).encode()).has_speech


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (_raw("malformed"), "Invalid JSON"),
        (b"\xff\xfe{}", "Invalid"),
        (b'{"jobName": "x", "results": {"transcripts": []}}', "results.transcripts"),
        (b'{"jobName": "x", "results": {}}', "results.transcripts"),
        (b'{"results": {"transcripts": [{"transcript": "hi"}]}}', "jobName"),
        (b'["not", "an", "object"]', "document"),
        (b'{"jobName": "x", "status": "FAILED", "results": {"transcripts": [{"transcript": "a"}]}}', "FAILED"),
        (b'{"jobName": "x", "results": {"transcripts": [{"transcript": "\\ud800"}]}}', "JSON"),
    ],
)
def test_anything_else_is_malformed(raw, reason):
    with pytest.raises(TranscriptMalformed, match=reason) as caught:
        parse_transcript(raw)
    assert caught.value.code == "TranscriptMalformed"
