"""Event contracts: metadata rules, schema drift, detail-type registry."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from tests.eventbridge import eventbridge_delivery
from vidsense_shared import catalogue, schemas
from vidsense_shared.consume import UnexpectedEventError, parse_delivery
from vidsense_shared.events import (
    ALL_EVENTS,
    AnswerRef,
    S3Pointer,
    VideoUploaded,
    VideoUploadedData,
    derived_event_id,
    parse_detail,
)

USER_KEY = "a" * 64


def _uploaded(**overrides: object) -> VideoUploaded:
    data = VideoUploadedData(
        project="proj-1",
        step="3",
        user_key=USER_KEY,
        attempt=1,
        video=S3Pointer(bucket="media-bucket", key=f"proj-1/3/{USER_KEY}.webm", version_id="v1"),
        size_bytes=1234,
        content_type="video/webm",
    )
    return VideoUploaded.create(data, correlation_id=data.answer_id, causation_id=None, **overrides)  # type: ignore[arg-type]


@pytest.mark.parametrize("event", ALL_EVENTS, ids=lambda e: e.DETAIL_TYPE)
def test_committed_schema_matches_model(event):
    # Given the committed schema file, When the model is exported again, Then both are identical
    path = schemas.SCHEMA_DIR / schemas.schema_filename(event)
    assert path.exists(), f"missing {path}: run make schemas"
    assert path.read_text() == schemas.render(event), f"{path.name} drifted from the model: run make schemas"


def test_every_schema_file_belongs_to_a_model():
    expected = {schemas.schema_filename(e) for e in ALL_EVENTS}
    assert {p.name for p in schemas.SCHEMA_DIR.glob("*.json")} == expected


def test_detail_types_are_unique_and_explicit():
    names = [e.DETAIL_TYPE for e in ALL_EVENTS]
    assert len(set(names)) == len(names)
    assert all(e.VERSION == "1" and e.SOURCE.startswith("vidsense.") for e in ALL_EVENTS)


def test_metadata_is_utc_and_naive_datetimes_are_rejected():
    event = _uploaded(occurred_at=datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=2))))
    assert event.metadata.occurred_at == datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert event.metadata.occurred_at.utcoffset() == timedelta(0)
    with pytest.raises(ValidationError):
        _uploaded(occurred_at=datetime(2026, 1, 1, 12))


def test_correlation_id_is_the_answer_id_and_round_trips():
    event = _uploaded()
    assert event.metadata.correlation_id == f"proj-1/3/{USER_KEY}"
    assert event.metadata.version == "1"
    again = parse_detail("VideoUploaded", event.detail_json())
    assert again == event


@pytest.mark.parametrize(
    ("field", "value"),
    [("project", "bad/project"), ("step", "01"), ("step", "1000"), ("user_key", "XYZ"), ("attempt", 0)],
)
def test_answer_ref_rejects_bad_identity(field, value):
    fields = {"project": "p", "step": "0", "user_key": USER_KEY, "attempt": 1, field: value}
    with pytest.raises(ValidationError):
        AnswerRef(**fields)  # type: ignore[arg-type]


def test_derived_event_ids_are_deterministic_and_distinct_per_type():
    assert derived_event_id("e1", "TranscriptReady") == derived_event_id("e1", "TranscriptReady")
    assert derived_event_id("e1", "TranscriptReady") != derived_event_id("e1", "SentimentDetected")
    assert derived_event_id("e1", "TranscriptReady") != derived_event_id("e2", "TranscriptReady")


def test_parse_delivery_reads_replay_name():
    detail = json.loads(_uploaded().detail_json())
    plain = parse_delivery(eventbridge_delivery("VideoUploaded", detail), VideoUploaded)
    assert not plain.is_replay
    replayed = parse_delivery(eventbridge_delivery("VideoUploaded", detail, **{"replay-name": "fix-1"}), VideoUploaded)
    assert replayed.is_replay and replayed.replay_name == "fix-1"


def test_parse_delivery_rejects_other_detail_types_and_versions():
    detail = json.loads(_uploaded().detail_json())
    with pytest.raises(UnexpectedEventError):
        parse_delivery(eventbridge_delivery("TranscriptReady", detail), VideoUploaded)
    detail["metadata"]["version"] = "2"
    with pytest.raises(UnexpectedEventError):
        parse_delivery(eventbridge_delivery("VideoUploaded", detail), VideoUploaded)


def test_events_catalogue_is_current():
    # Given docs/events.md, When rendered from the models again, Then it is unchanged
    assert catalogue.DOC_PATH.read_text() == catalogue.render(), "docs/events.md drifted: run make schemas"


@pytest.mark.parametrize("event", ALL_EVENTS, ids=lambda e: e.DETAIL_TYPE)
def test_catalogue_documents_every_event_with_an_example(event):
    text = catalogue.DOC_PATH.read_text()
    assert f"## {event.DETAIL_TYPE} (v{event.VERSION})" in text
    assert f'"detail-type": "{event.DETAIL_TYPE}"' in text


def test_occurred_at_that_overflows_utc_is_a_validation_error():
    detail = json.loads(_uploaded().detail_json())
    detail["metadata"]["occurred_at"] = "0001-01-01T00:00:00+01:00"
    with pytest.raises(ValidationError):
        parse_detail("VideoUploaded", detail)
