"""Property tests: every event parser answers arbitrary input with a typed error, never anything else."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from vidsense_shared.consume import UnexpectedEventError, parse_delivery
from vidsense_shared.events import ALL_EVENTS, EVENTS_BY_DETAIL_TYPE, parse_detail

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


def _envelope(detail_type: Any, detail: Any, extra: dict[str, Any]) -> dict[str, Any]:
    base = {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": detail_type,
        "source": "vidsense.ingest",
        "account": "111122223333",
        "time": "2026-11-29T10:00:00Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": detail,
    }
    base.update(extra)
    return base


@given(
    model=st.sampled_from(ALL_EVENTS),
    detail_type=detail_types,
    detail=json_values,
    extra=st.dictionaries(st.sampled_from(["time", "id", "replay-name", "source", "resources"]), json_values),
)
def test_parse_delivery_raises_only_typed_errors(model: Any, detail_type: Any, detail: Any, extra: dict) -> None:
    with contextlib.suppress(*TYPED):
        parse_delivery(_envelope(detail_type, detail, extra), model)


@given(raw=json_values, model=st.sampled_from(ALL_EVENTS))
def test_parse_delivery_of_any_json_raises_only_typed_errors(raw: Any, model: Any) -> None:
    with contextlib.suppress(*TYPED):
        parse_delivery(raw if isinstance(raw, dict) else {"detail": raw}, model)
