"""The transcode jobs table: one item per answer attempt (PK ``job_key`` = ``{answer_id}#{attempt}``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from transcode.domain.ports import JobRecord, OpenAttempt
from vidsense_shared import dynamodb_items
from vidsense_shared.aws_errors import conditional_write, is_conditional_check_failed

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


# Sparse GSI of the attempts that still wait for a step to finish (the reconciler's work list): an item is in it
# only while it has ``open_shard``. One constant partition: a few thousand open attempts at most, read every 5 min.
OPEN_INDEX = "open_attempts"
OPEN_SHARD = "open"


def _iso(moment: datetime) -> str:
    # Fixed width, so ISO strings sort (and compare in key conditions) in time order.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _now() -> str:
    return _iso(datetime.now(UTC))


def _new_item(record: JobRecord) -> dict[str, Any]:
    """A fresh attempt item; ``created_at`` now, so only an erasure that occurred later can delete it."""
    answer_id, _, attempt = record.job_key.rpartition("#")
    now = _now()
    values: dict[str, Any] = {
        "job_key": record.job_key,
        "answer_id": answer_id,
        "attempt": int(attempt),
        "client_request_token": record.client_request_token,
        "video_uploaded_event_id": record.video_uploaded_event_id,
        "created_at": now,
        "open_shard": OPEN_SHARD,
        "open_since": now,
    }
    if record.video_uploaded_at is not None:
        values["video_uploaded_at"] = _iso(record.video_uploaded_at)
    return dynamodb_items.to_item(values)


class DynamoJobStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def claim(self, record: JobRecord) -> JobRecord | None:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=_new_item(record),
                ConditionExpression="attribute_not_exists(job_key)",
            )
        except ClientError as exc:
            if not is_conditional_check_failed(exc):
                raise
            existing = self.get(record.job_key)
            if existing is None:  # deleted in between: cannot tell, let the retry decide
                raise
            return existing
        return None

    def replace(self, record: JobRecord, *, previous_event_id: str) -> bool:
        return conditional_write(
            self._client.put_item,
            TableName=self._table,
            Item=_new_item(record),
            ConditionExpression="video_uploaded_event_id = :previous",
            ExpressionAttributeValues={":previous": {"S": previous_event_id}},
        )

    def mark_transcode_started(self, job_key: str, mediaconvert_job_id: str) -> None:
        self._client.update_item(
            TableName=self._table,
            Key={"job_key": {"S": job_key}},
            # (Re)opens the attempt: a replay after a refused CreateJob may start the job of a closed attempt.
            UpdateExpression=(
                "SET mediaconvert_job_id = :id, transcode_started_at = :now, open_shard = :open, open_since = :now"
            ),
            ConditionExpression="attribute_exists(job_key)",
            ExpressionAttributeValues={
                ":id": {"S": mediaconvert_job_id},
                ":now": {"S": _now()},
                ":open": {"S": OPEN_SHARD},
            },
        )

    def mark_transcription_started(self, job_key: str) -> None:
        now = _now()
        self._client.update_item(
            TableName=self._table,
            Key={"job_key": {"S": job_key}},
            UpdateExpression=(
                "SET transcription_started_at = if_not_exists(transcription_started_at, :now), "
                "open_shard = :open, open_since = :now"
            ),
            ConditionExpression="attribute_exists(job_key)",
            ExpressionAttributeValues={":now": {"S": now}, ":open": {"S": OPEN_SHARD}},
        )

    def mark_emitted(self, job_key: str, marker: str, *, final: bool) -> bool:
        # A final event takes the attempt out of the index; TranscoderCompleted restarts the clock for the
        # Transcribe step (open_since only: an attempt closed in the meantime stays out of the index).
        update = (
            "ADD emitted :marker REMOVE open_shard, open_since"
            if final
            else "ADD emitted :marker SET open_since = :now"
        )
        values: dict[str, Any] = {":marker": {"SS": [marker]}}
        if not final:
            values[":now"] = {"S": _now()}
        return conditional_write(
            self._client.update_item,
            TableName=self._table,
            Key={"job_key": {"S": job_key}},
            UpdateExpression=update,
            ConditionExpression="attribute_exists(job_key)",
            ExpressionAttributeValues=values,
        )

    def delete(self, job_key: str, *, created_before: datetime) -> bool:
        """Erasure: the attempt's item goes; False when there is none (a retry or duplicate) or it is newer."""
        return conditional_write(
            self._client.delete_item,
            TableName=self._table,
            Key={"job_key": {"S": job_key}},
            ConditionExpression="created_at <= :before",
            ExpressionAttributeValues={":before": {"S": _iso(created_before)}},
        )

    def close(self, job_key: str) -> None:
        self._client.update_item(
            TableName=self._table,
            Key={"job_key": {"S": job_key}},
            UpdateExpression="REMOVE open_shard, open_since",
            ConditionExpression="attribute_exists(job_key)",
        )

    def open_attempts(self, older_than: datetime, page_size: int) -> Iterator[OpenAttempt]:
        params: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": OPEN_INDEX,
            "KeyConditionExpression": "open_shard = :open AND open_since <= :cutoff",
            "ExpressionAttributeValues": {
                ":open": {"S": OPEN_SHARD},
                ":cutoff": {"S": _iso(older_than)},
            },
            "Limit": page_size,
        }
        while True:
            page = self._client.query(**params)
            for values in map(dynamodb_items.from_item, page.get("Items", [])):
                yield OpenAttempt(job_key=values["job_key"], open_since=datetime.fromisoformat(values["open_since"]))
            last = page.get("LastEvaluatedKey")
            if not last:
                return
            params["ExclusiveStartKey"] = last

    def record_transcription(
        self, job_key: str, job_name: str, transcoder_completed_event_id: str, audio_duration_ms: int | None
    ) -> None:
        names = "SET transcription_job_name = :name, transcoder_completed_event_id = :cause, updated_at = :now"
        values: dict[str, Any] = {
            ":name": {"S": job_name},
            ":cause": {"S": transcoder_completed_event_id},
            ":now": {"S": _now()},
        }
        if audio_duration_ms is not None:
            names += ", audio_duration_ms = :duration"
            values[":duration"] = {"N": str(audio_duration_ms)}
        self._client.update_item(
            TableName=self._table,
            Key={"job_key": {"S": job_key}},
            UpdateExpression=names,
            ExpressionAttributeValues=values,
        )

    def get(self, job_key: str) -> JobRecord | None:
        item = self._client.get_item(TableName=self._table, Key={"job_key": {"S": job_key}}, ConsistentRead=True).get(
            "Item"
        )
        if item is None:
            return None
        values = dynamodb_items.from_item(item)

        def text(name: str) -> str | None:
            value = values.get(name)
            return str(value) if value is not None else None

        duration = values.get("audio_duration_ms")
        open_since = text("open_since") if "open_shard" in values else None
        uploaded_at = text("video_uploaded_at")
        return JobRecord(
            job_key=job_key,
            client_request_token=text("client_request_token") or "",
            video_uploaded_event_id=text("video_uploaded_event_id") or "",
            mediaconvert_job_id=text("mediaconvert_job_id"),
            video_uploaded_at=datetime.fromisoformat(uploaded_at) if uploaded_at else None,
            transcription_job_name=text("transcription_job_name"),
            transcoder_completed_event_id=text("transcoder_completed_event_id"),
            audio_duration_ms=int(duration) if duration is not None else None,
            transcription_started="transcription_started_at" in values,
            emitted=frozenset(values.get("emitted", set())),
            open_since=datetime.fromisoformat(open_since) if open_since else None,
        )
