"""The answers read model: upload decisions and the projection of pipeline events."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.domain.answers import AnswerRecord, Status
from ingest.domain.errors import AttemptAheadError
from ingest.domain.projection import ProjectionOutcome, UnknownEventError, project
from ingest.domain.upload import (
    AlreadyRecorded,
    EarlierAttempt,
    LandedObject,
    LosingVersion,
    NewAttempt,
    decide_upload,
    mark_published,
    video_event_id,
    video_uploaded_event,
)
from vidsense_shared.events import SentimentScore

from .builders import (
    ANSWER,
    T0,
    at,
    no_speech,
    reanalysed,
    sentiment_detected,
    sentiment_failed,
    transcode_failed,
    transcoder_completed,
    transcript_ready,
    transcription_failed,
)

BUCKET = "vidsense-test-media-123456789012"
MAX = 200 * 1024 * 1024


def landed(version: str = "v1", size: int = 1_048_576, content_type: str = "video/webm") -> LandedObject:
    return LandedObject(
        bucket=BUCKET, answer=ANSWER, version_id=version, size_bytes=size, content_type=content_type, event_time=T0
    )


def new_record(version: str = "v1", existing: AnswerRecord | None = None, **kwargs: object) -> AnswerRecord:
    decision = decide_upload(existing, landed(version, **kwargs), max_bytes=MAX, now=T0)  # type: ignore[arg-type]
    assert isinstance(decision, NewAttempt)
    return decision.record


def apply_all(record: AnswerRecord, events: list) -> AnswerRecord:
    for event in events:
        record = project(record, event, now=at(100))[1] or record
    return record


# --- uploads -------------------------------------------------------------------------------------------------


def test_first_upload_is_attempt_one_with_a_deterministic_event_id():
    record = new_record()
    assert (record.attempt, record.status, record.version_id, record.published) == (1, Status.UPLOADED, "v1", False)
    assert record.video_event_id == video_event_id(BUCKET, ANSWER.video_key, "v1")
    assert record.video_event_id != video_event_id(BUCKET, ANSWER.video_key, "v2")
    assert record.needs_publish


def test_video_uploaded_event_is_rebuilt_identically():
    record = new_record()
    first, second = video_uploaded_event(record), video_uploaded_event(record)
    assert first.detail_json() == second.detail_json()
    assert first.metadata.correlation_id == ANSWER.answer_id
    assert first.data.video.version_id == "v1"
    assert first.metadata.occurred_at == T0


def test_same_version_again_is_a_duplicate():
    record = new_record()
    assert decide_upload(record, landed("v1"), max_bytes=MAX, now=T0) == AlreadyRecorded(record)


def test_a_second_version_of_a_live_answer_loses():
    record = new_record()
    assert decide_upload(record, landed("v2"), max_bytes=MAX, now=T0) == LosingVersion("v1")


def test_after_failure_a_new_version_is_the_next_attempt_and_keeps_the_trail():
    failed = project(new_record(), transcode_failed(), now=at(40))[1]
    assert failed is not None and failed.status is Status.FAILED
    second = new_record("v2", existing=failed)
    assert (second.attempt, second.status, second.error, second.previous_versions) == (
        2,
        Status.UPLOADED,
        None,
        ("v1",),
    )
    assert second.trail == failed.trail
    # a late duplicate notification of attempt 1's version is not a concurrent upload
    assert decide_upload(second, landed("v1"), max_bytes=MAX, now=T0) == EarlierAttempt("v1")


@pytest.mark.parametrize(
    ("size", "content_type", "reason"),
    [
        (MAX + 1, "video/webm", f"InvalidUpload: the video has {MAX + 1} bytes, more than the {MAX} allowed"),
        (1000, "video/mp4", "InvalidUpload: content type 'video/mp4' is not video/webm"),
        (1000, "", "InvalidUpload: content type '' is not video/webm"),
        (0, "video/webm", "InvalidUpload: the video is empty"),
    ],
)
def test_bad_media_is_recorded_failed_and_never_announced(size, content_type, reason):
    record = new_record(size=size, content_type=content_type)
    assert (record.status, record.error, record.video_event_id) == (Status.FAILED, reason, None)
    assert not record.needs_publish
    with pytest.raises(ValueError, match="nothing to publish"):
        video_uploaded_event(record)


def test_upload_of_exactly_the_maximum_is_accepted():
    assert new_record(size=MAX).status is Status.UPLOADED


def test_mark_published_records_the_trail_once():
    record = new_record()
    event = video_uploaded_event(record)
    marked = mark_published(record, event, now=at(1))
    assert marked is not None and marked.published
    assert marked.trail[event.metadata.event_id].detail_type == "VideoUploaded"
    assert mark_published(marked, event, now=at(2)) is None


# --- projection ----------------------------------------------------------------------------------------------


def test_happy_path_reaches_analyzed_with_the_sentiment():
    record = apply_all(new_record(), [transcoder_completed(), transcript_ready(), sentiment_detected()])
    assert record.status is Status.ANALYZED
    assert record.sentiment == "MIXED"
    assert record.sentiment_score is not None and record.sentiment_score.Positive == 0.41
    assert record.transcript is not None and record.transcript.key.endswith("attempt-1.json")
    assert record.audio is not None
    kinds = [e.detail_type for e in record.trail.values()]
    assert kinds == ["TranscoderCompleted", "TranscriptReady", "SentimentDetected"]


def test_out_of_order_events_never_move_status_backwards():
    # Given the analysis arrives first, When the older milestones arrive late, Then the status stays ANALYZED
    record = apply_all(new_record(), [sentiment_detected(), transcript_ready(), transcoder_completed()])
    assert record.status is Status.ANALYZED
    assert len(record.trail) == 3
    assert record.audio is not None  # late events still contribute their pointers


def test_repeated_event_changes_nothing():
    event = transcript_ready()
    once = project(new_record(), event, now=at(90))[1]
    assert once is not None
    assert project(once, event, now=at(91))[1] is None


def test_events_of_an_older_attempt_are_ignored():
    failed = apply_all(new_record(), [transcode_failed()])
    second = new_record("v2", existing=failed)
    assert project(second, transcript_ready(attempt=1), now=at(90))[1] is None


# After an erasure the person's next recording is attempt 1 again: only the video tells the two answers apart.
ERASED_VIDEO = video_event_id(BUCKET, ANSWER.video_key, "v1")


def recorded_again_after_erasure() -> AnswerRecord:
    """The answer the person recorded after erasing their first one (v1): a new video, attempt 1 again."""
    record = new_record("v2")
    assert record.attempt == 1 and record.video_event_id != ERASED_VIDEO
    return record


@pytest.mark.parametrize(
    "late",
    [
        pytest.param(lambda: sentiment_failed(video=ERASED_VIDEO, when=at(200)), id="SentimentFailed"),
        pytest.param(lambda: transcode_failed(video=ERASED_VIDEO), id="TranscodeFailed"),
        pytest.param(lambda: transcription_failed(video=ERASED_VIDEO), id="TranscriptionFailed"),
        pytest.param(lambda: sentiment_detected(video=ERASED_VIDEO, sentiment="NEGATIVE"), id="SentimentDetected"),
        pytest.param(lambda: no_speech(video=ERASED_VIDEO), id="NoSpeechDetected"),
        pytest.param(lambda: transcript_ready(video=ERASED_VIDEO), id="TranscriptReady"),
        pytest.param(lambda: transcoder_completed(video=ERASED_VIDEO), id="TranscoderCompleted"),
    ],
)
def test_a_late_event_of_an_erased_answer_is_not_applied_to_the_answer_recorded_after_it(late):
    # Given the person erased their answer and recorded again (attempt 1 of a new video)
    record = recorded_again_after_erasure()
    # When a late or redriven event of the erased answer's attempt 1 arrives
    outcome, written = project(record, late(), now=at(300))
    # Then the new answer is left as it is
    assert (outcome, written) == (ProjectionOutcome.OTHER_RECORDING, None)


def test_the_new_answers_own_events_still_apply_after_an_erasure():
    # Given the answer recorded after an erasure, When its own pipeline events arrive
    record = recorded_again_after_erasure()
    video = record.video_event_id
    events = [transcoder_completed(video=video), transcript_ready(video=video), sentiment_detected(video=video)]
    # Then it reaches ANALYZED as any answer does
    assert apply_all(record, events).status is Status.ANALYZED


def test_an_erased_answers_event_does_not_overturn_the_new_answers_outcome():
    # Given the new answer is ANALYZED
    record = recorded_again_after_erasure()
    analyzed = apply_all(record, [sentiment_detected(video=record.video_event_id)])
    assert analyzed.status is Status.ANALYZED
    # When the erased answer's failure, later in time, is redriven from a dead-letter queue
    late = sentiment_failed(video=ERASED_VIDEO, when=at(500))
    # Then the new answer stays ANALYZED (the same attempt number, a later outcome: it would have won)
    assert project(analyzed, late, now=at(600))[1] is None


def test_events_of_an_attempt_not_recorded_yet_are_retried():
    with pytest.raises(AttemptAheadError):
        project(new_record(), transcoder_completed(attempt=2), now=at(90))


def test_newer_analysis_replaces_an_older_one_and_not_the_reverse():
    older = sentiment_detected(analyzed_at=at(70), sentiment="NEGATIVE")
    newer = sentiment_detected(analyzed_at=at(500), sentiment="POSITIVE")
    for order in ([older, newer], [newer, older]):
        record = apply_all(new_record(), order)
        assert (record.status, record.sentiment, record.analyzed_at) == (Status.ANALYZED, "POSITIVE", at(500))


@pytest.mark.parametrize(
    ("event", "error"),
    [
        (transcode_failed(), "1010: Unsupported codec in input"),
        (transcription_failed(), "BadRequestException: Unsupported language"),
        (sentiment_failed(), "UnsupportedLanguageException: Comprehend does not support sv"),
    ],
)
def test_failure_events_set_failed_with_code_and_message(event, error):
    record = apply_all(new_record(), [transcoder_completed(), event])
    assert (record.status, record.error, record.sentiment) == (Status.FAILED, error, None)


def test_no_speech_is_an_outcome_with_a_transcript_pointer():
    record = apply_all(new_record(), [transcript_ready(), no_speech()])
    assert (record.status, record.error, record.sentiment) == (Status.NO_SPEECH, None, None)
    assert record.transcript is not None


def test_later_outcome_of_the_same_rank_wins_whatever_the_delivery_order():
    failure = sentiment_failed(when=at(80))
    analysis = sentiment_detected(analyzed_at=at(120))
    for order in ([failure, analysis], [analysis, failure]):
        record = apply_all(new_record(), order)
        assert (record.status, record.error, record.sentiment) == (Status.ANALYZED, None, "MIXED")


def test_events_the_projection_does_not_know_are_refused():
    record = new_record()
    with pytest.raises(UnknownEventError):
        project(record, video_uploaded_event(record), now=at(1))


PIPELINE = [
    transcoder_completed(),
    transcript_ready(),
    sentiment_detected(analyzed_at=at(70), sentiment="NEGATIVE"),
    sentiment_detected(analyzed_at=at(71), sentiment="POSITIVE"),
    sentiment_failed(when=at(65)),
    no_speech(when=at(66)),
]


@settings(max_examples=60, deadline=None)
@given(st.permutations(PIPELINE), st.lists(st.sampled_from(PIPELINE), max_size=4))
def test_final_state_does_not_depend_on_order_or_repeats(order, repeats):
    # Given any delivery order with duplicates, Then the record equals the in-order projection
    expected = apply_all(new_record(), PIPELINE)
    actual = apply_all(new_record(), [*order, *repeats])
    ignore = {"trail", "updated_at"}
    assert actual.model_dump(exclude=ignore) == expected.model_dump(exclude=ignore)
    assert set(actual.trail) == set(expected.trail)
    assert actual.sentiment == "POSITIVE" and actual.analyzed_at == at(71)
    assert actual.updated_at - T0 < timedelta(hours=1)


# --- redelivery, archive replay and recomputed results ----------------------------------------------------

RECOMPUTED_SCORE = SentimentScore(Positive=0.05, Negative=0.81, Neutral=0.1, Mixed=0.04)


def test_a_redelivered_event_is_a_duplicate_and_writes_nothing():
    events = [transcoder_completed(), transcript_ready(), sentiment_detected()]
    analysed = apply_all(new_record(), events)
    for event in events:
        assert project(analysed, event, now=at(900)) == (ProjectionOutcome.DUPLICATE, None)


def test_a_recomputed_analysis_under_the_same_event_id_replaces_the_sentiment():
    # Given an answer analysed as MIXED
    original = sentiment_detected(analyzed_at=at(70), sentiment="MIXED")
    analysed = apply_all(new_record(), [transcoder_completed(), transcript_ready(), original])

    # When nlp re-announces the same event id with a later analysis (a replayed TranscriptReady)
    again = reanalysed(original, at(900), "NEGATIVE", RECOMPUTED_SCORE)
    outcome, record = project(analysed, again, now=at(901))

    # Then the recomputed sentiment stands, the trail keeps one entry for the id, and the status stays ANALYZED
    assert outcome is ProjectionOutcome.RECOMPUTED and record is not None
    assert (record.status, record.sentiment, record.sentiment_score, record.analyzed_at) == (
        Status.ANALYZED,
        "NEGATIVE",
        RECOMPUTED_SCORE,
        at(900),
    )
    assert len(record.trail) == len(analysed.trail)
    assert record.trail[original.metadata.event_id].occurred_at == at(900)
    # And the original, delivered late once more, changes nothing
    assert project(record, original, now=at(902)) == (ProjectionOutcome.DUPLICATE, None)


def test_a_replayed_milestone_never_moves_the_status_back():
    transcoded = transcoder_completed()
    analysed = apply_all(new_record(), [transcoded, transcript_ready(), sentiment_detected()])
    assert project(analysed, transcoded, now=at(900)) == (ProjectionOutcome.DUPLICATE, None)
    # an unseen milestone of the same attempt enters the trail but the status stays
    late = project(analysed, transcoder_completed(event_id="late-milestone"), now=at(900))[1]
    assert late is not None and late.status is Status.ANALYZED and "late-milestone" in late.trail


ORIGINAL = sentiment_detected(analyzed_at=at(70), sentiment="NEGATIVE")
VERSIONS = [
    ORIGINAL,
    reanalysed(ORIGINAL, at(200), "POSITIVE", RECOMPUTED_SCORE),
    reanalysed(ORIGINAL, at(300), "NEUTRAL", RECOMPUTED_SCORE),
]


@given(st.lists(st.sampled_from([*VERSIONS, transcoder_completed(), transcript_ready()]), min_size=1, max_size=8))
def test_the_latest_version_of_a_reannounced_analysis_stands_whatever_the_order(deliveries):
    record = apply_all(new_record(), deliveries)
    latest = max((e for e in deliveries if e in VERSIONS), key=lambda e: e.data.analyzed_at, default=None)
    if latest is None:
        assert record.sentiment is None
        return
    assert (record.status, record.sentiment, record.analyzed_at) == (
        Status.ANALYZED,
        latest.data.sentiment,
        latest.data.analyzed_at,
    )
    assert record.trail[ORIGINAL.metadata.event_id].occurred_at == latest.metadata.occurred_at
    assert len(record.trail) == len({e.metadata.event_id for e in deliveries})
