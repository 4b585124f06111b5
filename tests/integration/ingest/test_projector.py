"""projectAnswers against moto: idempotent, order-independent upserts of pipeline events."""

from __future__ import annotations

import json

import pytest

from ingest.domain.errors import AnswerNotFoundError, AttemptAheadError, MalformedEventError
from ingest.domain.keys import AnswerKey
from ingest.domain.projection import UnknownEventError
from ingest.handlers import api, projector, upload_landed
from tests.unit.ingest.builders import (
    at,
    delivery,
    fixture,
    no_speech,
    reanalysed,
    sentiment_detected,
    sentiment_failed,
    transcode_failed,
    transcoder_completed,
    transcript_pointer,
    transcript_ready,
    transcription_failed,
)
from vidsense_shared.consume import UnexpectedEventError
from vidsense_shared.events import SentimentScore

from .conftest import ADA_KEY, WORK_BUCKET, http_event, s3_event

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
    assert projector.handler(delivery(event), context) == {"changed": True, "projection": "applied"}
    assert projector.handler(delivery(event, replay_name="replay-2026-11-29"), context) == {
        "changed": False,
        "projection": "duplicate",
    }


def revision(cloud) -> str:
    return str(item(cloud)["revision"]["N"])


def test_redelivered_events_write_nothing_and_emit_nothing(uploaded, context):
    # Given an analysed answer, and the bus capture drained of the upload's VideoUploaded
    events = [transcoder_completed(ADA), transcript_ready(ADA), sentiment_detected(ADA)]
    deliver(context, *events)
    uploaded.published()
    before, rev = item(uploaded), revision(uploaded)

    # When EventBridge delivers every event once more (at least once, no replay-name)
    assert deliver(context, *events) == [False, False, False]

    # Then not a single write happened (same revision, same item) and nothing was published
    assert revision(uploaded) == rev and item(uploaded) == before
    assert uploaded.published() == []


@pytest.mark.parametrize("replay_name", ["recompute-sentiment-2026-11-29", None])
def test_a_recomputed_analysis_replaces_the_sentiment_the_api_shows(uploaded, context, caplog, replay_name):
    # Given an answer analysed as MIXED, with its transcript in the work bucket
    pointer = transcript_pointer(ADA)
    uploaded.s3.put_object(Bucket=WORK_BUCKET, Key=pointer.key, Body=json.dumps(fixture("transcribe_output.json")))
    original = sentiment_detected(ADA, analyzed_at=at(70), sentiment="MIXED")
    deliver(context, transcoder_completed(ADA), transcript_ready(ADA), original)
    trail_size = len(item(uploaded)["trail"]["M"])

    # When nlp re-announces it after a replay: same event id, later analysis, another label. Delivered from the
    # archive it carries replay-name; published afresh by nlp's reanalysis it does not: both must count.
    score = SentimentScore(Positive=0.02, Negative=0.9, Neutral=0.05, Mixed=0.03)
    again = reanalysed(original, at(4000), "NEGATIVE", score)
    result = projector.handler(delivery(again, replay_name=replay_name), context)

    # Then the read model holds the recomputed sentiment, one trail entry per event id, status still ANALYZED
    assert result == {"changed": True, "projection": "recomputed"}
    stored = item(uploaded)
    assert (stored["status"], stored["sentiment"]) == ({"S": "ANALYZED"}, {"S": "NEGATIVE"})
    assert len(stored["trail"]["M"]) == trail_size
    # And the caller's answer shows it
    response = api.handler(http_event(f"/answers/{ADA.project}/{ADA.step}", "GET /answers/{project}/{step}"), context)
    body = json.loads(response["body"])
    assert (body["status"], body["sentiment"], body["sentiment_score"]) == ("ANALYZED", "NEGATIVE", score.model_dump())
    # And a replay is logged with its name
    replays = [r for r in caplog.records if r.getMessage().startswith("replayed event")]
    assert [getattr(r, "replay_name", None) for r in replays] == ([replay_name] if replay_name else [])

    # And the original, redelivered late, changes nothing
    rev = revision(uploaded)
    assert deliver(context, original) == [False]
    assert revision(uploaded) == rev


def test_a_replayed_older_milestone_changes_nothing(uploaded, context, caplog):
    # Given an analysed answer
    transcoded = transcoder_completed(ADA)
    deliver(context, transcoded, transcript_ready(ADA), sentiment_detected(ADA))
    before, rev = item(uploaded), revision(uploaded)

    # When the archive replays TranscoderCompleted
    result = projector.handler(delivery(transcoded, replay_name="replay-transcode"), context)

    # Then nothing is written, the status stays ANALYZED, and the replay is logged by name
    assert result == {"changed": False, "projection": "duplicate"}
    assert revision(uploaded) == rev and item(uploaded) == before
    logged = [(r.getMessage(), getattr(r, "replay_name", None)) for r in caplog.records]
    assert ("replayed event changed nothing", "replay-transcode") in logged


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
