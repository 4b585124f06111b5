"""No transcript text and no email address ever reaches the logs (issue 8, item 5), on every path."""

from __future__ import annotations

import itertools
import json
import traceback
from collections.abc import Callable
from typing import Any

import pytest
from botocore.stub import ANY

from nlp.domain.errors import SentimentServiceError

from .conftest import Logs, Stack, load_delivery

EMAIL = "quentin.zebrowski@example.org"
# Words no log line has a reason to contain, and an email address, as Transcribe would write them.
SENTENCE = f"Quentin Zebrowski swears the periwinkle submarine leaks marmalade, so write to {EMAIL} today. "
LONG = SENTENCE * 60  # 6,360 bytes: two Comprehend documents, so the batch path runs
SCORES = {"Positive": 0.1, "Negative": 0.7, "Neutral": 0.1, "Mixed": 0.1}


def _document(text: str) -> bytes:
    return json.dumps(
        {"jobName": "vidsense.test.job", "status": "COMPLETED", "results": {"transcripts": [{"transcript": text}]}}
    ).encode()


def _english(stack: Stack) -> None:
    stack.comprehend.add_response(
        "detect_sentiment", {"Sentiment": "NEGATIVE", "SentimentScore": SCORES}, {"Text": ANY, "LanguageCode": "en"}
    )


def _batch_with_a_failed_document(stack: Stack) -> None:
    # Document 1 fails in the batch: the adapter logs that and asks for it alone
    result = {"Index": 0, "Sentiment": "NEGATIVE", "SentimentScore": SCORES}
    error = {"Index": 1, "ErrorCode": "INTERNAL_SERVER_ERROR", "ErrorMessage": "Internal server error"}
    stack.comprehend.add_response(
        "batch_detect_sentiment",
        {"ResultList": [result], "ErrorList": [error]},
        {"TextList": ANY, "LanguageCode": "en"},
    )
    stack.comprehend.add_response(
        "detect_sentiment", {"Sentiment": "NEGATIVE", "SentimentScore": SCORES}, {"Text": ANY, "LanguageCode": "en"}
    )


def _comprehend_rejects(stack: Stack) -> None:
    stack.comprehend.add_client_error("detect_sentiment", "InvalidRequestException", "Invalid document", 400)


def _comprehend_throttles(stack: Stack) -> None:
    stack.comprehend.add_client_error("detect_sentiment", "ThrottlingException", "Rate exceeded", 400)


def _nothing(stack: Stack) -> None:
    pass


CASES: dict[str, tuple[bytes, str, Callable[[Stack], None], str]] = {
    # name: (transcript object, language, Comprehend's answers, outcome)
    "english": (_document(SENTENCE), "en-US", _english, "SentimentDetected"),
    "batch": (_document(LONG), "en-US", _batch_with_a_failed_document, "SentimentDetected"),
    "unsupported language": (_document(SENTENCE), "sv-SE", _nothing, "SentimentFailed"),
    "comprehend rejects": (_document(SENTENCE), "en-US", _comprehend_rejects, "SentimentFailed"),
    "truncated json": (_document(SENTENCE)[:-20], "en-US", _nothing, "SentimentFailed"),
    "wrong shape": (
        json.dumps(
            {"jobName": "j", "results": {"transcripts": [{"transcript": SENTENCE}], "items": [SENTENCE]}}
        ).encode(),
        "en-US",
        _nothing,
        "SentimentFailed",
    ),
    "throttled": (_document(SENTENCE), "en-US", _comprehend_throttles, "raises"),
}


def _leaks(text: str, log: str) -> list[str]:
    """Every pair of consecutive words, every word of 6 letters or more, and the email, found in ``log``."""
    words = text.split()
    pieces = {f"{a} {b}" for a, b in itertools.pairwise(words)}
    pieces |= {word.strip(".,") for word in words if len(word.strip(".,")) >= 6}
    pieces |= {EMAIL, EMAIL.split("@", maxsplit=1)[0]}
    lowered = log.lower()
    return sorted(piece for piece in pieces if piece.lower() in lowered)


def test_leak_check_finds_a_sentence_fragment():
    # The check itself must be able to fail
    assert _leaks(SENTENCE, '{"message": "note", "text": "the Periwinkle submarine"}') == [
        "periwinkle",
        "periwinkle submarine",
        "submarine",
        "the periwinkle",
    ]
    assert _leaks(SENTENCE, '{"message": "transcript analyzed", "outcome": "SentimentDetected"}') == []


@pytest.mark.parametrize("case", list(CASES))
def test_no_transcript_words_or_email_in_the_logs(stack: Stack, logs: Logs, case: str):
    body, language, comprehend, outcome = CASES[case]
    # Given a transcript with a distinctive sentence and an email address
    delivery = load_delivery("en-US")
    delivery["detail"]["data"]["language_code"] = language
    stack.put_transcript(delivery["detail"]["data"]["transcript"]["key"], body)
    comprehend(stack)
    # When the handler runs (and, where it succeeds, the same event is delivered again and replayed)
    printed: list[str] = []
    if outcome == "raises":
        with pytest.raises(SentimentServiceError) as raised:
            stack.invoke(delivery)
        printed.append("".join(traceback.format_exception(raised.value)))  # what the Lambda runtime logs
        seen = "ThrottlingException"
    else:
        assert stack.invoke(delivery)["outcome"] == outcome
        assert stack.invoke(delivery)["outcome"] == "Duplicate"
        seen = delivery["detail"]["metadata"]["event_id"]
    # Then the logs (and any error the runtime would print) hold no word sequence of it and no email
    log = logs.text() + "\n".join(printed)
    assert seen in log  # the capture did see what the function logged
    assert _leaks(SENTENCE, log) == []


def test_replay_logs_hold_no_transcript_words(stack: Stack, logs: Logs):
    delivery: dict[str, Any] = {**load_delivery("en-US"), "replay-name": "privacy-check"}
    stack.put_transcript(delivery["detail"]["data"]["transcript"]["key"], _document(SENTENCE))
    _english(stack)
    stack.invoke(delivery)
    log = logs.text()
    assert "privacy-check" in log
    assert _leaks(SENTENCE, log) == []
