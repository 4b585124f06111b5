"""The metadata store keeps the newest analysis of an answer: two replays of one attempt racing end on the later."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from nlp.adapters.metadata import DynamoMetadataStore
from nlp.domain.scoring import Scores, Sentiment
from tests.unit.nlp.test_metadata_item import WHEN, _record


@pytest.fixture
def store() -> Iterator[tuple[DynamoMetadataStore, Any]]:
    # Inside this package's moto session (a shared account): a table of its own per test.
    with mock_aws():
        table = f"vidsense-test-order-{uuid.uuid4().hex[:8]}"
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "answer_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "answer_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield DynamoMetadataStore(table, client), client


def _stored(metadata: DynamoMetadataStore, client: Any, answer_id: str) -> dict[str, Any]:
    table = metadata._table
    item: dict[str, Any] = client.get_item(TableName=table, Key={"answer_id": {"S": answer_id}})["Item"]
    return item


def test_a_later_analysis_of_the_same_attempt_replaces_an_earlier_one(store):
    metadata, client = store
    first = _record("I liked it.", Sentiment("POSITIVE", Scores(0.9, 0.05, 0.04, 0.01)))
    later = replace(first, analyzed_at=WHEN + timedelta(seconds=5))
    assert metadata.save(first) and metadata.save(later)
    assert _stored(metadata, client, first.answer.answer_id)["analyzed_at"]["S"] == later.analyzed_at.isoformat()


def test_an_earlier_analysis_of_the_same_attempt_arriving_late_is_superseded(store):
    metadata, client = store
    later = _record("I liked it.", Sentiment("POSITIVE", Scores(0.9, 0.05, 0.04, 0.01)))
    earlier = replace(later, analyzed_at=WHEN - timedelta(seconds=5), sentiment=None, chunk_count=0)
    assert metadata.save(later)
    assert not metadata.save(earlier)
    item = _stored(metadata, client, later.answer.answer_id)
    assert item["analyzed_at"]["S"] == later.analyzed_at.isoformat() and item["Sentiment"]["S"] == "POSITIVE"


def test_the_same_analysis_written_again_is_accepted(store):
    # A retry of the very same write (same time) must not be refused: the handler would call it superseded.
    metadata, _ = store
    record = _record("I liked it.", Sentiment("POSITIVE", Scores(0.9, 0.05, 0.04, 0.01)))
    assert metadata.save(record) and metadata.save(record)
