"""Optimistic concurrency on a revision number: read, decide, write only if nobody wrote in between.

The use case runs ``retry_on_conflict`` around one round (read the item and its revision, compute, conditional
write); the DynamoDB adapter stores through ``RevisionedItems`` and raises the caller's conflict error when a write
finds another revision. Imports no AWS SDK: the service domains use it (import-linter contract).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from vidsense_shared.aws_errors import conditional_write

REVISION_ATTRIBUTE = "revision"
# A lost race re-reads and decides again; a few rounds settle any real contention.
MAX_WRITE_ROUNDS = 8


def retry_on_conflict[T](
    write_round: Callable[[], T], *, conflict: type[Exception], subject: str, rounds: int = MAX_WRITE_ROUNDS
) -> T:
    """``write_round``'s result from the first round that does not raise ``conflict``.

    Each round must read again: a round that raised ``conflict`` wrote nothing, so the next one decides afresh.
    After ``rounds`` lost races, ``conflict`` is raised naming ``subject``.
    """
    for _ in range(rounds):
        try:
            return write_round()
        except conflict:
            continue
    raise conflict(f"{subject} kept changing during {rounds} write rounds")


def _next_revision(expected_revision: int | None) -> int:
    """The revision a write stores: 1 for a new item, one more than the revision it was read at otherwise."""
    return 1 if expected_revision is None else expected_revision + 1


def _revision_condition(expected_revision: int | None, *, key_attribute: str) -> dict[str, Any]:
    """A PutItem/DeleteItem condition (low-level client shape): the item is still at ``expected_revision``, or
    does not exist yet when it is None."""
    if expected_revision is None:
        return {"ConditionExpression": f"attribute_not_exists({key_attribute})"}
    return {
        "ConditionExpression": "#rev = :rev",
        "ExpressionAttributeNames": {"#rev": REVISION_ATTRIBUTE},
        "ExpressionAttributeValues": {":rev": {"N": str(expected_revision)}},
    }


class RevisionedItems:
    """Items of one DynamoDB table that carry a revision (low-level client shapes): strongly consistent reads, and
    whole-item puts and deletes that happen only at the revision the caller read. Errors other than a lost race
    are raised as the client raised them."""

    def __init__(self, dynamodb_client: Any, table_name: str, *, key_attribute: str) -> None:
        self._client = dynamodb_client
        self._table = table_name
        self._key_attribute = key_attribute

    def get(self, key: Mapping[str, Any]) -> dict[str, Any] | None:
        """The item (its revision included) or None; consistent, so a round sees the write that beat it."""
        item: dict[str, Any] | None = self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True).get(
            "Item"
        )
        return item

    def put(self, item: Mapping[str, Any], expected_revision: int | None) -> bool:
        """Store ``item`` as the next revision; False when the stored one is no longer ``expected_revision`` (or,
        for None, when an item exists)."""
        return conditional_write(
            self._client.put_item,
            TableName=self._table,
            Item={**item, REVISION_ATTRIBUTE: {"N": str(_next_revision(expected_revision))}},
            **_revision_condition(expected_revision, key_attribute=self._key_attribute),
        )

    def delete(self, key: Mapping[str, Any], expected_revision: int) -> bool:
        """Delete the item; False when its revision is no longer ``expected_revision``."""
        return conditional_write(
            self._client.delete_item,
            TableName=self._table,
            Key=key,
            **_revision_condition(expected_revision, key_attribute=self._key_attribute),
        )
