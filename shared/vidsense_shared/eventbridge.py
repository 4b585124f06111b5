"""EventBridge's envelope, for every consumer of EventBridge deliveries (domain events, AWS services' events).

The fields of Powertools' EventBridgeModel, declared here and built on first use: importing that model builds it
with its documentation (descriptions, examples) in each consumer's cold start, about 30 ms (docs/performance.md,
Lambda cold init). A consumer subclasses it with the type of its ``detail``."""

# Annotations evaluated as written, no `from __future__ import annotations`: pydantic would compile each field's
# annotation string when the models are declared, in every cold start (docs/performance.md, Lambda cold init).

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class EventBridgeEnvelope(BaseModel):
    model_config = ConfigDict(populate_by_name=True, defer_build=True)  # built by the consumer's first delivery

    version: str
    id: str
    source: str
    account: str
    time: datetime
    region: str
    resources: list[str]
    detail_type: str = Field(alias="detail-type")
    replay_name: str | None = Field(None, alias="replay-name")
