"""Amazon Comprehend sentiment behind the domain's SentimentDetector port."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from nlp.domain.chunking import MAX_BATCH_SIZE
from nlp.domain.errors import AnalysisRejected, SentimentServiceError, UnsupportedLanguage
from nlp.domain.scoring import LABELS, Scores, Sentiment
from vidsense_shared.aws_errors import error_code, error_message
from vidsense_shared.observability import logger

# Errors that retrying the same document cannot fix: the answer fails with Comprehend's code.
_PERMANENT = frozenset({"InvalidRequestException", "TextSizeLimitExceededException", "BatchSizeLimitExceededException"})


class ComprehendSentimentDetector:
    def __init__(self, comprehend_client: Any) -> None:
        self._comprehend = comprehend_client

    def detect(self, text: str, language: str) -> Sentiment:
        try:
            response = self._comprehend.detect_sentiment(Text=text, LanguageCode=language)
        except ClientError as exc:
            raise _translate(exc) from exc
        return _sentiment(response)

    def detect_batch(self, texts: Sequence[str], language: str) -> list[Sentiment]:
        if not 0 < len(texts) <= MAX_BATCH_SIZE:
            raise ValueError(f"a batch holds 1 to {MAX_BATCH_SIZE} documents, not {len(texts)}")
        try:
            response = self._comprehend.batch_detect_sentiment(TextList=list(texts), LanguageCode=language)
        except ClientError as exc:
            raise _translate(exc) from exc
        results = {item["Index"]: _sentiment(item) for item in response.get("ResultList", [])}
        for error in response.get("ErrorList", []):
            index = error["Index"]
            # Per-document error codes are not documented, so ask again for that one document: its typed
            # exception tells a permanent rejection from a transient failure.
            logger.warning(
                "batch document failed, retrying alone",
                extra={"index": index, "error_code": error.get("ErrorCode")},
            )
            results[index] = self.detect(texts[index], language)
        missing = sorted(set(range(len(texts))) - set(results))
        if missing:
            raise SentimentServiceError(f"BatchDetectSentiment returned no result for documents {missing}")
        return [results[index] for index in range(len(texts))]


def _translate(exc: ClientError) -> Exception:
    code = error_code(exc) or "Unknown"
    message = error_message(exc)
    if code == "UnsupportedLanguageException":
        return UnsupportedLanguage(message or "Comprehend does not support this language")
    if code in _PERMANENT:
        return AnalysisRejected(code, message)
    # Throttling (after botocore's own retries), internal errors, access problems: Lambda retries, then DLQ.
    return SentimentServiceError(f"Comprehend {code}: {message}")


def _sentiment(result: Mapping[str, Any]) -> Sentiment:
    label = result["Sentiment"]
    if label not in LABELS:
        raise SentimentServiceError(f"unexpected sentiment label {label!r}")
    score = result["SentimentScore"]
    return Sentiment(
        label=label,
        scores=Scores(
            positive=float(score["Positive"]),
            negative=float(score["Negative"]),
            neutral=float(score["Neutral"]),
            mixed=float(score["Mixed"]),
        ),
    )
