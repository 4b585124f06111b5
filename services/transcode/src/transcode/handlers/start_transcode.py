"""startTranscode: EventBridge delivery of VideoUploaded -> one MediaConvert job per answer attempt."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from transcode import composition
from transcode.domain.start_transcode import start_transcode
from transcode.handlers.outcome import report_outcome
from vidsense_shared.consume import receive
from vidsense_shared.events import VideoUploaded
from vidsense_shared.handler import lambda_handler


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
    return report_outcome("start transcode", "Transcode", outcome, delivery)
