"""Comprehend stand-in through boto3: VADER's verdict on the sample texts as Comprehend's labels and scores, and
Comprehend's limits as its modelled exceptions."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.integration.standins.conftest import Endpoint, manifest
from vidsense_local.clients import local_client

LABELLED = [f for f in manifest() if f["expected_label"]]


def assert_scores(answer: dict[str, Any], label: str) -> None:
    scores = answer["SentimentScore"]
    assert set(scores) == {"Positive", "Negative", "Neutral", "Mixed"}
    assert sum(scores.values()) == pytest.approx(1.0, abs=1e-4)
    assert all(0.0 < v < 1.0 for v in scores.values())
    assert answer["Sentiment"] == label
    assert max(scores, key=scores.__getitem__).upper() == label


@pytest.mark.parametrize("sample", LABELLED, ids=lambda f: f["file"])
def test_detect_sentiment_gives_the_expected_label(endpoint: Endpoint, sample: dict[str, Any]) -> None:
    answer = endpoint.client("comprehend").detect_sentiment(Text=sample["text"], LanguageCode="en")
    assert_scores(answer, sample["expected_label"])


def test_batch_keeps_indexes_and_reports_bad_documents_in_error_list(endpoint: Endpoint) -> None:
    texts = [f["text"] for f in LABELLED[:4]]
    answer = endpoint.client("comprehend").batch_detect_sentiment(
        TextList=[texts[0], "   ", texts[1], texts[2], texts[3]], LanguageCode="en"
    )
    assert [r["Index"] for r in answer["ResultList"]] == [0, 2, 3, 4]
    for result, sample in zip(answer["ResultList"], LABELLED[:4], strict=True):
        assert_scores(result, sample["expected_label"])
    [error] = answer["ErrorList"]
    assert error["Index"] == 1
    assert error["ErrorCode"] and error["ErrorMessage"]


def test_limits_raise_comprehends_exceptions(endpoint: Endpoint) -> None:
    client = endpoint.client("comprehend")
    # 2,501 two-byte characters: under 5,000 characters, over 5,000 UTF-8 bytes.
    too_big = "é" * 2501
    with pytest.raises(client.exceptions.TextSizeLimitExceededException, match="5002 bytes"):
        client.detect_sentiment(Text=too_big, LanguageCode="en")
    assert client.detect_sentiment(Text="é" * 2500, LanguageCode="en")["Sentiment"] == "NEUTRAL"
    with pytest.raises(client.exceptions.TextSizeLimitExceededException):
        client.batch_detect_sentiment(TextList=["fine", too_big], LanguageCode="en")
    with pytest.raises(client.exceptions.BatchSizeLimitExceededException):
        client.batch_detect_sentiment(TextList=["good"] * 26, LanguageCode="en")
    assert len(client.batch_detect_sentiment(TextList=["good"] * 25, LanguageCode="en")["ResultList"]) == 25
    with pytest.raises(client.exceptions.UnsupportedLanguageException):
        client.detect_sentiment(Text="Bra jobbat", LanguageCode="sv")
    with pytest.raises(client.exceptions.InvalidRequestException) as caught:
        client.detect_sentiment(Text="   ", LanguageCode="en")
    assert caught.value.response["Reason"] == "INVALID_DOCUMENT"


def test_empty_text_is_a_validation_error(endpoint: Endpoint) -> None:
    # botocore refuses "" itself (the model's min length); a client that skips validation gets the service's answer.
    unvalidated = local_client("comprehend", endpoint.url, "us-east-1", config=Config(parameter_validation=False))
    with pytest.raises(ClientError) as caught:
        unvalidated.detect_sentiment(Text="", LanguageCode="en")
    assert caught.value.response["Error"]["Code"] == "ValidationException"


def test_other_supported_languages_are_answered(endpoint: Endpoint) -> None:
    # Accepted as AWS accepts them; scored with VADER's English lexicon (documented approximation).
    answer = endpoint.client("comprehend").detect_sentiment(Text="La reunión es el martes.", LanguageCode="es")
    assert_scores(answer, "NEUTRAL")
