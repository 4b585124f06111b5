"""Receiving EventBridge deliveries of domain events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vidsense_shared.eventbridge import EventBridgeEnvelope
from vidsense_shared.events import DomainEvent
from vidsense_shared.observability import logger


class UnexpectedEventError(ValueError):
    """The delivery is not the event this consumer handles (wrong detail-type or version)."""


class _Envelope(EventBridgeEnvelope):
    detail: dict[str, Any]


@dataclass(frozen=True)
class Delivery[EventT: DomainEvent]:
    """One EventBridge delivery of a domain event."""

    event: EventT
    eventbridge_id: str
    replay_name: str | None

    @property
    def is_replay(self) -> bool:
        return self.replay_name is not None


def parse_delivery[EventT: DomainEvent](raw: dict[str, Any], model: type[EventT]) -> Delivery[EventT]:
    """Validate the EventBridge envelope and its detail; raises ValidationError or UnexpectedEventError."""
    envelope = _Envelope.model_validate(raw)
    if envelope.detail_type != model.DETAIL_TYPE:
        raise UnexpectedEventError(f"expected {model.DETAIL_TYPE}, got {envelope.detail_type!r}")
    event = model.model_validate(envelope.detail)
    if event.metadata.version != model.VERSION:
        raise UnexpectedEventError(f"{model.DETAIL_TYPE} version {event.metadata.version!r} is not {model.VERSION}")
    return Delivery(event=event, eventbridge_id=envelope.id, replay_name=envelope.replay_name)


def receive[EventT: DomainEvent](event: dict[str, Any], model: type[EventT]) -> Delivery[EventT]:
    """One EventBridge delivery of a domain event: parsed (ValidationError or UnexpectedEventError when it is not
    one), the invocation's logs correlated with its answer and, for an archive replay, naming the replay."""
    delivery = parse_delivery(event, model)
    metadata = delivery.event.metadata
    logger.set_correlation_id(metadata.correlation_id)
    if delivery.is_replay:
        logger.append_keys(replay_name=delivery.replay_name)
        logger.info("replay", extra={"replay_name": delivery.replay_name, "event_id": metadata.event_id})
    return delivery
