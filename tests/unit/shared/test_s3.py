"""Guarded S3 reads and version erasure (moto for S3's behaviour, botocore Stubber for its paging and refusals)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from vidsense_shared.events import S3Pointer
from vidsense_shared.s3 import (
    DELETE_BATCH,
    ObjectMissingError,
    VersionsLeftError,
    delete_key_versions,
    delete_prefix_versions,
    head_object,
    read_object,
)

BUCKET = "vidsense-test-work"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket=BUCKET)
        client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        yield client


def _versions(s3: Any) -> list[tuple[str, bool]]:
    page = s3.list_object_versions(Bucket=BUCKET)
    return sorted(
        [(v["Key"], False) for v in page.get("Versions", [])]
        + [(m["Key"], True) for m in page.get("DeleteMarkers", [])]
    )


def test_a_read_returns_the_version_the_pointer_names(s3: Any):
    first = s3.put_object(Bucket=BUCKET, Key="t.json", Body=b"first")["VersionId"]
    s3.put_object(Bucket=BUCKET, Key="t.json", Body=b"second")
    assert read_object(s3, S3Pointer(bucket=BUCKET, key="t.json", version_id=first)) == b"first"
    assert read_object(s3, S3Pointer(bucket=BUCKET, key="t.json")) == b"second"


def test_a_missing_key_or_version_is_one_typed_error(s3: Any):
    version = s3.put_object(Bucket=BUCKET, Key="t.json", Body=b"x")["VersionId"]
    s3.delete_object(Bucket=BUCKET, Key="t.json", VersionId=version)
    # Given a key that never existed, and a version that was deleted
    for pointer in (
        S3Pointer(bucket=BUCKET, key="never.json"),
        S3Pointer(bucket=BUCKET, key="t.json", version_id=version),
    ):
        # When either is read or headed, Then S3's 'not there' is ObjectMissingError naming the object
        with pytest.raises(ObjectMissingError, match=f"s3://{BUCKET}/{pointer.key} does not exist") as read:
            read_object(s3, pointer)
        assert read.value.code in {"NoSuchKey", "NoSuchVersion"}
        with pytest.raises(ObjectMissingError) as head:
            head_object(s3, BUCKET, pointer.key, pointer.version_id)
        assert head.value.code in {"404", "NoSuchKey", "NoSuchVersion"}


def test_a_refusal_is_not_a_missing_object():
    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        stubber.add_client_error("get_object", service_error_code="AccessDenied", http_status_code=403)
        with pytest.raises(ClientError) as caught:
            read_object(client, S3Pointer(bucket=BUCKET, key="t.json"))
    assert not isinstance(caught.value, ObjectMissingError)


def test_every_version_and_delete_marker_of_exactly_the_key_goes(s3: Any):
    # Given two versions and a delete marker of a key, and a longer key it is a prefix of
    for body in (b"1", b"2"):
        s3.put_object(Bucket=BUCKET, Key="a/video.webm", Body=body)
    s3.delete_object(Bucket=BUCKET, Key="a/video.webm")
    s3.put_object(Bucket=BUCKET, Key="a/video.webm.part", Body=b"other")
    # When the key's versions are deleted
    deleted = delete_key_versions(s3, BUCKET, "a/video.webm")
    # Then all three went and the longer key stayed
    assert deleted == 3
    assert _versions(s3) == [("a/video.webm.part", False)]


def test_a_prefix_loses_only_what_was_written_before_the_cutoff(s3: Any):
    s3.put_object(Bucket=BUCKET, Key="audio/a/1.mp4", Body=b"1")
    s3.delete_object(Bucket=BUCKET, Key="audio/a/1.mp4")
    s3.put_object(Bucket=BUCKET, Key="audio/b/1.mp4", Body=b"other answer")
    # A cutoff after everything: the prefix's version and marker go, the other prefix stays
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert delete_prefix_versions(s3, BUCKET, "audio/a/", written_before=later) == 2
    assert _versions(s3) == [("audio/b/1.mp4", False)]
    # A cutoff before everything: nothing goes
    earlier = datetime.now(UTC) - timedelta(hours=1)
    assert delete_prefix_versions(s3, BUCKET, "audio/b/", written_before=earlier) == 0
    assert _versions(s3) == [("audio/b/1.mp4", False)]


def _entries(count: int, moment: datetime) -> list[dict[str, Any]]:
    return [{"Key": f"p/{i}", "VersionId": f"v{i}", "LastModified": moment} for i in range(count)]


def test_versions_are_listed_page_by_page_and_deleted_in_batches_of_1000():
    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    entries = _entries(2500, moment)
    with Stubber(client) as stubber:
        # Given 2,500 versions over two listing pages
        stubber.add_response(
            "list_object_versions",
            {"Versions": entries[:1500], "IsTruncated": True, "NextKeyMarker": "p/1499", "NextVersionIdMarker": "v"},
            {"Bucket": BUCKET, "Prefix": "p/"},
        )
        stubber.add_response(
            "list_object_versions",
            {"Versions": entries[1500:], "IsTruncated": False},
            {"Bucket": BUCKET, "Prefix": "p/", "KeyMarker": "p/1499", "VersionIdMarker": "v"},
        )
        # Then three DeleteObjects calls of at most 1000 each, in order
        for start in range(0, 2500, DELETE_BATCH):
            batch = [{"Key": e["Key"], "VersionId": e["VersionId"]} for e in entries[start : start + DELETE_BATCH]]
            stubber.add_response("delete_objects", {}, {"Bucket": BUCKET, "Delete": {"Objects": batch, "Quiet": True}})
        assert delete_prefix_versions(client, BUCKET, "p/", written_before=moment) == 2500
        stubber.assert_no_pending_responses()


def test_versions_s3_refused_to_delete_raise():
    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    with Stubber(client) as stubber:
        stubber.add_response("list_object_versions", {"Versions": _entries(2, moment), "IsTruncated": False})
        stubber.add_response("delete_objects", {"Errors": [{"Key": "p/1", "VersionId": "v1", "Code": "AccessDenied"}]})
        with pytest.raises(VersionsLeftError, match="left 1 version"):
            delete_prefix_versions(client, BUCKET, "p/", written_before=moment)
