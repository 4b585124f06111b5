"""Given the edge on a free port, requests reach moto or a stand-in by their SigV4 service name."""

from __future__ import annotations

import uuid

import requests

from tests.integration.local.conftest import Stack
from vidsense_local.edge.server import signing_service


def test_s3_and_dynamodb_requests_reach_moto(stack: Stack) -> None:
    s3 = stack.client("s3")
    bucket = f"b-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"hello")
    assert s3.get_object(Bucket=bucket, Key="a.txt")["Body"].read() == b"hello"

    ddb = stack.client("dynamodb")
    table = f"t-{uuid.uuid4().hex[:8]}"
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    assert table in ddb.list_tables()["TableNames"]
    assert stack.standin.requests == [] or all("Transcription" in r["target"] for r in stack.standin.requests)


def test_presigned_put_and_unsigned_post_reach_moto(stack: Stack) -> None:
    s3 = stack.client("s3")
    bucket = f"b-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "up.bin"}, ExpiresIn=60)
    assert requests.put(url, data=b"x" * 10, timeout=10).status_code == 200
    post = s3.generate_presigned_post(bucket, "form.bin", ExpiresIn=60)
    resp = requests.post(post["url"], data=post["fields"], files={"file": b"y" * 5}, timeout=10)
    assert resp.status_code in (200, 204)
    assert s3.head_object(Bucket=bucket, Key="up.bin")["ContentLength"] == 10
    assert s3.head_object(Bucket=bucket, Key="form.bin")["ContentLength"] == 5


def test_stand_in_signing_name_goes_to_the_stand_in(stack: Stack) -> None:
    before = len(stack.standin.requests)
    answer = stack.client("transcribe").list_transcription_jobs()
    assert answer["TranscriptionJobSummaries"] == []
    assert len(stack.standin.requests) == before + 1
    assert stack.standin.requests[-1]["target"] == "Transcribe.ListTranscriptionJobs"
    assert stack.standin.started
    assert stack.standin.sink is not None


def test_signing_service_reads_header_and_presigned_query() -> None:
    header = {
        "HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=test/20261129/us-east-1/comprehend/aws4_request, "
        "SignedHeaders=host, Signature=abc"
    }
    assert signing_service(header) == "comprehend"
    query = {"QUERY_STRING": "X-Amz-Credential=test%2F20261129%2Fus-east-1%2Fmediaconvert%2Faws4_request&x=1"}
    assert signing_service(query) == "mediaconvert"
    assert signing_service({"QUERY_STRING": ""}) is None
