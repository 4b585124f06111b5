"""startTranscription: EventBridge delivery of TranscoderCompleted -> StartTranscriptionJob."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from transcode import composition
from transcode.domain.start_transcription import start_transcription
from transcode.handlers.outcome import report_outcome
from vidsense_shared.consume import receive
from vidsense_shared.events import TranscoderCompleted
from vidsense_shared.handler import lambda_handler


@lambda_handler()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    # An archive replay starts no second job; ids of what it emits still derive from the replayed event.
    delivery = receive(event, TranscoderCompleted)
    completed = delivery.event
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
    return report_outcome("start transcription", "Transcription", outcome, delivery)
