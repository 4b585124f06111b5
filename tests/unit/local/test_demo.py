"""The demo's read of the answers table (vidsense_local.demo.answer_item): the event trail it prints."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.moto_state import reset_moto
from vidsense_local.clients import LOCAL_ACCESS_KEY, LOCAL_REGION
from vidsense_local.demo import ANSWERS_TABLE, StackEndpoints, answer_item, trail_of
from vidsense_shared.dynamodb_items import to_item


@pytest.fixture
def endpoints() -> Iterator[StackEndpoints]:
    reset_moto()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        url = f"http://127.0.0.1:{server.get_host_and_port()[1]}"
        dynamodb = boto3.client(
            "dynamodb",
            endpoint_url=url,
            region_name=LOCAL_REGION,
            aws_access_key_id=LOCAL_ACCESS_KEY,
            aws_secret_access_key=LOCAL_ACCESS_KEY,
        )
        dynamodb.create_table(
            TableName=ANSWERS_TABLE,
            KeySchema=[{"AttributeName": "answer_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "answer_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.put_item(TableName=ANSWERS_TABLE, Item=to_item(ANALYZED))
        yield StackEndpoints(api_url="http://127.0.0.1:1", aws_url=url, issuer="http://127.0.0.1:1", audience="a")
    finally:
        server.stop()
        reset_moto()


# An answers-table item as ingest writes it (vidsense_shared.dynamodb_items): numbers, scores and a trail.
ANALYZED = {
    "answer_id": "demo/1/" + "ab" * 32,
    "status": "ANALYZED",
    "attempt": 2,
    "sentiment_score": {"positive": 0.91, "negative": 0.01, "neutral": 0.07, "mixed": 0.01},
    "trail": {
        "e2": {
            "detail_type": "SentimentDetected",
            "event_id": "e2",
            "occurred_at": "2026-12-02T00:00:09Z",
            "attempt": 2,
        },
        "e1": {"detail_type": "VideoUploaded", "event_id": "e1", "occurred_at": "2026-12-02T00:00:01Z", "attempt": 2},
    },
}


def test_the_demo_reads_an_answer_as_ingest_wrote_it(endpoints: StackEndpoints) -> None:
    # When the demo reads the answer's item from the local endpoint
    item = answer_item(endpoints, str(ANALYZED["answer_id"]))
    # Then it has the values ingest wrote (no DynamoDB Decimals), and its trail in the order the events occurred
    assert item == ANALYZED
    assert [entry["detail_type"] for entry in trail_of(item)] == ["VideoUploaded", "SentimentDetected"]


def test_an_answer_the_table_does_not_hold_is_empty(endpoints: StackEndpoints) -> None:
    assert answer_item(endpoints, "demo/1/" + "cd" * 32) == {}
