"""eraseAnswer: EventBridge delivery of AnswerDeleted -> the answer's metadata item (transcript, sentiment) goes.

Idempotent: a duplicate or replay finds nothing to delete. An item analysed after the erasure belongs to an
answer recorded since (same id) and stays.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from nlp import composition
from vidsense_shared.consume import receive
from vidsense_shared.events import AnswerDeleted
from vidsense_shared.handler import lambda_handler
from vidsense_shared.observability import logger, metrics


@lambda_handler()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deleted = receive(event, AnswerDeleted).event
    removed = composition.answer_eraser().erase(deleted)
    logger.info("answer erased", extra={"event_id": deleted.metadata.event_id, "metadata_item_deleted": removed})
    metrics.add_metric(name="AnswerErased", unit=MetricUnit.Count, value=1)
    return {"deleted": removed}
