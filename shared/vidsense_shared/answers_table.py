"""The answers table's items (DynamoDB): the one mapping its writer (ingest) and its readers (the operator CLI) use."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

HASH_KEY = "answer_id"

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _to_dynamo(value: Any) -> Any:
    # DynamoDB numbers are Decimals; floats must go through str to keep their shortest repr.
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    return value


def to_item(plain: dict[str, Any]) -> dict[str, Any]:
    """A JSON-like dict as a low-level DynamoDB item (attribute values)."""
    return {k: _serializer.serialize(v) for k, v in _to_dynamo(plain).items()}


def plain_item(item: dict[str, Any]) -> dict[str, Any]:
    """A low-level DynamoDB item as plain values: whole numbers as int, others as float."""
    return {k: _from_dynamo(_deserializer.deserialize(v)) for k, v in item.items()}


class AnswerItems:
    """Reads the answers table's items by key, as plain values (the writer's mapping, ``to_item``)."""

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
