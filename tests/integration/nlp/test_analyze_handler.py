"""analyzeSentiment end to end on moto: S3 transcript in, DynamoDB item and EventBridge event out."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.stub import ANY
from pydantic import ValidationError

from nlp.domain.errors import SentimentServiceError
from tests.fixtures.nlp.generate import items_for, job_name
from vidsense_shared import aws
from vidsense_shared.bus import PublishError
from vidsense_shared.consume import UnexpectedEventError
from vidsense_shared.events import derived_event_id, parse_detail

from .conftest import FIXTURES, TRANSCRIPT_RETENTION_DAYS, Logs, Stack, load_delivery

MAX_BYTES = 5000
# 99 characters and a space: 50 of them make a 4,999-byte document, so N sentences make N / 50 documents.
SENTENCE_100 = "The mentors were patient, the tooling was decent and the onboarding plan was clear to follow today. "
assert len(SENTENCE_100.encode()) == 100


def _score(label: str) -> dict[str, float]:
    high = {"POSITIVE": "Positive", "NEGATIVE": "Negative", "NEUTRAL": "Neutral", "MIXED": "Mixed"}[label]
    scores = {"Positive": 0.02, "Negative": 0.02, "Neutral": 0.02, "Mixed": 0.02}
    scores[high] = 0.94
    return scores


def _single(label: str) -> dict[str, Any]:
    return {"Sentiment": label, "SentimentScore": _score(label)}


def _batch(labels: list[str]) -> dict[str, Any]:
    return {
        "ResultList": [{"Index": i, **_single(label)} for i, label in enumerate(labels)],
        "ErrorList": [],
    }


def _long_transcript(sentence: str, count: int, attempt: int = 1) -> bytes:
    """Transcribe output for ``sentence`` spoken ``count`` times (items built once, then shifted in time)."""
    one, _ = items_for(sentence)
    period = float(one[-2]["end_time"]) + 0.3 if len(one) > 1 else 1.0
    items = []
    for n in range(count):
        for item in one:
            copy = {**item, "id": n * len(one) + item["id"]}
            if "start_time" in item:
                copy["start_time"] = f"{float(item['start_time']) + n * period:.2f}"
                copy["end_time"] = f"{float(item['end_time']) + n * period:.2f}"
            items.append(copy)
    text = (sentence * count).strip()
    document = {
        "jobName": job_name(attempt),
        "accountId": "123456789012",
        "status": "COMPLETED",
        "results": {"transcripts": [{"transcript": text}], "items": items},
    }
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _fixture_text(name: str) -> str:
    document = json.loads((FIXTURES / f"transcript-{name}.json").read_text(encoding="utf-8"))
    text: str = document["results"]["transcripts"][0]["transcript"]
    return text


def _only(events: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(events) == 1, events
    return events[0]


def test_english_answer_is_stored_and_announced(stack: Stack):
    # Given the English transcript in the work bucket and its TranscriptReady delivery
    delivery = load_delivery("en-US")
    stack.put_fixture_transcript(delivery, "en-US")
    text = _fixture_text("en-US")
    stack.comprehend.add_response("detect_sentiment", _single("POSITIVE"), {"Text": text, "LanguageCode": "en"})
    # When the handler runs
    result = stack.invoke(delivery)
    # Then Comprehend got the whole text in English, once
    assert [name for name, _ in stack.comprehend_requests] == ["DetectSentiment"]
    cause = delivery["detail"]
    answer = cause["data"]
    answer_id = cause["metadata"]["correlation_id"]
    # And the metadata item keeps the seed's attributes plus the answer's identity
    item = stack.item(answer_id)
    assert item is not None
    assert item["JsonFile"] == f"s3://{answer['transcript']['bucket']}/{answer['transcript']['key']}"
    assert item["transcript"] == text
    assert item["Sentiment"] == "POSITIVE"
    assert item["SentimentScore"] == {
        "Positive": Decimal("0.94"),
        "Negative": Decimal("0.02"),
        "Neutral": Decimal("0.02"),
        "Mixed": Decimal("0.02"),
    }
    assert item["language"] == "en-US" and item["comprehend_language"] == "en"
    assert item["answer_key"] == f"{answer_id}.webm"
    assert (item["project"], item["step"], item["user_key"], item["attempt"]) == (
        answer["project"],
        answer["step"],
        answer["user_key"],
        Decimal(1),
    )
    assert item["analyzed_at"].endswith("+00:00")
    assert item["transcript_truncated"] is False
    # And one SentimentDetected went out on the bus, chained to its cause
    event = _only(stack.published())
    assert event["detail-type"] == "SentimentDetected" and event["source"] == "vidsense.nlp"
    detected = parse_detail("SentimentDetected", event["detail"])
    assert detected.metadata.event_id == derived_event_id(cause["metadata"]["event_id"], "SentimentDetected")
    assert detected.metadata.correlation_id == answer_id
    assert detected.metadata.causation_id == cause["metadata"]["event_id"]
    data = event["detail"]["data"]
    assert data["sentiment"] == "POSITIVE"
    assert data["sentiment_score"] == {"Positive": 0.94, "Negative": 0.02, "Neutral": 0.02, "Mixed": 0.02}
    assert data["transcript"] == answer["transcript"]
    assert data["language_code"] == "en-US"
    assert data["analyzed_at"].replace("Z", "+00:00") == item["analyzed_at"]
    assert result == {"outcome": "SentimentDetected", "event_id": detected.metadata.event_id}


def test_20kb_multibyte_answer_uses_batch_and_weights_by_size(stack: Stack):
    # Given a 20 KB transcript mixing English, accents, emoji and CJK
    delivery = load_delivery("multibyte-20kb")
    stack.put_fixture_transcript(delivery, "multibyte-20kb")
    text = _fixture_text("multibyte-20kb")
    labels = ["NEGATIVE", "POSITIVE", "NEGATIVE", "POSITIVE", "POSITIVE", "NEGATIVE"]
    stack.comprehend.add_response("batch_detect_sentiment", _batch(labels), {"TextList": ANY, "LanguageCode": "en"})
    # When analyzed
    stack.invoke(delivery)
    # Then one BatchDetectSentiment call carried all of it, in documents of at most 5,000 bytes
    [(operation, request)] = stack.comprehend_requests
    assert operation == "BatchDetectSentiment"
    documents = request["TextList"]
    sizes = [len(d.encode("utf-8")) for d in documents]
    assert len(documents) == len(labels)
    assert all(0 < size <= MAX_BYTES for size in sizes)
    assert _squeeze("".join(documents)) == _squeeze(text)
    # And the label is the highest size-weighted score
    positive_share = sum(s for s, label in zip(sizes, labels, strict=True) if label == "POSITIVE") / sum(sizes)
    expected_positive = positive_share * 0.94 + (1 - positive_share) * 0.02
    data = _only(stack.published())["detail"]["data"]
    assert data["sentiment_score"]["Positive"] == pytest.approx(expected_positive)
    assert data["sentiment"] == ("POSITIVE" if positive_share > 0.5 else "NEGATIVE")
    item = stack.item(delivery["detail"]["metadata"]["correlation_id"])
    assert item is not None and item["transcript"] == text and item["chunk_count"] == len(labels)


def test_more_than_25_documents_take_two_batch_calls(stack: Stack):
    # Given 150 KB of speech: 1,500 sentences of 100 bytes, i.e. 30 documents of 50 sentences
    delivery = load_delivery("en-US")
    stack.put_transcript(delivery["detail"]["data"]["transcript"]["key"], _long_transcript(SENTENCE_100, 1500))
    stack.comprehend.add_response(
        "batch_detect_sentiment", _batch(["POSITIVE"] * 25), {"TextList": ANY, "LanguageCode": "en"}
    )
    stack.comprehend.add_response(
        "batch_detect_sentiment", _batch(["NEUTRAL"] * 5), {"TextList": ANY, "LanguageCode": "en"}
    )
    stack.invoke(delivery)
    # Then the documents went out as 25 + 5, each of at most 5,000 bytes
    lists = [request["TextList"] for _, request in stack.comprehend_requests]
    assert [len(texts) for texts in lists] == [25, 5]
    assert all(len(doc.encode()) == 4999 for texts in lists for doc in texts)
    assert _only(stack.published())["detail"]["data"]["sentiment"] == "POSITIVE"


def test_empty_transcript_is_no_speech_without_comprehend(stack: Stack):
    delivery = load_delivery("empty")
    stack.put_fixture_transcript(delivery, "empty")
    result = stack.invoke(delivery)
    assert stack.comprehend_requests == []
    event = _only(stack.published())
    assert event["detail-type"] == "NoSpeechDetected"
    assert event["detail"]["metadata"]["event_id"] == derived_event_id(
        delivery["detail"]["metadata"]["event_id"], "NoSpeechDetected"
    )
    item = stack.item(delivery["detail"]["metadata"]["correlation_id"])
    assert item is not None
    assert item["Sentiment"] is None and item["SentimentScore"] is None and item["transcript"] == ""
    assert item["attempt"] == 3
    assert result["outcome"] == "NoSpeechDetected"


def test_spanish_answer_is_analyzed_in_spanish(stack: Stack):
    delivery = load_delivery("es-ES")
    stack.put_fixture_transcript(delivery, "es-ES")
    stack.comprehend.add_response(
        "detect_sentiment", _single("MIXED"), {"Text": _fixture_text("es-ES"), "LanguageCode": "es"}
    )
    stack.invoke(delivery)
    assert _only(stack.published())["detail"]["data"]["sentiment"] == "MIXED"


def test_swedish_answer_fails_as_unsupported_language(stack: Stack):
    # Given a Swedish transcript: Comprehend has no Swedish sentiment model
    delivery = load_delivery("sv-SE")
    stack.put_fixture_transcript(delivery, "sv-SE")
    result = stack.invoke(delivery)
    # Then the answer fails clearly, without a Comprehend call or a stored result
    assert stack.comprehend_requests == []
    event = _only(stack.published())
    assert event["detail-type"] == "SentimentFailed"
    assert event["detail"]["data"]["error_code"] == "UnsupportedLanguage"
    assert event["detail"]["data"]["language_code"] == "sv-SE"
    assert event["detail"]["metadata"]["causation_id"] == delivery["detail"]["metadata"]["event_id"]
    # And the item records the failure (no sentiment), marked as announced
    item = stack.item(delivery["detail"]["metadata"]["correlation_id"])
    assert item is not None and item["Sentiment"] is None and item["SentimentScore"] is None
    assert (item["outcome"], item["error_code"]) == ("SentimentFailed", "UnsupportedLanguage")
    assert item["published_event_id"] == event["detail"]["metadata"]["event_id"]
    assert result["outcome"] == "SentimentFailed"


def test_comprehend_unsupported_language_exception_fails_the_answer(stack: Stack):
    delivery = load_delivery("en-US")
    stack.put_fixture_transcript(delivery, "en-US")
    stack.comprehend.add_client_error(
        "detect_sentiment", "UnsupportedLanguageException", "Amazon Comprehend can't process the language", 400
    )
    stack.invoke(delivery)
    data = _only(stack.published())["detail"]["data"]
    assert data["error_code"] == "UnsupportedLanguage"
    assert "can't process" in data["error_message"]


def test_malformed_transcript_fails_the_answer(stack: Stack):
    delivery = load_delivery("en-US")
    stack.put_fixture_transcript(delivery, "malformed")
    stack.invoke(delivery)
    assert _only(stack.published())["detail"]["data"]["error_code"] == "TranscriptMalformed"
    assert stack.comprehend_requests == []


def test_throttling_raises_so_lambda_retries(stack: Stack):
    delivery = load_delivery("en-US")
    stack.put_fixture_transcript(delivery, "en-US")
    stack.comprehend.add_client_error("detect_sentiment", "ThrottlingException", "Rate exceeded", 400)
    with pytest.raises(SentimentServiceError, match="ThrottlingException"):
        stack.invoke(delivery)
    assert stack.published() == []
    assert stack.item(delivery["detail"]["metadata"]["correlation_id"]) is None


def test_missing_transcript_object_fails_the_answer(stack: Stack):
    # No retry can bring back an object S3 says does not exist: the answer fails with the reason.
    delivery = load_delivery("en-US")
    result = stack.invoke(delivery)
    data = _only(stack.published())["detail"]["data"]
    assert (data["error_code"], data["retryable"]) == ("TranscriptMissing", False)
    assert "NoSuchKey" in data["error_message"] and data["transcript"]["key"] in data["error_message"]
    assert stack.comprehend_requests == []
    item = stack.item(delivery["detail"]["metadata"]["correlation_id"])
    assert item is not None and (item["outcome"], item["error_code"]) == ("SentimentFailed", "TranscriptMissing")
    assert result["outcome"] == "SentimentFailed"


def test_older_attempt_never_overwrites_a_newer_one(stack: Stack):
    # Given attempt 4 (Spanish) of the answer already analyzed
    newer = load_delivery("es-ES")
    stack.put_fixture_transcript(newer, "es-ES")
    stack.comprehend.add_response("detect_sentiment", _single("POSITIVE"), {"Text": ANY, "LanguageCode": "es"})
    stack.invoke(newer)
    stack.published()
    # When attempt 1 of the same answer arrives late
    older = load_delivery("en-US")
    stack.put_fixture_transcript(older, "en-US")
    result = stack.invoke(older)
    # Then Comprehend is not asked for the stale attempt (the Stubber has nothing queued)
    assert [request["LanguageCode"] for _, request in stack.comprehend_requests] == ["es"]
    # And the stored result stays attempt 4 and nothing stale is announced
    item = stack.item(newer["detail"]["metadata"]["correlation_id"])
    assert item is not None and item["attempt"] == 4 and item["Sentiment"] == "POSITIVE"
    assert stack.published() == []
    assert result == {"outcome": "Superseded", "event_id": None}


def test_duplicate_delivery_calls_nothing_and_emits_nothing(stack: Stack):
    # Given an answer analyzed and announced
    delivery = load_delivery("en-US")
    stack.put_fixture_transcript(delivery, "en-US")
    stack.comprehend.add_response("detect_sentiment", _single("POSITIVE"), {"Text": ANY, "LanguageCode": "en"})
    stack.invoke(delivery)
    announced = _only(stack.published())
    answer_id = delivery["detail"]["metadata"]["correlation_id"]
    before = stack.item(answer_id)
    assert before is not None and before["published_event_id"] == announced["detail"]["metadata"]["event_id"]
    # When EventBridge delivers the same event again (new delivery id, no replay-name)
    again = {**load_delivery("en-US"), "id": "3a9f0c7e-6b1d-4e2a-9c8b-5d4e3f2a1b0c"}
    result = stack.invoke(again)
    # Then Comprehend is not called (the Stubber has nothing queued), nothing is emitted, the item is as it was
    assert result == {"outcome": "Duplicate", "event_id": None}
    assert [name for name, _ in stack.comprehend_requests] == ["DetectSentiment"]
    assert stack.published() == []
    assert stack.item(answer_id) == before


def test_publish_failure_after_store_is_published_once_on_retry(stack: Stack):
    # Given the bus failing the first PutEvents after the result was stored
    delivery = load_delivery("en-US")
    stack.put_fixture_transcript(delivery, "en-US")
    stack.comprehend.add_response("detect_sentiment", _single("NEGATIVE"), {"Text": ANY, "LanguageCode": "en"})
    events_client = aws.client("events")
    failures = [1]

    def fail_once(**_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if not failures:
            return None
        failures.pop()
        error = {"Error": {"Code": "InternalException", "Message": "try again"}, "ResponseMetadata": {}}
        return AWSResponse("https://events", 500, HTTPHeaders(), None), error

    events_client.meta.events.register_first("before-call.events.PutEvents", fail_once)
    try:
        with pytest.raises(PublishError, match="InternalException"):
            stack.invoke(delivery)
        answer_id = delivery["detail"]["metadata"]["correlation_id"]
        stored = stack.item(answer_id)
        assert stored is not None and stored["Sentiment"] == "NEGATIVE" and "published_event_id" not in stored
        assert stack.published() == []
        # When Lambda retries the delivery
        result = stack.invoke(delivery)
    finally:
        events_client.meta.events.unregister("before-call.events.PutEvents", fail_once)
    # Then the stored result is announced once, under the derived id, without a second Comprehend call
    event = _only(stack.published())
    expected_id = derived_event_id(delivery["detail"]["metadata"]["event_id"], "SentimentDetected")
    assert result == {"outcome": "SentimentDetected", "event_id": expected_id}
    assert event["detail"]["metadata"]["event_id"] == expected_id
    assert event["detail"]["data"]["sentiment"] == "NEGATIVE"
    assert event["detail"]["data"]["analyzed_at"].replace("Z", "+00:00") == stored["analyzed_at"]
    assert len(stack.comprehend_requests) == 1
    marked = stack.item(answer_id)
    assert marked is not None and marked["published_event_id"] == expected_id
    # And a further delivery is a duplicate
    assert stack.invoke(delivery)["outcome"] == "Duplicate" and stack.published() == []


def test_replay_recomputes_overwrites_and_repeats_the_event_id(stack: Stack, logs: Logs):
    # Given an answer analyzed as POSITIVE
    delivery = load_delivery("en-US")
    stack.put_fixture_transcript(delivery, "en-US")
    answer_id = delivery["detail"]["metadata"]["correlation_id"]
    stack.comprehend.add_response("detect_sentiment", _single("POSITIVE"), {"Text": ANY, "LanguageCode": "en"})
    stack.invoke(delivery)
    original = _only(stack.published())
    first = stack.item(answer_id)
    assert first is not None
    # When the archive replays that TranscriptReady twice (new delivery ids, replay-name set)
    analyzed_at = [first["analyzed_at"]]
    for n, label in enumerate(("NEGATIVE", "MIXED"), start=1):
        stack.comprehend.add_response("detect_sentiment", _single(label), {"Text": ANY, "LanguageCode": "en"})
        replayed = {**load_delivery("en-US"), "id": f"7d2c9b1e-0f3a-4c5d-8e6f-a1b2c3d4e5f{n}", "replay-name": "fix-1"}
        assert stack.invoke(replayed)["outcome"] == "SentimentDetected"
        item = stack.item(answer_id)
        # Then each replay recomputed and overwrote the stored result with a newer analysis time
        assert item is not None and item["Sentiment"] == label and item["attempt"] == 1
        assert item["analyzed_at"] > analyzed_at[-1]
        analyzed_at.append(item["analyzed_at"])
        # And announced it under the original's id, carrying the new analysis
        event = _only(stack.published())
        assert event["detail"]["metadata"]["event_id"] == original["detail"]["metadata"]["event_id"]
        assert event["detail"]["data"]["sentiment"] == label
        assert event["detail"]["data"]["analyzed_at"].replace("Z", "+00:00") == item["analyzed_at"]
    assert len(stack.comprehend_requests) == 3
    # And each replay was logged as one, with its name
    replays = [line for line in logs.lines() if line["message"] == "transcript reanalyzed for a replay"]
    assert [line["replay_name"] for line in replays] == ["fix-1", "fix-1"]
    assert {line["outcome"] for line in replays} == {"SentimentDetected"}


def test_transcript_beyond_dynamodb_item_limit_is_truncated_and_flagged(stack: Stack):
    # Given a Japanese answer of 456 KB: 8,000 sentences of 57 bytes, 87 to a 4,959-byte document (92 in all)
    sentence = "私はこのプロジェクトがとても好きです。"
    assert len(sentence.encode()) == 57
    delivery = load_delivery("en-US")
    delivery["detail"]["data"]["language_code"] = "ja-JP"
    stack.put_transcript(delivery["detail"]["data"]["transcript"]["key"], _long_transcript(sentence, 8000))
    for size in (25, 25, 25, 17):
        stack.comprehend.add_response(
            "batch_detect_sentiment", _batch(["POSITIVE"] * size), {"TextList": ANY, "LanguageCode": "ja"}
        )
    stack.invoke(delivery)
    # Then every document stayed within Comprehend's limit, whole sentences each
    documents = [doc for _, request in stack.comprehend_requests for doc in request["TextList"]]
    assert len(documents) == 92 and all(len(doc.encode()) <= MAX_BYTES for doc in documents)
    assert all(doc.endswith(sentence) for doc in documents)
    # And moto (which enforces the item limit) stored the transcript cut to fit, flagged, full size noted
    item = stack.item(delivery["detail"]["metadata"]["correlation_id"])
    assert item is not None
    assert item["transcript_truncated"] is True
    assert item["transcript_bytes"] == 8000 * 57
    stored = len(item["transcript"].encode())
    assert 390_000 < stored < 400_000
    assert (sentence * 8000).startswith(item["transcript"])
    assert item["language"] == "ja-JP" and item["comprehend_language"] == "ja"
    assert _only(stack.published())["detail"]["data"]["sentiment"] == "POSITIVE"


def test_delivery_of_another_event_is_refused(stack: Stack):
    delivery = load_delivery("en-US")
    delivery["detail-type"] = "TranscriptionFailed"
    with pytest.raises(UnexpectedEventError):
        stack.invoke(delivery)
    broken = load_delivery("en-US")
    del broken["detail"]["data"]["transcript"]
    with pytest.raises(ValidationError):
        stack.invoke(broken)


def test_the_stored_transcript_text_expires_with_the_transcript_objects(stack: Stack):
    # Given a stage that keeps transcripts TRANSCRIPT_RETENTION_DAYS days (the function's environment)
    delivery = load_delivery("en-US")
    stack.put_fixture_transcript(delivery, "en-US")
    stack.comprehend.add_response("detect_sentiment", _single("POSITIVE"), {"Text": ANY, "LanguageCode": "en"})
    # When the answer is analyzed
    stack.invoke(delivery)
    # Then its item, which holds the transcript text, carries the table's TTL: analysis time + the retention
    item = stack.item(delivery["detail"]["metadata"]["correlation_id"])
    assert item is not None and item["transcript"]
    analyzed_at = datetime.fromisoformat(item["analyzed_at"])
    assert item["expires_at"] == Decimal(int((analyzed_at + timedelta(days=TRANSCRIPT_RETENTION_DAYS)).timestamp()))
