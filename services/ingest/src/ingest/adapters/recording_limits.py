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
from vidsense_shared.optimistic import REVISION_ATTRIBUTE, RevisionedItems

KEY_PREFIX = "recordings#"
TTL_ATTRIBUTE = "expires_at"


class RecordingLimitsError(RuntimeError):
    """DynamoDB refused a request for a reason other than a lost race."""


def window_key(user_key: str) -> dict[str, Any]:
    return {"answer_id": {"S": f"{KEY_PREFIX}{user_key}"}}


def to_item(user_key: str, window: RecordingWindow) -> dict[str, Any]:
    """The item without its revision (RevisionedItems adds it)."""
    values: dict[str, Any] = {
        "answer_id": f"{KEY_PREFIX}{user_key}",
        "grants": [{"at": grant.at.isoformat(), "attempt": grant.attempt} for grant in window.grants],
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
        self._items = RevisionedItems(dynamodb_client, table_name, key_attribute="answer_id")

    def get(self, user_key: str) -> StoredWindow | None:
        try:
            item = self._items.get(window_key(user_key))
        except ClientError as exc:
            raise RecordingLimitsError(f"get_item failed for a recording window: {exc}") from exc
        return from_item(item) if item else None

    def save(self, user_key: str, window: RecordingWindow, expected_revision: int | None) -> None:
        try:
            written = self._items.put(to_item(user_key, window), expected_revision)
        except ClientError as exc:
            raise RecordingLimitsError(f"put_item failed for a recording window: {exc}") from exc
        if not written:
            raise ConcurrentUpdateError(f"a recording window changed since revision {expected_revision}")
