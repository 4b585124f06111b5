"""The work bucket's objects (versioned): erasure removes every version and delete marker under a prefix."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from vidsense_shared.s3 import delete_prefix_versions

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class S3WorkObjects:
    def __init__(self, client: S3Client) -> None:
        self._s3 = client

    def delete_prefix(self, bucket: str, prefix: str, *, written_before: datetime) -> int:
        """vidsense_shared.s3.VersionsLeftError when S3 refuses some versions, so Lambda retries."""
        return delete_prefix_versions(self._s3, bucket, prefix, written_before=written_before)
