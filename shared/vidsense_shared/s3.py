"""S3 calls every adapter makes alike: reads that tell a missing object from a refusal, and erasing versions.

S3 answers a missing object or version with NoSuchKey / NoSuchVersion (404 without a body for HEAD) only to a
caller allowed to list the bucket; anyone else gets 403 AccessDenied, which stays an ordinary ClientError.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from vidsense_shared.aws_errors import error_code
from vidsense_shared.events import S3Pointer

MISSING_CODES = frozenset({"404", "NoSuchKey", "NoSuchVersion", "NotFound"})
DELETE_BATCH = 1000  # DeleteObjects takes at most 1000 keys


class ObjectMissingError(LookupError):
    """The object, or the version asked for, does not exist; ``code`` is S3's answer."""

    def __init__(self, uri: str, code: str) -> None:
        super().__init__(f"{uri} does not exist ({code})")
        self.uri = uri
        self.code = code


class VersionsLeftError(RuntimeError):
    """DeleteObjects refused some of the versions; raised so the caller's retry path takes over."""


def _missing(exc: ClientError, bucket: str, key: str) -> ClientError | ObjectMissingError:
    code = error_code(exc)
    return ObjectMissingError(f"s3://{bucket}/{key}", code) if code in MISSING_CODES else exc


def _request(bucket: str, key: str, version_id: str | None) -> dict[str, str]:
    request = {"Bucket": bucket, "Key": key}
    if version_id:
        request["VersionId"] = version_id
    return request


def read_object(s3: Any, pointer: S3Pointer) -> bytes:
    """The object's bytes (its version when the pointer names one); ObjectMissingError when it is not there,
    any other ClientError as S3 raised it."""
    try:
        body: bytes = s3.get_object(**_request(pointer.bucket, pointer.key, pointer.version_id))["Body"].read()
    except ClientError as exc:
        raise _missing(exc, pointer.bucket, pointer.key) from exc
    return body


def head_object(s3: Any, bucket: str, key: str, version_id: str | None = None) -> Mapping[str, Any]:
    """HeadObject's answer (of that version when given); ObjectMissingError when it is not there."""
    try:
        head: Mapping[str, Any] = s3.head_object(**_request(bucket, key, version_id))
    except ClientError as exc:
        raise _missing(exc, bucket, key) from exc
    return head


def delete_key_versions(s3: Any, bucket: str, key: str) -> int:
    """Delete every version and delete marker of exactly ``key``; the number deleted."""
    return _delete_versions(s3, bucket, key, lambda entry: entry["Key"] == key)  # the prefix matches longer keys


def delete_prefix_versions(s3: Any, bucket: str, prefix: str, *, written_before: datetime) -> int:
    """Delete every version and delete marker under ``prefix`` written at or before ``written_before`` (an object
    written later belongs to whatever reused the prefix since); the number deleted."""
    return _delete_versions(s3, bucket, prefix, lambda entry: entry["LastModified"] <= written_before)


def _delete_versions(s3: Any, bucket: str, prefix: str, wanted: Callable[[Mapping[str, Any]], bool]) -> int:
    targets: list[dict[str, str]] = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            if wanted(entry):
                targets.append({"Key": entry["Key"], "VersionId": entry["VersionId"]})
    for start in range(0, len(targets), DELETE_BATCH):
        batch = targets[start : start + DELETE_BATCH]
        response = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        if response.get("Errors"):
            raise VersionsLeftError(f"delete_objects left {len(response['Errors'])} version(s) under {prefix}")
    return len(targets)
