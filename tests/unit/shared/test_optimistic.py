"""Optimistic writes on a revision number: the retry rounds and the DynamoDB condition (moto)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from vidsense_shared.optimistic import (
    MAX_WRITE_ROUNDS,
    RevisionedItems,
    retry_on_conflict,
)

TABLE = "optimistic-test"


class LostRace(Exception):
    pass


def test_a_round_that_loses_the_race_runs_again_until_one_wins():
    # Given a write that loses twice, then wins
    results: Iterator[str | None] = iter([None, None, "written"])
    rounds: list[int] = []

    def write_round() -> str:
        rounds.append(len(rounds) + 1)
        result = next(results)
        if result is None:
            raise LostRace("changed since read")
        return result

    # When it is retried on conflict, Then the third round's result comes back
    assert retry_on_conflict(write_round, conflict=LostRace, subject="answer a") == "written"
    assert rounds == [1, 2, 3]


def test_endless_contention_raises_the_conflict_naming_the_subject():
    rounds: list[int] = []

    def write_round() -> None:
        rounds.append(1)
        raise LostRace("changed since read")

    with pytest.raises(LostRace, match=f"answer a kept changing during {MAX_WRITE_ROUNDS} write rounds"):
        retry_on_conflict(write_round, conflict=LostRace, subject="answer a")
    assert len(rounds) == MAX_WRITE_ROUNDS


def test_any_other_error_is_not_retried():
    rounds: list[int] = []

    def write_round() -> None:
        rounds.append(1)
        raise KeyError("not a race")

    with pytest.raises(KeyError):
        retry_on_conflict(write_round, conflict=LostRace, subject="answer a")
    assert rounds == [1]


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        client = boto3.client("dynamodb")
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "answer_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "answer_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


def test_revisioned_items_write_only_at_the_revision_read(dynamodb: Any):
    items = RevisionedItems(dynamodb, TABLE, key_attribute="answer_id")
    key = {"answer_id": {"S": "a"}}
    # Given a new item, stored as revision 1
    assert items.put({**key, "text": {"S": "first"}}, None)
    assert items.get(key) == {**key, "text": {"S": "first"}, "revision": {"N": "1"}}
    # When a second creator and a writer holding a stale revision write, Then neither writes
    assert not items.put({**key, "text": {"S": "lost"}}, None)
    for stale in (0, 2):
        assert not items.put({**key, "text": {"S": "lost"}}, stale)
    # And the writer that read revision 1 stores revision 2
    assert items.put({**key, "text": {"S": "second"}}, 1)
    assert items.get(key) == {**key, "text": {"S": "second"}, "revision": {"N": "2"}}
    # A delete at a stale revision leaves the item; at the current one it goes
    assert not items.delete(key, 1)
    assert items.delete(key, 2)
    assert items.get(key) is None
