"""startTranscription: EventBridge delivery of TranscoderCompleted -> StartTranscriptionJob."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from transcode import composition
from transcode.domain.start_transcription import start_transcription
from vidsense_shared.consume import parse_delivery
from vidsense_shared.events import TranscoderCompleted
from vidsense_shared.handler import lambda_handler
from vidsense_shared.observability import logger, metrics


@lambda_handler()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    delivery = parse_delivery(event, TranscoderCompleted)
    completed = delivery.event
    logger.set_correlation_id(completed.metadata.correlation_id)
    if delivery.is_replay:
        # An archive replay: never a second job; ids of what it emits still derive from the replayed event.
        logger.append_keys(replay_name=delivery.replay_name)
        logger.info("replay", extra={"replay_name": delivery.replay_name, "event_id": completed.metadata.event_id})
    settings = composition.start_transcription_settings()
    outcome = start_transcription(
        completed,
        stage=settings.stage,
        work_bucket=settings.work_bucket,
        language_code=settings.transcribe_language,
        jobs=composition.jobs(settings.jobs_table),
        transcriber=composition.transcription_starter(),
        publisher=composition.publisher(settings.event_bus_name),
        replay=delivery.is_replay,
    )
    logger.info(
        "start transcription",
        extra={
            "outcome": outcome.value,
            "attempt": completed.data.attempt,
            "event_id": completed.metadata.event_id,
            "replay": delivery.is_replay,
        },
    )
    metrics.add_metric(name=f"StartTranscription_{outcome.value}", unit=MetricUnit.Count, value=1)
    return {"outcome": outcome.value}
