"""Amazon Comprehend stand-in (JSON 1.1, ``X-Amz-Target: Comprehend_20171127.<Operation>``): DetectSentiment and
BatchDetectSentiment answered by VADER mapped to Comprehend's four labels (``engines.sentiment``), with
Comprehend's limits: 5,000 UTF-8 bytes per document, 25 documents per batch, its language list.

VADER is an English lexicon. Texts in Comprehend's other sentiment languages are accepted (as AWS does) and scored
with the same English lexicon, which mostly yields NEUTRAL: a local approximation, not an analysis."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from wsgiref.types import StartResponse, WSGIEnvironment

from vidsense_local.engines.sentiment import SentimentEngine, SentimentResult
from vidsense_local.standins._common import AwsError, serve_json11

TARGET_PREFIX = "Comprehend_20171127."
LANGUAGES = ("en", "es", "fr", "de", "it", "pt", "ar", "hi", "ja", "ko", "zh", "zh-TW")
MAX_BYTES = 5000
MAX_BATCH = 25


def _missing_error(field: str) -> AwsError:
    return AwsError(
        "ValidationException",
        f"1 validation error detected: Value at '{field}' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1",
    )


class _InvalidDocument(AwsError):
    """Text with no characters to analyse. botocore already refuses "" (the model's min length 1), so only
    whitespace gets here; answered with the modelled InvalidRequestException (Reason INVALID_DOCUMENT) so callers
    can tell a permanent rejection. AWS's exact answer for whitespace-only text was not verified."""

    def __init__(self) -> None:
        super().__init__(
            "InvalidRequestException",
            "Invalid document: the text has no characters to analyse.",
            fields={"Reason": "INVALID_DOCUMENT"},
        )


class ComprehendStandIn:
    signing_names: tuple[str, ...] = ("comprehend",)

    def __init__(self, engine: SentimentEngine | None = None) -> None:
        self.engine = engine or SentimentEngine()

    # Comprehend answers on the request thread: nothing to start or stop.
    def start(self) -> None:
        return None

    def stop(self) -> None:
        return None

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        operations = {"DetectSentiment": self.detect_sentiment, "BatchDetectSentiment": self.batch_detect_sentiment}
        return serve_json11(
            environ, start_response, target_prefix=TARGET_PREFIX, operations=operations, service="Comprehend"
        )

    @staticmethod
    def _language(body: dict[str, Any]) -> str:
        language = body.get("LanguageCode")
        if not isinstance(language, str) or not language:
            raise AwsError("ValidationException", "LanguageCode is required")
        if language not in LANGUAGES:
            raise AwsError(
                "UnsupportedLanguageException",
                f"Amazon Comprehend can't process the language in the input text: {language}. "
                f"Supported languages for sentiment: {', '.join(LANGUAGES)}.",
            )
        return language

    @staticmethod
    def _check_size(text: str) -> None:
        size = len(text.encode("utf-8"))
        if size > MAX_BYTES:
            raise AwsError(
                "TextSizeLimitExceededException",
                f"Input text size exceeds limit. Max length of request text allowed is {MAX_BYTES} bytes while in "
                f"this request the text size is {size} bytes",
            )

    @staticmethod
    def _answer(result: SentimentResult) -> dict[str, Any]:
        return {"Sentiment": result.label, "SentimentScore": result.scores}

    def detect_sentiment(self, body: dict[str, Any]) -> dict[str, Any]:
        text = body.get("Text")
        if not isinstance(text, str) or not text:
            raise _missing_error("text")
        if not text.strip():
            raise _InvalidDocument()
        self._language(body)
        self._check_size(text)
        return self._answer(self.engine.analyse(text))

    def batch_detect_sentiment(self, body: dict[str, Any]) -> dict[str, Any]:
        texts = body.get("TextList")
        if not isinstance(texts, list) or not texts:
            raise _missing_error("textList")
        if len(texts) > MAX_BATCH:
            raise AwsError(
                "BatchSizeLimitExceededException",
                f"The number of documents in the request exceeds the limit of {MAX_BATCH}. "
                "Try your request again with fewer documents.",
            )
        self._language(body)
        for text in texts:
            if isinstance(text, str):
                self._check_size(text)  # one oversized document fails the whole call, as AWS documents
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for index, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                # Per-document problems go to ErrorList and the others are still analysed. AWS does not document
                # its per-document codes; this one mirrors InvalidRequestException's reason.
                errors.append(
                    {"Index": index, "ErrorCode": "INVALID_DOCUMENT", "ErrorMessage": _InvalidDocument().message}
                )
                continue
            results.append({"Index": index, **self._answer(self.engine.analyse(text))})
        return {"ResultList": results, "ErrorList": errors}
