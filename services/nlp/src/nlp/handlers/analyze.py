"""analyzeSentiment: EventBridge delivery of TranscriptReady -> sentiment record + outcome event."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from nlp import composition
from nlp.domain.record import Outcome
from vidsense_shared.consume import receive
from vidsense_shared.events import TranscriptReady
from vidsense_shared.handler import lambda_handler
from vidsense_shared.observability import logger, metrics

# <Subject><Outcome> (docs/architecture.md): the handler's returned outcome keeps the record's shorter words.
OUTCOME_METRICS: dict[Outcome, str] = {
    Outcome.SENTIMENT_DETECTED: "SentimentDetected",
    Outcome.NO_SPEECH: "NoSpeechDetected",
    Outcome.FAILED: "SentimentFailed",
    Outcome.SUPERSEDED: "AnalysisSuperseded",
    Outcome.DUPLICATE: "AnalysisDuplicate",
}


@lambda_handler()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # A delivery that does not parse raises: it cannot succeed on retry, but the DLQ keeps it for a human.
    delivery = receive(event, TranscriptReady)
    cause = delivery.event
    logger.append_keys(cause_event_id=cause.metadata.event_id, attempt=cause.data.attempt, replay=delivery.replay_name)
    result = composition.analyzer().analyze(cause, replay=delivery.is_replay)
    metrics.add_metric(name=OUTCOME_METRICS[result.outcome], unit=MetricUnit.Count, value=1)
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
