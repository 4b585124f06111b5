"""What startTranscode and startTranscription do with their step's outcome: log it, count it, return it."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from transcode.domain.outcome import Outcome
from vidsense_shared.consume import Delivery
from vidsense_shared.events import TranscoderCompleted, VideoUploaded
from vidsense_shared.handler import metric_name
from vidsense_shared.observability import logger, metrics


def report_outcome(
    step: str, subject: str, outcome: Outcome, delivery: Delivery[VideoUploaded] | Delivery[TranscoderCompleted]
) -> dict[str, str]:
    """Log ``step`` with the outcome and the delivery's attempt, count `<subject><Outcome>`, answer the outcome."""
    cause = delivery.event
    logger.info(
        step,
        extra={
            "outcome": outcome.value,
            "attempt": cause.data.attempt,
            "event_id": cause.metadata.event_id,
            "replay": delivery.is_replay,
        },
    )
    metrics.add_metric(name=metric_name(subject, outcome), unit=MetricUnit.Count, value=1)
    return {"outcome": outcome.value}
