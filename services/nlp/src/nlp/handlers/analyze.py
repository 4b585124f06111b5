"""analyzeSentiment: EventBridge delivery of TranscriptReady -> sentiment record + outcome event."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from nlp.adapters.comprehend import ComprehendSentimentDetector
from nlp.adapters.metadata import DynamoMetadataStore
from nlp.adapters.transcripts import S3TranscriptStore
from nlp.domain.analysis import Analyzer
from nlp.domain.record import Outcome
from nlp.settings import AnalyzeSettings
from vidsense_shared.aws import client
from vidsense_shared.bus import EventBridgePublisher
from vidsense_shared.config import cached_settings
from vidsense_shared.consume import Delivery, parse_delivery
from vidsense_shared.events import TranscriptReady, utc_now
from vidsense_shared.handler import lambda_handler
from vidsense_shared.observability import logger, metrics


@cache
def analyzer() -> Analyzer:
    """Built on first use (not at import), so importing needs no environment or network."""
    settings = cached_settings(AnalyzeSettings)
    return Analyzer(
        transcripts=S3TranscriptStore(client("s3")),
        detector=ComprehendSentimentDetector(client("comprehend")),
        store=DynamoMetadataStore(
            settings.metadata_table, client("dynamodb"), transcript_retention_days=settings.transcript_retention_days
        ),
        publisher=EventBridgePublisher(settings.event_bus_name, client("events")),
        clock=utc_now,
    )


def parse_transcript_ready(event: dict[str, Any]) -> Delivery[TranscriptReady]:
    """The delivery, or a ValueError: pydantic's ValidationError or UnexpectedEventError."""
    return parse_delivery(event, TranscriptReady)


@lambda_handler()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # A delivery that does not parse raises: it cannot succeed on retry, but the DLQ keeps it for a human.
    delivery = parse_transcript_ready(event)
    cause = delivery.event
    logger.set_correlation_id(cause.metadata.correlation_id)
    logger.append_keys(cause_event_id=cause.metadata.event_id, attempt=cause.data.attempt, replay=delivery.replay_name)
    result = analyzer().analyze(cause, replay=delivery.is_replay)
    metrics.add_metric(name=result.outcome.value, unit=MetricUnit.Count, value=1)
    event_id = result.event.metadata.event_id if result.event else None
    # Ids, counts and outcomes only: transcript text never goes to the logs.
    details = {"outcome": result.outcome.value, "chunk_count": result.chunk_count, "event_id": event_id}
    if result.outcome is Outcome.DUPLICATE:
        logger.info("duplicate delivery, outcome already published", extra=details)
    elif result.republished:
        logger.info("stored outcome published again after an interrupted run", extra=details)
    elif delivery.is_replay:
        logger.info("transcript reanalyzed for a replay", extra={**details, "replay_name": delivery.replay_name})
    else:
        logger.info("transcript analyzed", extra=details)
    return {"outcome": result.outcome.value, "event_id": event_id}
