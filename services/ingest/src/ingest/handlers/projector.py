"""Pipeline events from the bus -> the answers read model (idempotent, order-independent upserts)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from ingest import composition
from ingest.domain.errors import MalformedEventError
from ingest.domain.projection import PROJECTED_DETAIL_TYPES, ProjectionOutcome, UnknownEventError
from vidsense_shared.consume import receive
from vidsense_shared.events import EVENTS_BY_DETAIL_TYPE
from vidsense_shared.handler import lambda_handler
from vidsense_shared.observability import logger, metrics

CHANGED = frozenset({ProjectionOutcome.APPLIED, ProjectionOutcome.RECOMPUTED})
OUTCOME_METRICS: dict[ProjectionOutcome, str] = {
    ProjectionOutcome.APPLIED: "AnswerProjected",
    ProjectionOutcome.RECOMPUTED: "AnswerRecomputed",
    ProjectionOutcome.DUPLICATE: "AnswerProjectionNoop",
    ProjectionOutcome.OLDER_ATTEMPT: "AnswerProjectionNoop",
    ProjectionOutcome.ERASING: "AnswerProjectionNoop",
    ProjectionOutcome.OTHER_RECORDING: "AnswerProjectionNoop",
}


@lambda_handler()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    detail_type = event.get("detail-type")
    if not isinstance(detail_type, str) or detail_type not in PROJECTED_DETAIL_TYPES:
        # Raised, not skipped: the failure destination keeps what this function was not built for.
        raise UnknownEventError(f"projectAnswers does not handle detail-type {detail_type!r}")
    try:
        delivery = receive(event, EVENTS_BY_DETAIL_TYPE[detail_type])
    except ValidationError as exc:
        raise MalformedEventError(f"malformed {detail_type} delivery: {exc}") from exc
    domain_event = delivery.event
    outcome = composition.answer_projector().apply(domain_event)
    changed = outcome in CHANGED
    details = {"detail_type": detail_type, "event_id": domain_event.metadata.event_id, "projection": outcome.value}
    if delivery.is_replay:
        # Operators replay the archive on purpose: say so, with the replay's name, whatever it did.
        message = "replayed event projected" if changed else "replayed event changed nothing"
        logger.info(message, extra={**details, "replay_name": delivery.replay_name})
    else:
        logger.info("event projected" if changed else "event changed nothing", extra=details)
    metrics.add_metric(name=OUTCOME_METRICS[outcome], unit=MetricUnit.Count, value=1)
    return {"changed": changed, "projection": outcome.value}
