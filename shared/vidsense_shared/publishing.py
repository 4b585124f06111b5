"""The publishing port and the rule that makes every publishing use case replay-safe.

Imports no AWS SDK: the service domains depend on this module (import-linter contract); the EventBridge adapter
that fits ``EventPublisher`` is ``vidsense_shared.bus.EventBridgePublisher``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from vidsense_shared.events import DomainEvent


class EventPublisher(Protocol):
    def publish(self, *events: DomainEvent) -> None:
        """Put the events on the bus; raises when any was refused (the caller's retry path takes over)."""
        ...


def publish_then_mark[Event: DomainEvent](
    publisher: EventPublisher, event: Event, mark: Callable[[Event], object]
) -> Event:
    """Publish first, mark second (docs/decisions/0004-publish-first-mark-second.md).

    ``mark`` records in the use case's own state that ``event`` went out. A stop between the two lines leaves the
    mark unwritten, so the retry or replay publishes again under the same (derived) event id and consumers drop the
    duplicate; the opposite order could mark an event that never reached the bus, and nothing would resend it.
    """
    publisher.publish(event)
    mark(event)
    return event
