"""The Comprehend adapter against botocore's Stubber (which checks requests against the service model)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from nlp.adapters.comprehend import ComprehendSentimentDetector
from nlp.domain.errors import AnalysisRejected, SentimentServiceError, UnsupportedLanguage
from nlp.domain.scoring import Scores, Sentiment


def _result(label: str, p: float, n: float, u: float, m: float, index: int | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "Sentiment": label,
        "SentimentScore": {"Positive": p, "Negative": n, "Neutral": u, "Mixed": m},
    }
    if index is not None:
        result["Index"] = index
    return result


@pytest.fixture
def stubbed() -> Iterator[tuple[ComprehendSentimentDetector, Stubber]]:
    client = boto3.client(
        "comprehend", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with Stubber(client) as stubber:
        yield ComprehendSentimentDetector(client), stubber
        stubber.assert_no_pending_responses()


def test_detect_sends_text_and_language_and_reads_scores(stubbed):
    detector, stubber = stubbed
    stubber.add_response(
        "detect_sentiment",
        _result("POSITIVE", 0.9876, 0.0012, 0.0101, 0.0011),
        {"Text": "I loved it.", "LanguageCode": "en"},
    )
    assert detector.detect("I loved it.", "en") == Sentiment("POSITIVE", Scores(0.9876, 0.0012, 0.0101, 0.0011))


def test_batch_keeps_input_order_even_when_results_come_unordered(stubbed):
    detector, stubber = stubbed
    stubber.add_response(
        "batch_detect_sentiment",
        {
            "ResultList": [
                _result("NEGATIVE", 0.01, 0.97, 0.01, 0.01, index=1),
                _result("POSITIVE", 0.95, 0.01, 0.03, 0.01, index=0),
            ],
            "ErrorList": [],
        },
        {"TextList": ["Great team.", "Awful commute."], "LanguageCode": "fr"},
    )
    labels = [s.label for s in detector.detect_batch(["Great team.", "Awful commute."], "fr")]
    assert labels == ["POSITIVE", "NEGATIVE"]


def test_failed_batch_document_is_retried_alone(stubbed):
    # Given a batch where Comprehend reports an item error for document 1
    detector, stubber = stubbed
    stubber.add_response(
        "batch_detect_sentiment",
        {
            "ResultList": [_result("POSITIVE", 0.95, 0.01, 0.03, 0.01, index=0)],
            "ErrorList": [{"Index": 1, "ErrorCode": "INTERNAL_SERVER_ERROR", "ErrorMessage": "Unknown error"}],
        },
        {"TextList": ["one.", "two."], "LanguageCode": "en"},
    )
    # Then that document alone is sent again with DetectSentiment
    stubber.add_response(
        "detect_sentiment", _result("NEUTRAL", 0.1, 0.1, 0.79, 0.01), {"Text": "two.", "LanguageCode": "en"}
    )
    assert [s.label for s in detector.detect_batch(["one.", "two."], "en")] == ["POSITIVE", "NEUTRAL"]


def test_failed_batch_document_that_fails_again_with_a_permanent_error_rejects(stubbed):
    detector, stubber = stubbed
    stubber.add_response(
        "batch_detect_sentiment",
        {"ResultList": [], "ErrorList": [{"Index": 0, "ErrorCode": "400", "ErrorMessage": "invalid"}]},
        {"TextList": ["\u00a0x"], "LanguageCode": "en"},
    )
    stubber.add_client_error(
        "detect_sentiment", "InvalidRequestException", "Invalid document", 400, expected_params=None
    )
    with pytest.raises(AnalysisRejected) as caught:
        detector.detect_batch(["\u00a0x"], "en")
    assert caught.value.code == "InvalidRequestException"


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("UnsupportedLanguageException", 400, UnsupportedLanguage),
        ("TextSizeLimitExceededException", 400, AnalysisRejected),
        ("InvalidRequestException", 400, AnalysisRejected),
        ("ThrottlingException", 400, SentimentServiceError),
        ("InternalServerException", 500, SentimentServiceError),
        ("AccessDeniedException", 400, SentimentServiceError),
    ],
)
def test_client_errors_map_to_permanent_or_retryable(stubbed, code, status, expected):
    detector, stubber = stubbed
    stubber.add_client_error("detect_sentiment", code, "message from Comprehend", status)
    with pytest.raises(expected) as caught:
        detector.detect("text.", "en")
    if isinstance(caught.value, AnalysisRejected):
        assert caught.value.code in (code, "UnsupportedLanguage")
        assert caught.value.message == "message from Comprehend"


def test_batch_errors_map_the_same_way(stubbed):
    detector, stubber = stubbed
    stubber.add_client_error("batch_detect_sentiment", "UnsupportedLanguageException", "no sv", 400)
    with pytest.raises(UnsupportedLanguage):
        detector.detect_batch(["a.", "b."], "en")


def test_batch_without_a_result_for_a_document_raises(stubbed):
    detector, stubber = stubbed
    stubber.add_response(
        "batch_detect_sentiment",
        {"ResultList": [_result("POSITIVE", 0.9, 0.03, 0.06, 0.01, index=0)], "ErrorList": []},
        {"TextList": ["a.", "b."], "LanguageCode": "en"},
    )
    with pytest.raises(SentimentServiceError, match=r"\[1\]"):
        detector.detect_batch(["a.", "b."], "en")


@pytest.mark.parametrize("size", [0, 26])
def test_batch_sizes_outside_comprehends_limit_are_refused_before_calling(stubbed, size):
    detector, _ = stubbed
    with pytest.raises(ValueError, match="1 to 25"):
        detector.detect_batch(["x."] * size, "en")
