"""Each person's recording window (domain/limits.py), one item per person in the answers table.

The item's key is ``recordings#{user_key}``: no answer id has a ``#`` and the item has no ``project_step``, so it is
in no step listing (the by_step index is sparse). Whole-item conditional writes on a revision, like the answers;
``expires_at`` (the table's TTL attribute) removes the item a day after the person's last counted recording.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from ingest.domain.errors import ConcurrentUpdateError
from ingest.domain.limits import Grant, RecordingWindow
from ingest.domain.ports import StoredWindow
from vidsense_shared import dynamodb_items
from vidsense_shared.aws_errors import conditional_write
from vidsense_shared.optimistic import REVISION_ATTRIBUTE, next_revision, revision_condition

KEY_PREFIX = "recordings#"
TTL_ATTRIBUTE = "expires_at"


class RecordingLimitsError(RuntimeError):
    """DynamoDB refused a request for a reason other than a lost race."""


def window_key(user_key: str) -> dict[str, Any]:
    return {"answer_id": {"S": f"{KEY_PREFIX}{user_key}"}}


def to_item(user_key: str, window: RecordingWindow, revision: int) -> dict[str, Any]:
    values: dict[str, Any] = {
        "answer_id": f"{KEY_PREFIX}{user_key}",
        "grants": [{"at": grant.at.isoformat(), "attempt": grant.attempt} for grant in window.grants],
        REVISION_ATTRIBUTE: revision,
    }
    expires_at = window.expires_at()
    if expires_at is not None:
        values[TTL_ATTRIBUTE] = int(expires_at.timestamp())
    return dynamodb_items.to_item(values)


def from_item(item: dict[str, Any]) -> StoredWindow:
    values = dynamodb_items.from_item(item)
    grants = tuple(
        Grant(at=datetime.fromisoformat(entry["at"]), attempt=entry.get("attempt"))
        for entry in values.get("grants", [])
    )
    return StoredWindow(RecordingWindow(grants), int(values[REVISION_ATTRIBUTE]))


class DynamoRecordingWindows:
    def __init__(self, table_name: str, dynamodb_client: Any) -> None:
        self._table = table_name
        self._client = dynamodb_client

    def get(self, user_key: str) -> StoredWindow | None:
        try:
            response = self._client.get_item(TableName=self._table, Key=window_key(user_key), ConsistentRead=True)
        except ClientError as exc:
            raise RecordingLimitsError(f"get_item failed for a recording window: {exc}") from exc
        item = response.get("Item")
        return from_item(item) if item else None

    def save(self, user_key: str, window: RecordingWindow, expected_revision: int | None) -> None:
        try:
            written = conditional_write(
                self._client.put_item,
                TableName=self._table,
                Item=to_item(user_key, window, next_revision(expected_revision)),
                **revision_condition(expected_revision, key_attribute="answer_id"),
            )
        except ClientError as exc:
            raise RecordingLimitsError(f"put_item failed for a recording window: {exc}") from exc
        if not written:
            raise ConcurrentUpdateError(f"a recording window changed since revision {expected_revision}")
