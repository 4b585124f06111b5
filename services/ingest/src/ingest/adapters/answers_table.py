"""The answers table (DynamoDB): whole-item conditional writes on a revision number."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ingest.domain.answers import AnswerRecord
from ingest.domain.errors import ConcurrentUpdateError
from ingest.domain.ports import StoredAnswer
from vidsense_shared import dynamodb_items
from vidsense_shared.dynamodb_items import plain_item
from vidsense_shared.dynamodb_items import to_item as plain_to_item
from vidsense_shared.optimistic import REVISION_ATTRIBUTE, RevisionedItems

BY_STEP_INDEX = "by_step"


class AnswersTableError(RuntimeError):
    """DynamoDB refused a request for a reason other than a lost race."""


def to_item(record: AnswerRecord) -> dict[str, Any]:
    """The item without its revision (RevisionedItems adds it); the mapping the operator CLI reads the table with
    (vidsense_shared.answers_table)."""
    return plain_to_item(record.model_dump(mode="json"))


def from_item(item: dict[str, Any]) -> StoredAnswer:
    plain = plain_item(item)
    revision = int(plain.pop(REVISION_ATTRIBUTE))
    return StoredAnswer(AnswerRecord.model_validate(plain), revision)


class DynamoAnswerRepository:
    def __init__(self, table_name: str, dynamodb_client: Any) -> None:
        self._table = table_name
        self._client = dynamodb_client
        self._items = RevisionedItems(dynamodb_client, table_name, key_attribute="answer_id")

    def get(self, answer_id: str) -> StoredAnswer | None:
        try:
            item = self._items.get({"answer_id": {"S": answer_id}})
        except ClientError as exc:
            raise AnswersTableError(f"get_item failed for {answer_id}: {exc}") from exc
        return from_item(item) if item else None

    def save(self, record: AnswerRecord, expected_revision: int | None) -> None:
        try:
            written = self._items.put(to_item(record), expected_revision)
        except ClientError as exc:
            raise AnswersTableError(f"put_item failed for {record.answer_id}: {exc}") from exc
        if not written:
            raise ConcurrentUpdateError(f"{record.answer_id} changed since revision {expected_revision}")

    def delete(self, answer_id: str, expected_revision: int) -> None:
        try:
            deleted = self._items.delete({"answer_id": {"S": answer_id}}, expected_revision)
        except ClientError as exc:
            raise AnswersTableError(f"delete_item failed for {answer_id}: {exc}") from exc
        if not deleted:
            raise ConcurrentUpdateError(f"{answer_id} changed since revision {expected_revision}")

    def list_step(
        self, project_step: str, limit: int, start_key: dict[str, str] | None
    ) -> tuple[list[AnswerRecord], dict[str, str] | None]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": BY_STEP_INDEX,
            "KeyConditionExpression": "project_step = :ps",
            "ExpressionAttributeValues": {":ps": {"S": project_step}},
            "Limit": limit,
        }
        if start_key:
            request["ExclusiveStartKey"] = {k: {"S": v} for k, v in start_key.items()}
        try:
            response = self._client.query(**request)
        except ClientError as exc:
            raise AnswersTableError(f"query {BY_STEP_INDEX} failed for {project_step}: {exc}") from exc
        records = [from_item(item).record for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return records, ({k: str(v) for k, v in dynamodb_items.from_item(last).items()} if last else None)
