"""Optimistic writes on a revision number: the retry rounds and the DynamoDB condition (moto)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from vidsense_shared.optimistic import MAX_WRITE_ROUNDS, next_revision, retry_on_conflict, revision_condition

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


def _put(client: Any, expected_revision: int | None) -> None:
    item = {"answer_id": {"S": "a"}, "revision": {"N": str(next_revision(expected_revision))}}
    client.put_item(TableName=TABLE, Item=item, **revision_condition(expected_revision, key_attribute="answer_id"))


def test_the_condition_admits_only_the_writer_that_read_the_current_revision(dynamodb: Any):
    # Given an item created by a writer that found none (revision 1)
    _put(dynamodb, None)
    # When a second creator and a writer holding a stale revision write, Then both are refused
    for stale in (None, 0, 2):
        with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
            _put(dynamodb, stale)
    # And the writer that read revision 1 writes revision 2
    _put(dynamodb, 1)
    stored = dynamodb.get_item(TableName=TABLE, Key={"answer_id": {"S": "a"}})["Item"]
    assert stored["revision"] == {"N": "2"}


def test_a_delete_is_conditional_on_the_revision_too(dynamodb: Any):
    _put(dynamodb, None)
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
        dynamodb.delete_item(
            TableName=TABLE, Key={"answer_id": {"S": "a"}}, **revision_condition(2, key_attribute="answer_id")
        )
    dynamodb.delete_item(
        TableName=TABLE, Key={"answer_id": {"S": "a"}}, **revision_condition(1, key_attribute="answer_id")
    )
    assert "Item" not in dynamodb.get_item(TableName=TABLE, Key={"answer_id": {"S": "a"}})
