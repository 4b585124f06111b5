"""publish_then_mark: the publish-first, mark-second rule every publishing use case follows (decision 0004)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vidsense_shared.events import DomainEvent, TranscodeFailed, TranscodeFailedData
from vidsense_shared.publishing import publish_then_mark


def _event() -> TranscodeFailed:
    data = TranscodeFailedData(
        project="p", step="1", user_key="ab" * 32, attempt=1, error_code="1010", error_message="Unsupported codec"
    )
    return TranscodeFailed.create(data, correlation_id="p/1", causation_id=None, occurred_at=datetime.now(UTC))


class _Bus:
    def __init__(self, log: list[str], *, refuse: bool = False) -> None:
        self._log = log
        self._refuse = refuse

    def publish(self, *events: DomainEvent) -> None:
        if self._refuse:
            raise RuntimeError("PutEvents refused")
        self._log.extend(f"publish {e.metadata.event_id}" for e in events)


def test_publishes_before_it_marks_and_returns_the_event():
    # Given a bus and a mark that both write to one log
    log: list[str] = []
    event = _event()
    # When the event is published and marked
    returned = publish_then_mark(_Bus(log), event, lambda e: log.append(f"mark {e.metadata.event_id}"))
    # Then the publish came first, the mark names the same event, and the caller gets it back
    assert log == [f"publish {event.metadata.event_id}", f"mark {event.metadata.event_id}"]
    assert returned is event


def test_a_refused_publish_marks_nothing():
    # Given a bus that refuses the event
    marked: list[DomainEvent] = []
    # When the use case publishes, Then the error reaches the caller (its retry path) and nothing is marked
    with pytest.raises(RuntimeError, match="refused"):
        publish_then_mark(_Bus([], refuse=True), _event(), marked.append)
    assert marked == []


def test_a_stop_before_the_mark_republishes_the_same_event_id():
    # Given a first run that stops after the publish, before its mark
    log: list[str] = []
    event = _event()

    def crash(_: DomainEvent) -> None:
        raise TimeoutError("Lambda stopped")

    with pytest.raises(TimeoutError):
        publish_then_mark(_Bus(log), event, crash)
    # When the retry rebuilds the same event and runs again
    publish_then_mark(_Bus(log), event, lambda e: log.append(f"mark {e.metadata.event_id}"))
    # Then the bus saw the same id twice (consumers drop the second) and the mark was written once
    event_id = event.metadata.event_id
    assert log == [f"publish {event_id}", f"publish {event_id}", f"mark {event_id}"]
