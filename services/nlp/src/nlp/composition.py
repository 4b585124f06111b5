"""The composition root of the nlp functions: their use cases, each built once per process on first use
(docs/architecture.md, "Skeleton"). Tests clear a builder with ``cache_clear()`` or monkeypatch it."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from nlp.adapters.metadata import DynamoMetadataStore
from vidsense_shared.aws import client
from vidsense_shared.config import load_settings

# Each builder imports its own use case and adapters: eraseAnswer's cold start loads neither the analysis nor
# Comprehend's and the transcripts' adapters (docs/performance.md, Lambda cold init).
if TYPE_CHECKING:
    from nlp.domain.analysis import Analyzer
    from nlp.domain.erasure import AnswerEraser


@cache
def analyzer() -> Analyzer:
    """analyzeSentiment: a transcript's sentiment, stored and announced."""
    from nlp.adapters.comprehend import ComprehendSentimentDetector
    from nlp.adapters.transcripts import S3TranscriptStore
    from nlp.domain.analysis import Analyzer
    from nlp.settings import AnalyzeSettings
    from vidsense_shared.bus import EventBridgePublisher
    from vidsense_shared.events import utc_now

    settings = load_settings(AnalyzeSettings)
    return Analyzer(
        transcripts=S3TranscriptStore(client("s3")),
        detector=ComprehendSentimentDetector(client("comprehend")),
        store=DynamoMetadataStore(
            settings.metadata_table, client("dynamodb"), transcript_retention_days=settings.transcript_retention_days
        ),
        publisher=EventBridgePublisher(settings.event_bus_name, client("events")),
        clock=utc_now,
    )


@cache
def answer_eraser() -> AnswerEraser:
    """eraseAnswer: the answer's metadata item goes."""
    from nlp.domain.erasure import AnswerEraser
    from nlp.settings import EraseSettings

    return AnswerEraser(DynamoMetadataStore(load_settings(EraseSettings).metadata_table, client("dynamodb")))
