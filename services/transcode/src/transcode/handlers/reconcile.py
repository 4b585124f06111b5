"""reconcile: every 5 minutes, finish or fail the attempts whose MediaConvert / Transcribe event was lost."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from transcode import composition
from transcode.domain.reconcile import Action
from vidsense_shared.handler import lambda_handler, metric_name
from vidsense_shared.observability import logger, metrics


@lambda_handler()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, dict[str, int]]:
    checked = composition.reconciler().reconcile(datetime.now(UTC))
    counts: Counter[str] = Counter()
    for item in checked:
        counts[item.action.value] += 1
        if item.action is not Action.UNTOUCHED:
            logger.info("attempt reconciled", extra={"job_key": item.job_key, "step": item.step, "action": item.action})
    for action, count in counts.items():
        metrics.add_metric(name=metric_name("Attempt", action), unit=MetricUnit.Count, value=count)
    logger.info("reconcile run", extra={"counts": dict(counts)})
    return {"counts": dict(counts)}
