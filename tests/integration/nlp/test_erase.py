"""nlp eraseAnswer against moto: the answer's metadata item goes, a duplicate is harmless, and an answer
recorded after the erasure (same id) is kept."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from nlp import composition
from nlp.handlers import erase
from vidsense_shared.events import AnswerDeleted, AnswerDeletedData

from .conftest import METADATA_TABLE, Stack, lambda_context, load_delivery

USER_KEY = "ab" * 32
ANSWER_ID = f"onboarding/2/{USER_KEY}"
ERASED_AT = datetime(2026, 11, 29, 10, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_store() -> Iterator[None]:
    composition.answer_eraser.cache_clear()
    yield
    composition.answer_eraser.cache_clear()


def answer_deleted() -> dict[str, Any]:
    event = AnswerDeleted.create(
        AnswerDeletedData(project="onboarding", step="2", user_key=USER_KEY, attempt=2),
        correlation_id=ANSWER_ID,
        causation_id=None,
        occurred_at=ERASED_AT,
    )
    raw = load_delivery("en-US")
    raw["detail-type"], raw["source"] = "AnswerDeleted", "vidsense.ingest"
    raw["detail"] = json.loads(event.detail_json())
    return raw


def put_item(answer_id: str, analyzed_at: datetime) -> None:
    boto3.resource("dynamodb").Table(METADATA_TABLE).put_item(
        Item={"answer_id": answer_id, "attempt": 2, "analyzed_at": analyzed_at.isoformat(), "transcript": "hello"}
    )


def test_the_answers_item_goes_and_a_duplicate_finds_nothing(stack: Stack):
    put_item(ANSWER_ID, ERASED_AT - timedelta(minutes=3))
    put_item(f"onboarding/2/{'cd' * 32}", ERASED_AT - timedelta(minutes=3))

    assert erase.handler(answer_deleted(), lambda_context()) == {"deleted": True}
    assert stack.item(ANSWER_ID) is None
    assert stack.item(f"onboarding/2/{'cd' * 32}") is not None
    assert erase.handler(answer_deleted(), lambda_context()) == {"deleted": False}


def test_an_answer_analysed_after_the_erasure_is_kept(stack: Stack):
    put_item(ANSWER_ID, ERASED_AT + timedelta(minutes=1))
    assert erase.handler(answer_deleted(), lambda_context()) == {"deleted": False}
    assert stack.item(ANSWER_ID) is not None


def test_another_detail_type_is_refused(stack: Stack):
    with pytest.raises(ValueError):
        erase.handler(load_delivery("en-US"), lambda_context())
