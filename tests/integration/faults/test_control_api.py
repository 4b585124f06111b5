"""The control API on the endpoint itself, for tests in another process (and curl)."""

from __future__ import annotations

import pytest
import requests
from botocore.exceptions import ClientError

from vidsense_local.faults import CONTROL_PATH, FaultClient


def test_add_list_and_clear_over_http(aws):
    url = aws.url + CONTROL_PATH
    created = requests.post(
        url,
        json={"service": "comprehend", "operation": "DetectSentiment", "code": "ThrottlingException", "count": 1},
        timeout=5,
    )
    assert created.status_code == 201
    rule = created.json()
    assert (rule["service"], rule["remaining"], rule["fired"]) == ("comprehend", 1, 0)

    with pytest.raises(ClientError):
        aws.client("comprehend").detect_sentiment(Text="fine", LanguageCode="en")
    listed = requests.get(url, timeout=5).json()["rules"]
    assert [(r["id"], r["fired"], r["remaining"]) for r in listed] == [(rule["id"], 1, 0)]

    assert requests.delete(url, timeout=5).json() == {"rules": []}
    assert requests.get(url, timeout=5).json() == {"rules": []}


def test_a_list_of_rules_and_removal_by_id(aws):
    url = aws.url + CONTROL_PATH
    created = requests.post(
        url, json=[{"service": "dynamodb", "count": None}, {"service": "transcribe", "effect": "job-failed"}], timeout=5
    )
    assert created.status_code == 201
    first, second = created.json()
    assert second["effect"] == "job-failed"
    assert requests.delete(f"{url}/{first['id']}", timeout=5).status_code == 200
    assert requests.delete(f"{url}/{first['id']}", timeout=5).status_code == 404
    assert [r.id for r in aws.registry.rules()] == [second["id"]]


@pytest.mark.parametrize("body", ['{"service": "comprehend", "probability": 3}', "not json", "[]", '"a"'])
def test_bad_rules_are_400(aws, body):
    response = requests.post(aws.url + CONTROL_PATH, data=body, timeout=5)
    assert response.status_code == 400
    assert response.json()["error"]
    assert aws.registry.rules() == []


def test_fault_client(aws):
    client = FaultClient(aws.url)
    added = client.add(service="dynamodb", operation="GetItem", code="ThrottlingException", count=2)
    assert [r["id"] for r in client.rules()] == [added["id"]]
    client.remove(added["id"])
    client.add(service="dynamodb")
    client.clear()
    assert client.rules() == []
