"""The media bucket and transcript objects (S3)."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from ingest.domain.errors import MediaStoreError, TranscriptUnavailableError
from ingest.domain.ports import ObjectInfo
from ingest.domain.views import UploadForm
from vidsense_shared.events import S3Pointer
from vidsense_shared.s3 import ObjectMissingError, VersionsLeftError, delete_key_versions, head_object, read_object

__all__ = ["MediaStoreError", "S3MediaStore"]


class S3MediaStore:
    def __init__(self, s3_client: Any) -> None:
        self._s3 = s3_client

    def head_version(self, bucket: str, key: str, version_id: str) -> ObjectInfo | None:
        try:
            head = head_object(self._s3, bucket, key, version_id)
        except ObjectMissingError:
            return None
        except ClientError as exc:
            raise MediaStoreError(f"head_object failed for {key}@{version_id}: {exc}") from exc
        content_type = str(head.get("ContentType", ""))
        return ObjectInfo(size_bytes=int(head["ContentLength"]), content_type=content_type)

    def delete_version(self, bucket: str, key: str, version_id: str) -> None:
        try:
            self._s3.delete_object(Bucket=bucket, Key=key, VersionId=version_id)
        except ClientError as exc:
            raise MediaStoreError(f"delete_object failed for {key}@{version_id}: {exc}") from exc

    def delete_all_versions(self, bucket: str, key: str) -> int:
        try:
            return delete_key_versions(self._s3, bucket, key)
        except (ClientError, VersionsLeftError) as exc:
            raise MediaStoreError(f"erasing the versions of {key} failed: {exc}") from exc

    def exists(self, bucket: str, key: str) -> bool:
        try:
            head_object(self._s3, bucket, key)
        except ObjectMissingError:
            return False
        except ClientError as exc:
            raise MediaStoreError(f"head_object failed for {key}: {exc}") from exc
        return True

    def presign_post(self, bucket: str, key: str, *, content_type: str, max_bytes: int, expires_in: int) -> UploadForm:
        # boto3 adds the exact bucket and key conditions itself; the type and size are ours.
        post = self._s3.generate_presigned_post(
            Bucket=bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
            ExpiresIn=expires_in,
        )
        return UploadForm(url=str(post["url"]), fields={k: str(v) for k, v in post["fields"].items()})

    def read_json(self, pointer: S3Pointer) -> Any:
        try:
            body = read_object(self._s3, pointer)
        except ObjectMissingError as exc:
            raise TranscriptUnavailableError(f"{pointer.uri} does not exist") from exc
        except ClientError as exc:
            raise MediaStoreError(f"get_object failed for {pointer.uri}: {exc}") from exc
        try:
            return json.loads(body)
        except ValueError as exc:
            raise TranscriptUnavailableError(f"{pointer.uri} is not JSON") from exc
