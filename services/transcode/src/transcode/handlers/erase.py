"""eraseAnswer: EventBridge delivery of AnswerDeleted -> the answer's audio, transcripts, job items and
Transcribe jobs are deleted (idempotent: a duplicate or replay deletes nothing more; what was created after the
erasure, an answer recorded since, stays)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from transcode import composition
from vidsense_shared.consume import receive
from vidsense_shared.events import AnswerDeleted
from vidsense_shared.handler import lambda_handler
from vidsense_shared.observability import logger, metrics


@lambda_handler()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    delivery = receive(event, AnswerDeleted)
    deleted = delivery.event
    report = composition.answer_eraser().erase(deleted)
    counts = {
        "objects": report.objects,
        "job_items": report.job_items,
        "transcription_jobs": report.transcription_jobs,
        "newer_transcription_jobs": report.newer_transcription_jobs,
    }
    logger.info(
        "answer erased",
        extra={"event_id": deleted.metadata.event_id, "attempt": deleted.data.attempt, "replay": delivery.is_replay}
        | counts,
    )
    metrics.add_metric(name="AnswerErased", unit=MetricUnit.Count, value=1)
    return counts
