"""S3 Object Created on the media bucket: record the attempt and announce VideoUploaded."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, ValidationError

from ingest import composition
from ingest.domain.errors import MalformedEventError
from ingest.domain.upload_recorder import UploadOutcome
from vidsense_shared.handler import lambda_handler
from vidsense_shared.observability import logger, metrics


# The fields of an S3 notification this function reads, built on first use (Powertools' S3Model and its parser
# are built or imported in the cold start: docs/performance.md, Lambda cold init).
class _Notified(BaseModel):
    model_config = ConfigDict(defer_build=True)  # built by the first notification


class _Bucket(_Notified):
    name: str


class _Object(_Notified):
    key: str
    versionId: str | None = None


class _S3(_Notified):
    bucket: _Bucket
    object: _Object | None = None


class _Record(_Notified):
    eventName: str
    eventTime: datetime
    s3: _S3


class _S3Notification(_Notified):
    Records: list[_Record]


OUTCOME_METRICS: dict[UploadOutcome, str] = {
    UploadOutcome.PUBLISHED: "VideoUploadedPublished",
    UploadOutcome.ALREADY_PUBLISHED: "DuplicateUploadNotification",
    UploadOutcome.EARLIER_ATTEMPT: "DuplicateUploadNotification",
    UploadOutcome.REJECTED: "UploadRejected",
    UploadOutcome.LOSING_VERSION_REMOVED: "ConcurrentUploadRemoved",
    UploadOutcome.VERSION_GONE: "UploadVersionGone",
    UploadOutcome.UNRECOGNISED_KEY: "UnrecognisedUploadKey",
    UploadOutcome.FOREIGN_BUCKET: "ForeignBucketNotification",
    UploadOutcome.ERASING_ANSWER_VERSION_REMOVED: "UploadDuringErasureRemoved",
}
_WARN = frozenset(
    {
        UploadOutcome.REJECTED,
        UploadOutcome.LOSING_VERSION_REMOVED,
        UploadOutcome.UNRECOGNISED_KEY,
        UploadOutcome.FOREIGN_BUCKET,
        UploadOutcome.ERASING_ANSWER_VERSION_REMOVED,
    }
)


@lambda_handler()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        notification = _S3Notification.model_validate(event)
    except ValidationError as exc:
        raise MalformedEventError(f"not an S3 notification: {exc}") from exc
    outcomes: list[str] = []
    for record in notification.Records:
        if record.s3.object is None or not record.eventName.startswith("ObjectCreated:"):
            logger.warning("not an object-created record", extra={"event_name": record.eventName})
            continue
        bucket = record.s3.bucket.name
        key = unquote_plus(record.s3.object.key)  # S3 URL-encodes keys in notifications
        version_id = record.s3.object.versionId
        result = composition.upload_recorder().record(bucket, key, version_id, record.eventTime)
        outcome = result.outcome
        # A rejection names its rule and the values S3 reported, so the log alone explains it.
        why = result.rejection.log_fields() if result.rejection else {}
        log = logger.warning if outcome in _WARN else logger.info
        log(f"upload {outcome}", extra={"bucket": bucket, "key": key, "version_id": version_id, **why})
        metrics.add_metric(name=OUTCOME_METRICS[outcome], unit=MetricUnit.Count, value=1)
        outcomes.append(outcome.value)
    return {"outcomes": outcomes}
