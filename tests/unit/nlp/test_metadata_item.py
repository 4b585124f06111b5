"""The metadata item: the seed's attribute names, Decimal scores, the 400 KB limit."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from nlp.adapters.metadata import MAX_ITEM_BYTES, attribute_size, from_item, to_item
from nlp.domain.record import AnalysisRecord, Failure, Outcome, truncate_utf8
from nlp.domain.scoring import Scores, Sentiment
from vidsense_shared.consume import parse_delivery
from vidsense_shared.events import TranscriptReady

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "nlp"
WHEN = datetime(2026, 11, 29, 1, 50, 7, 250000, tzinfo=UTC)


def _record(text: str, sentiment: Sentiment | None) -> AnalysisRecord:
    raw = json.loads((FIXTURES / "eventbridge-transcript-ready-en-US.json").read_text())
    cause = parse_delivery(raw, TranscriptReady).event
    return AnalysisRecord(
        answer=cause.data,
        transcript_text=text,
        word_count=len(text.split()),
        language_code="en-US",
        comprehend_language="en" if sentiment else None,
        sentiment=sentiment,
        chunk_count=1 if sentiment else 0,
        analyzed_at=WHEN,
        source_event_id=cause.metadata.event_id,
    )


def test_item_keeps_the_seed_attributes_and_adds_the_answer_identity():
    record = _record("I liked it.", Sentiment("POSITIVE", Scores(0.9, 0.05, 0.04, 0.01)))
    item = to_item(record)
    answer = record.answer
    assert item["answer_id"] == f"{answer.project}/{answer.step}/{answer.user_key}"
    assert item["JsonFile"] == f"s3://{answer.transcript.bucket}/{answer.transcript.key}"
    assert item["transcript"] == "I liked it."
    assert item["Sentiment"] == "POSITIVE"
    assert item["SentimentScore"] == {
        "Positive": Decimal("0.9"),
        "Negative": Decimal("0.05"),
        "Neutral": Decimal("0.04"),
        "Mixed": Decimal("0.01"),
    }
    assert item["answer_key"] == f"{answer.project}/{answer.step}/{answer.user_key}.webm"
    assert (item["project"], item["step"], item["user_key"], item["attempt"]) == (
        answer.project,
        answer.step,
        answer.user_key,
        1,
    )
    assert item["language"] == "en-US"
    assert item["analyzed_at"] == "2026-11-29T01:50:07.250000+00:00"
    assert item["transcript_truncated"] is False


def test_no_speech_item_has_null_sentiment():
    item = to_item(_record("", None))
    assert item["Sentiment"] is None and item["SentimentScore"] is None and item["transcript"] == ""


def test_oversized_transcript_is_cut_only_to_fit_and_flagged():
    # Given 600 KB of 3-byte characters
    text = "感" * 200_000
    item = to_item(_record(text, Sentiment("NEUTRAL", Scores(0.1, 0.1, 0.7, 0.1))))
    # Then the item fits DynamoDB's 400 KB, the cut is flagged, and little more than needed was dropped
    assert item["transcript_truncated"] is True
    assert item["transcript_bytes"] == 600_000
    assert attribute_size(item) <= MAX_ITEM_BYTES
    assert attribute_size(item) > MAX_ITEM_BYTES - 2048
    assert text.startswith(item["transcript"])


def test_truncation_never_cuts_a_character():
    assert truncate_utf8("añb", 2) == ("a", True)
    assert truncate_utf8("añb", 3) == ("añ", True)
    assert truncate_utf8("añb", 4) == ("añb", False)
    assert truncate_utf8("😊", 3) == ("", True)


def _stored(item: dict) -> dict:
    """The item as DynamoDB returns it to boto3 (Decimal numbers), with the publish marker set."""
    return {
        **json.loads(json.dumps(item, default=str), parse_float=Decimal, parse_int=Decimal),
        "published_event_id": "e-1",
    }


def test_stored_item_gives_back_the_verdict_it_announced():
    sentiment = Sentiment("MIXED", Scores(0.3, 0.2, 0.1, 0.4))
    record = _record("So-so.", sentiment)
    item = to_item(record)
    assert item["outcome"] == "SentimentDetected" and "error_code" not in item
    stored = from_item(_stored(item))
    assert stored is not None
    assert (stored.attempt, stored.source_event_id, stored.published_event_id) == (1, record.source_event_id, "e-1")
    assert stored.verdict == record.verdict
    assert stored.is_result_of(record.source_event_id, 1) and not stored.is_result_of(record.source_event_id, 2)


def test_failure_is_stored_with_its_code_and_message():
    record = replace(_record("Hej.", None), failure=Failure("UnsupportedLanguage", "no model for sv-SE"))
    item = to_item(record)
    assert (item["outcome"], item["error_code"], item["error_message"]) == (
        "SentimentFailed",
        "UnsupportedLanguage",
        "no model for sv-SE",
    )
    assert item["Sentiment"] is None and item["transcript"] == "Hej."
    stored = from_item(_stored(item))
    assert stored is not None and stored.verdict == record.verdict
    assert stored.verdict.outcome is Outcome.FAILED


def test_item_without_an_outcome_is_recomputed_not_trusted():
    # An item written before outcomes were stored (or by hand) cannot be re-announced: verdict None
    item = to_item(_record("", None))
    del item["outcome"]
    stored = from_item(_stored(item))
    assert stored is not None and stored.verdict is None
    assert from_item({"answer_id": "x"}) is None
    assert from_item({**_stored(to_item(_record("", None))), "analyzed_at": "yesterday"}).verdict is None  # type: ignore[union-attr]
