"""The transcode jobs table: one item per answer attempt (PK ``job_key`` = ``{answer_id}#{attempt}``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from transcode.domain.ports import JobRecord

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def _now() -> str:
    return datetime.now(UTC).isoformat()


class DynamoJobStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def claim(self, record: JobRecord) -> JobRecord | None:
        answer_id, _, attempt = record.job_key.rpartition("#")
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    "job_key": {"S": record.job_key},
                    "answer_id": {"S": answer_id},
                    "attempt": {"N": attempt},
                    "client_request_token": {"S": record.client_request_token},
                    "video_uploaded_event_id": {"S": record.video_uploaded_event_id},
                    "created_at": {"S": _now()},
                },
                ConditionExpression="attribute_not_exists(job_key)",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            existing = self.get(record.job_key)
            if existing is None:  # deleted in between: cannot tell, let the retry decide
                raise
            return existing
        return None

    def mark_transcode_started(self, job_key: str, mediaconvert_job_id: str) -> None:
        self._client.update_item(
            TableName=self._table,
            Key={"job_key": {"S": job_key}},
            UpdateExpression="SET mediaconvert_job_id = :id, transcode_started_at = :now",
            ConditionExpression="attribute_exists(job_key)",
            ExpressionAttributeValues={":id": {"S": mediaconvert_job_id}, ":now": {"S": _now()}},
        )

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

        def text(name: str) -> str | None:
            value = item.get(name, {}).get("S")
            return str(value) if value is not None else None

        duration = item.get("audio_duration_ms", {}).get("N")
        return JobRecord(
            job_key=job_key,
            client_request_token=text("client_request_token") or "",
            video_uploaded_event_id=text("video_uploaded_event_id") or "",
            mediaconvert_job_id=text("mediaconvert_job_id"),
            transcription_job_name=text("transcription_job_name"),
            transcoder_completed_event_id=text("transcoder_completed_event_id"),
            audio_duration_ms=int(duration) if duration is not None else None,
        )
