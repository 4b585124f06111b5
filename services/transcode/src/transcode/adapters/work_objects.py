"""The work bucket's objects (versioned): erasure removes every version and delete marker under a prefix."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_DELETE_BATCH = 1000  # DeleteObjects takes at most 1000 keys


class WorkObjectsError(RuntimeError):
    """S3 refused to delete some versions; raised so Lambda retries."""


class S3WorkObjects:
    def __init__(self, client: S3Client) -> None:
        self._s3 = client

    def delete_prefix(self, bucket: str, prefix: str, *, written_before: datetime) -> int:
        targets: list[Any] = []
        for page in self._s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
            for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                if entry["LastModified"] <= written_before:
                    targets.append({"Key": entry["Key"], "VersionId": entry["VersionId"]})
        for start in range(0, len(targets), _DELETE_BATCH):
            batch = targets[start : start + _DELETE_BATCH]
            response = self._s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
            if response.get("Errors"):
                raise WorkObjectsError(f"delete_objects left {len(response['Errors'])} version(s) under {prefix}")
        return len(targets)
