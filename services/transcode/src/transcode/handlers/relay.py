"""relayTranscoderEvents: SNS "onComplete" -> MediaConvert Job State Change -> TranscoderCompleted/TranscodeFailed.

A default-bus rule forwards the state changes of this stage's jobs to the SNS topic; the message of each SNS
record is the EventBridge event as JSON. A redelivered message (same job id and status) publishes nothing: the
jobs table remembers what was published for the attempt.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict

from transcode import composition
from transcode.domain.mediaconvert import JobStateChange, Skipped
from transcode.domain.outcome import Outcome
from vidsense_shared.handler import lambda_handler
from vidsense_shared.observability import logger, metrics


# The one field of an SNS delivery this function reads, built on first use (Powertools' SnsModel and its parser
# are built or imported in the cold start: docs/performance.md, Lambda cold init).
class _Sns(BaseModel):
    model_config = ConfigDict(defer_build=True)  # built by the first delivery

    Message: str  # the EventBridge event as JSON text


class _SnsRecord(BaseModel):
    model_config = ConfigDict(defer_build=True)

    Sns: _Sns


class _SnsDelivery(BaseModel):
    model_config = ConfigDict(defer_build=True)

    Records: list[_SnsRecord]


@lambda_handler()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, list[str]]:
    relay = composition.transcoder_relay()
    notification = _SnsDelivery.model_validate(event)
    results: list[str] = []
    for record in notification.Records:
        change = JobStateChange.model_validate_json(record.Sns.Message)
        detail = change.detail
        result = relay.relay(change)
        if isinstance(result, Skipped):
            logger.info(
                "mediaconvert event skipped",
                extra={"job_id": detail.job_id, "status": detail.status, "reason": result.reason},
            )
            results.append("skipped")
            continue
        relayed = result.event
        logger.set_correlation_id(relayed.metadata.correlation_id)
        if result.outcome is Outcome.DUPLICATE:
            logger.info(
                "mediaconvert event already relayed",
                extra={"job_id": detail.job_id, "status": detail.status, "event_id": relayed.metadata.event_id},
            )
            results.append(result.outcome.value)
            continue
        logger.info(
            "mediaconvert event relayed",
            extra={"job_id": detail.job_id, "status": detail.status, "published": relayed.DETAIL_TYPE},
        )
        metrics.add_metric(name=relayed.DETAIL_TYPE, unit=MetricUnit.Count, value=1)
        results.append(relayed.DETAIL_TYPE)
    return {"results": results}
