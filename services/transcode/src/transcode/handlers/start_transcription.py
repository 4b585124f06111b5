"""startTranscription: EventBridge delivery of TranscoderCompleted -> StartTranscriptionJob."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from transcode import composition
from transcode.handlers.outcome import report_outcome
from vidsense_shared.consume import receive
from vidsense_shared.events import TranscoderCompleted
from vidsense_shared.handler import lambda_handler


@lambda_handler()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    # An archive replay starts no second job; ids of what it emits still derive from the replayed event.
    delivery = receive(event, TranscoderCompleted)
    outcome = composition.transcription_starter().start(delivery.event, replay=delivery.is_replay)
    return report_outcome("start transcription", "Transcription", outcome, delivery)
