"""The one way the functions map DynamoDB items: boto3's TypeSerializer and TypeDeserializer on whole items.

Adapters build an item as Python values and read one back the same way; attribute values (``{"S": ...}``) are
written by hand only for keys and expression values of a request."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _decimals(value: Any) -> Any:
    # DynamoDB numbers are Decimals; floats go through str to keep their shortest repr (not 50-odd binary digits).
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _decimals(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_decimals(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """Python values (str, int, float or Decimal, bool, None, dict, list, set) as a low-level DynamoDB item."""
    return {name: _serializer.serialize(_decimals(value)) for name, value in values.items()}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """A low-level DynamoDB item as Python values, numbers as Decimal."""
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def plain_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """A low-level DynamoDB item as JSON-like values: whole numbers as int, others as float."""
    return {name: _plain(value) for name, value in from_item(item).items()}
