"""The metadata item's transcript text expires with the transcript objects: its TTL is the analysis time plus the
stage's transcript retention (transcriptExpirationDays)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from nlp.adapters.metadata import TTL_ATTRIBUTE, to_item
from nlp.domain.record import AnalysisRecord, transcript_expires_at
from vidsense_shared.consume import parse_delivery
from vidsense_shared.events import TranscriptReady

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "nlp"
ANALYZED = datetime(2026, 11, 29, 1, 50, 7, 250000, tzinfo=UTC)


def record(analyzed_at: datetime = ANALYZED) -> AnalysisRecord:
    raw = json.loads((FIXTURES / "eventbridge-transcript-ready-en-US.json").read_text())
    cause = parse_delivery(raw, TranscriptReady).event
    return AnalysisRecord(
        answer=cause.data,
        transcript_text="I liked it.",
        word_count=3,
        language_code="en-US",
        comprehend_language=None,
        sentiment=None,
        chunk_count=0,
        analyzed_at=analyzed_at,
        source_event_id=cause.metadata.event_id,
    )


def test_the_text_expires_the_retention_after_the_analysis():
    assert transcript_expires_at(ANALYZED, 14) == int((ANALYZED + timedelta(days=14)).timestamp())
    assert transcript_expires_at(ANALYZED, 1) - transcript_expires_at(ANALYZED, 0) == 86_400


def test_an_item_holding_transcript_text_carries_its_ttl_epoch():
    # Given an analysis at ANALYZED on a stage keeping transcripts 90 days
    item = to_item(record(), retention_days=90)
    # Then the item holds the text and expires 90 days after the analysis, in epoch seconds
    assert item["transcript"] == "I liked it."
    assert item[TTL_ATTRIBUTE] == int(datetime(2027, 2, 27, 1, 50, 7, tzinfo=UTC).timestamp())
    # And a later analysis (a replay) moves it along with the analysis time
    later = to_item(record(ANALYZED + timedelta(hours=1)), retention_days=90)
    assert later[TTL_ATTRIBUTE] - item[TTL_ATTRIBUTE] == 3600


def test_without_a_retention_no_ttl_is_written():
    assert TTL_ATTRIBUTE not in to_item(record())
