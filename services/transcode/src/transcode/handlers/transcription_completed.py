"""transcriptionCompleted: default-bus "Transcribe Job State Change" -> TranscriptReady/TranscriptionFailed."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from transcode import composition
from transcode.domain.transcribe import JobStateChange
from transcode.domain.transcription_outcome import TranscriptionStateChange
from vidsense_shared.handler import lambda_handler, metric_name
from vidsense_shared.observability import logger, metrics


@lambda_handler()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    change = JobStateChange.model_validate(event)
    outcome = composition.transcription_completer().complete(
        TranscriptionStateChange(job_name=change.detail.job_name, status=change.detail.status, occurred_at=change.time)
    )
    logger.info(
        "transcription state change",
        extra={"job_name": change.detail.job_name, "status": change.detail.status, "outcome": outcome.value},
    )
    metrics.add_metric(name=metric_name("TranscriptionOutcome", outcome), unit=MetricUnit.Count, value=1)
    return {"outcome": outcome.value}
