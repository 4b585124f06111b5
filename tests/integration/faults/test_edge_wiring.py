"""The real edge (``start_edge``) serves the fault control API and S3's presigned checks."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from vidsense_local.clients import local_client
from vidsense_local.edge import EdgeHandle, start_edge
from vidsense_local.faults import FaultClient


@pytest.fixture(scope="module")
def edge() -> Iterator[EdgeHandle]:
    handle = start_edge(0, None, [])
    try:
        yield handle
    finally:
        handle.stop()


def client(edge: EdgeHandle, service: str) -> Any:
    return local_client(service, edge.url, "us-east-1", retries=0, path_style=True)


def test_faults_injected_over_http_reach_sdk_calls(edge):
    faults = FaultClient(edge.url)
    faults.clear()
    faults.add(service="dynamodb", operation="ListTables", code="ThrottlingException", count=1)
    ddb = client(edge, "dynamodb")
    with pytest.raises(ClientError) as raised:
        ddb.list_tables()
    assert raised.value.response["Error"]["Code"] == "ThrottlingException"
    assert "TableNames" in ddb.list_tables()
    assert [r["fired"] for r in faults.rules()] == [1]
    faults.clear()


def test_presigned_posts_are_checked(edge):
    s3 = client(edge, "s3")
    bucket = f"wired-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    post = s3.generate_presigned_post(
        bucket, "a.webm", Fields={"Content-Type": "video/webm"}, Conditions=[{"Content-Type": "video/webm"}]
    )
    ok = requests.post(post["url"], data=post["fields"], files={"file": b"x"}, timeout=10)
    assert ok.status_code == 204
    wrong = {**post["fields"], "Content-Type": "text/html"}
    refused = requests.post(post["url"], data=wrong, files={"file": b"x"}, timeout=10)
    assert refused.status_code == 403
    assert b"Policy Condition failed" in refused.content
