"""projectAnswers against moto: idempotent, order-independent upserts of pipeline events."""

from __future__ import annotations

import pytest

from ingest.domain.answers import UnknownEventError
from ingest.domain.errors import AnswerNotFoundError, AttemptAheadError, MalformedEventError
from ingest.domain.keys import AnswerKey
from ingest.handlers import projector, upload_landed
from tests.unit.ingest.builders import (
    at,
    delivery,
    no_speech,
    sentiment_detected,
    sentiment_failed,
    transcode_failed,
    transcoder_completed,
    transcript_ready,
    transcription_failed,
)
from vidsense_shared.consume import UnexpectedEventError

from .conftest import ADA_KEY, s3_event

ADA = AnswerKey("onboarding-2026", "3", ADA_KEY)


@pytest.fixture
def uploaded(cloud, context):
    version = cloud.put_video(ADA.video_key)
    upload_landed.handler(s3_event(ADA.video_key, version), context)
    return cloud


def item(cloud) -> dict:
    found = cloud.answer_item(ADA.answer_id)
    assert found is not None
    return found


def deliver(context, *events) -> list[bool]:
    return [projector.handler(delivery(e), context)["changed"] for e in events]


def test_pipeline_events_move_the_answer_forward(uploaded, context):
    assert deliver(context, transcoder_completed(ADA)) == [True]
    assert item(uploaded)["status"] == {"S": "TRANSCODED"}
    deliver(context, transcript_ready(ADA))
    assert item(uploaded)["status"] == {"S": "TRANSCRIBED"}
    deliver(context, sentiment_detected(ADA, sentiment="POSITIVE"))
    stored = item(uploaded)
    assert stored["status"] == {"S": "ANALYZED"} and stored["sentiment"] == {"S": "POSITIVE"}
    assert stored["sentiment_score"]["M"]["Positive"] == {"N": "0.41"}
    assert len(stored["trail"]["M"]) == 4  # VideoUploaded + three pipeline events


def test_out_of_order_and_repeated_deliveries(uploaded, context):
    # Given the analysis arrives before the transcode and transcript events, and everything twice
    analysis, transcoded, transcript = sentiment_detected(ADA), transcoder_completed(ADA), transcript_ready(ADA)
    changed = deliver(context, analysis, transcript, analysis, transcoded, transcript)

    # Then the status never moves backwards and each event enters the trail once
    assert changed == [True, True, False, True, False]
    stored = item(uploaded)
    assert stored["status"] == {"S": "ANALYZED"}
    trail = stored["trail"]["M"]
    assert {e.metadata.event_id for e in (analysis, transcoded, transcript)} <= set(trail)
    assert len(trail) == 4


def test_newer_analysis_replaces_older_one(uploaded, context):
    deliver(context, sentiment_detected(ADA, analyzed_at=at(300), sentiment="NEGATIVE"))
    deliver(context, sentiment_detected(ADA, analyzed_at=at(200), sentiment="POSITIVE"))
    assert item(uploaded)["sentiment"] == {"S": "NEGATIVE"}
    deliver(context, sentiment_detected(ADA, analyzed_at=at(400), sentiment="NEUTRAL"))
    assert item(uploaded)["sentiment"] == {"S": "NEUTRAL"}


@pytest.mark.parametrize(
    ("event", "status", "error"),
    [
        (transcode_failed(ADA), "FAILED", "1010: Unsupported codec in input"),
        (transcription_failed(ADA), "FAILED", "BadRequestException: Unsupported language"),
        (sentiment_failed(ADA), "FAILED", "UnsupportedLanguageException: Comprehend does not support sv"),
        (no_speech(ADA), "NO_SPEECH", None),
    ],
)
def test_outcomes(uploaded, context, event, status, error):
    deliver(context, event)
    stored = item(uploaded)
    assert stored["status"] == {"S": status}
    assert stored["error"] == ({"S": error} if error else {"NULL": True})


def test_replayed_delivery_is_applied_once(uploaded, context):
    event = transcoder_completed(ADA)
    assert projector.handler(delivery(event), context) == {"changed": True}
    assert projector.handler(delivery(event, replay_name="replay-2026-11-29"), context) == {"changed": False}


def test_events_of_an_older_attempt_are_ignored(uploaded, context):
    deliver(context, transcode_failed(ADA))
    version = uploaded.put_video(ADA.video_key, b"second")
    upload_landed.handler(s3_event(ADA.video_key, version), context)
    assert deliver(context, transcript_ready(ADA, attempt=1)) == [False]
    assert item(uploaded)["status"] == {"S": "UPLOADED"} and item(uploaded)["attempt"] == {"N": "2"}
    assert deliver(context, transcoder_completed(ADA, attempt=2)) == [True]


def test_unknown_detail_type_raises(uploaded, context):
    raw = delivery(transcoder_completed(ADA))
    raw["detail-type"] = "TranscoderStarted"
    with pytest.raises(UnknownEventError):
        projector.handler(raw, context)


def test_video_uploaded_is_not_the_projectors_to_handle(uploaded, context):
    raw = delivery(transcoder_completed(ADA))
    raw["detail-type"] = "VideoUploaded"
    with pytest.raises(UnknownEventError):
        projector.handler(raw, context)


@pytest.mark.parametrize(
    "breakage",
    [
        lambda raw: raw["detail"]["data"].pop("attempt"),
        lambda raw: raw["detail"]["data"].update(user_key="not-hex"),
        lambda raw: raw["detail"]["metadata"].update(occurred_at="2026-11-29T01:00:00"),  # naive time
        lambda raw: raw.pop("id"),
    ],
)
def test_malformed_deliveries_raise(uploaded, context, breakage):
    raw = delivery(transcoder_completed(ADA))
    breakage(raw)
    with pytest.raises(MalformedEventError):
        projector.handler(raw, context)


def test_wrong_contract_version_raises(uploaded, context):
    raw = delivery(transcoder_completed(ADA))
    raw["detail"]["metadata"]["version"] = "2"
    with pytest.raises(UnexpectedEventError):
        projector.handler(raw, context)


def test_event_for_an_unknown_answer_raises(cloud, context):
    with pytest.raises(AnswerNotFoundError):
        projector.handler(delivery(transcoder_completed(ADA)), context)


def test_event_for_an_attempt_not_recorded_yet_raises(uploaded, context):
    with pytest.raises(AttemptAheadError):
        projector.handler(delivery(transcoder_completed(ADA, attempt=2)), context)
