"""Publishing domain events to the stage's EventBridge bus: the adapter behind ``publishing.EventPublisher``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vidsense_shared.events import DomainEvent

MAX_DETAIL_BYTES = 256 * 1024
_BATCH = 10  # PutEvents accepts at most 10 entries per call


class PublishError(RuntimeError):
    """EventBridge rejected an event; raised so the caller's retry / dead-letter path takes over."""


class EventBridgePublisher:
    def __init__(self, bus_name: str, events_client: Any) -> None:
        self._bus_name = bus_name
        self._client = events_client

    def entries(self, events: Sequence[DomainEvent]) -> list[dict[str, Any]]:
        result = []
        for event in events:
            detail = event.detail_json()
            if len(detail.encode()) > MAX_DETAIL_BYTES:
                raise PublishError(f"{event.DETAIL_TYPE} detail exceeds EventBridge's 256 KB limit")
            result.append(
                {
                    "Source": event.SOURCE,
                    "DetailType": event.DETAIL_TYPE,
                    "Detail": detail,
                    "EventBusName": self._bus_name,
                    "Time": event.metadata.occurred_at,
                }
            )
        return result

    def publish(self, *events: DomainEvent) -> None:
        entries = self.entries(events)
        for start in range(0, len(entries), _BATCH):
            batch = entries[start : start + _BATCH]
            try:
                response = self._client.put_events(Entries=batch)
            # The client's own alias of botocore's ClientError: this module imports no botocore, so the service
            # client is all it needs.
            except self._client.exceptions.ClientError as exc:
                raise PublishError(f"put_events failed: {exc}") from exc
            if response.get("FailedEntryCount", 0):
                failed = [e for e in response.get("Entries", []) if e.get("ErrorCode")]
                raise PublishError(f"put_events rejected {len(failed)} event(s): {failed}")
