"""The answers table's items (DynamoDB): the one mapping its writer (ingest) and its readers (the operator CLI) use."""

from __future__ import annotations

from typing import Any

from vidsense_shared.dynamodb_items import plain_item

HASH_KEY = "answer_id"


class AnswerItems:
    """Reads the answers table's items by key, as plain values (vidsense_shared.dynamodb_items, as the writer)."""

    def __init__(self, table_name: str, dynamodb_client: Any) -> None:
        self.table_name = table_name
        self._client = dynamodb_client

    def get(self, answer_id: str) -> dict[str, Any] | None:
        """The item, read consistently; None when there is none. Client errors propagate (the caller names them)."""
        response = self._client.get_item(
            TableName=self.table_name, Key={HASH_KEY: {"S": answer_id}}, ConsistentRead=True
        )
        item = response.get("Item")
        return plain_item(item) if item else None
