"""The one parser of Amazon Transcribe's batch output, as ingest (decoded JSON) and nlp (raw bytes) call it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vidsense_shared.transcripts import TranscriptFormatError, parse_transcribe_output

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "nlp"


def test_raw_bytes_and_a_decoded_document_read_the_same():
    # Given a real-shaped Transcribe output, as bytes from S3 and as decoded JSON
    raw = (FIXTURES / "transcript-en-US.json").read_bytes()
    # When both are parsed
    from_bytes = parse_transcribe_output(raw)
    from_document = parse_transcribe_output(json.loads(raw))
    # Then they give the same text, word count (pronunciation items only) and job name
    assert from_bytes == from_document
    assert from_bytes.text.startswith("Honestly, I really enjoyed the onboarding week.")
    assert from_bytes.word_count == 45
    assert from_bytes.job_name is not None and from_bytes.job_name.startswith("vidsense.test.")


def test_a_job_that_listed_no_transcript_has_empty_text():
    output = parse_transcribe_output({"results": {"transcripts": [], "items": []}})
    assert output.text == ""
    assert output.word_count == 0


def test_fields_transcribe_adds_later_are_ignored():
    document = {"jobName": "j", "results": {"transcripts": [{"transcript": "hi"}], "audio_segments": [{"id": 0}]}}
    assert parse_transcribe_output(document).text == "hi"


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (b"{not json", "Invalid JSON"),
        ([], "document"),
        ({"results": {}}, "results.transcripts"),
        ({"results": {"transcripts": [{"transcript": None}]}}, r"results\.transcripts\.0\.transcript"),
        ({"results": {"transcripts": [{"transcript": "a"}], "items": [{"type": "speech"}]}}, "items"),
        ({"status": "FAILED", "results": {"transcripts": [{"transcript": "a"}]}}, "FAILED, not COMPLETED"),
        ({"results": {"transcripts": [{"transcript": "\ud800"}]}}, "not valid Unicode"),
    ],
)
def test_anything_else_is_refused_naming_where(document, reason):
    with pytest.raises(TranscriptFormatError, match=reason):
        parse_transcribe_output(document)
