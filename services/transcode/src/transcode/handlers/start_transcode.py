"""startTranscode: EventBridge delivery of VideoUploaded -> one MediaConvert job per answer attempt."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from transcode import composition
from transcode.domain.start_transcode import start_transcode
from vidsense_shared.events import VideoUploaded
from vidsense_shared.handler import lambda_handler, metric_name, receive
from vidsense_shared.observability import logger, metrics


@lambda_handler()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    # An archive replay starts no second job; ids of what it emits still derive from the replayed event.
    delivery = receive(event, VideoUploaded)
    uploaded = delivery.event
    settings = composition.start_transcode_settings()
    outcome = start_transcode(
        uploaded,
        stage=settings.stage,
        work_bucket=settings.work_bucket,
        jobs=composition.jobs(settings.jobs_table),
        transcoder=composition.transcoder(),
        publisher=composition.publisher(settings.event_bus_name),
        replay=delivery.is_replay,
    )
    logger.info(
        "start transcode",
        extra={
            "outcome": outcome.value,
            "attempt": uploaded.data.attempt,
            "event_id": uploaded.metadata.event_id,
            "replay": delivery.is_replay,
        },
    )
    metrics.add_metric(name=metric_name("Transcode", outcome), unit=MetricUnit.Count, value=1)
    return {"outcome": outcome.value}
