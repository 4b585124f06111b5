"""Property tests: every event parser answers arbitrary input with a typed error, never anything else, and
parses every valid input (so a parser that refused everything would fail here, not pass)."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.eventbridge import eventbridge_delivery
from vidsense_shared import catalogue
from vidsense_shared.consume import UnexpectedEventError, parse_delivery
from vidsense_shared.events import ALL_EVENTS, EVENTS_BY_DETAIL_TYPE, DomainEvent, parse_detail

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20,
)
detail_types = st.sampled_from(sorted(EVENTS_BY_DETAIL_TYPE)) | st.text(max_size=20)

TYPED = (ValidationError, UnexpectedEventError)


@given(detail_type=st.sampled_from(sorted(EVENTS_BY_DETAIL_TYPE)), detail=json_values)
def test_parse_detail_raises_only_validation_errors(detail_type: str, detail: Any) -> None:
    with contextlib.suppress(ValidationError):
        parse_detail(detail_type, detail if isinstance(detail, dict) else json.dumps(detail))


@given(
    model=st.sampled_from(ALL_EVENTS),
    detail_type=detail_types,
    detail=json_values,
    extra=st.dictionaries(st.sampled_from(["time", "id", "replay-name", "source", "resources"]), json_values),
)
def test_parse_delivery_raises_only_typed_errors(model: Any, detail_type: Any, detail: Any, extra: dict) -> None:
    with contextlib.suppress(*TYPED):
        parse_delivery(eventbridge_delivery(detail_type, detail, **extra), model)


@given(raw=json_values, model=st.sampled_from(ALL_EVENTS))
def test_parse_delivery_of_any_json_raises_only_typed_errors(raw: Any, model: Any) -> None:
    with contextlib.suppress(*TYPED):
        parse_delivery(raw if isinstance(raw, dict) else {"detail": raw}, model)


# --- valid input parses -----------------------------------------------------------------------------------


@st.composite
def valid_events(draw: st.DrawFn) -> DomainEvent:
    """Any event type, its documented example data (docs/events.md) under generated answer fields and metadata."""
    model = draw(st.sampled_from(ALL_EVENTS))
    example = catalogue._CATALOGUE[model][2]
    answer = {
        "project": draw(st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True)),
        "step": str(draw(st.integers(0, 999))),
        "user_key": draw(st.binary(min_size=32, max_size=32)).hex(),
        "attempt": draw(st.integers(1, 1000)),
    }
    data = type(example).model_validate({**example.model_dump(), **answer})
    return model.create(
        data,
        correlation_id=f"{answer['project']}/{answer['step']}/{answer['user_key']}",
        causation_id=draw(st.none() | st.uuids().map(str)),
        event_id=str(draw(st.uuids())),
        occurred_at=draw(st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC))),
    )


@given(event=valid_events())
def test_every_valid_detail_parses_back_to_the_event(event: DomainEvent) -> None:
    assert parse_detail(event.DETAIL_TYPE, json.loads(event.detail_json())) == event
    assert parse_detail(event.DETAIL_TYPE, event.detail_json()) == event


@given(event=valid_events(), replay_name=st.none() | st.text(min_size=1, max_size=64))
def test_every_valid_delivery_parses_to_the_event(event: DomainEvent, replay_name: str | None) -> None:
    extra: dict[str, Any] = {"source": event.SOURCE} | ({"replay-name": replay_name} if replay_name else {})
    delivery = parse_delivery(
        eventbridge_delivery(event.DETAIL_TYPE, json.loads(event.detail_json()), **extra), type(event)
    )
    assert delivery.event == event
    assert delivery.replay_name == replay_name
