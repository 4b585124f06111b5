"""The media bucket and transcript objects (S3)."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from ingest.domain.errors import MediaStoreError, TranscriptUnavailableError
from ingest.domain.ports import ObjectInfo
from ingest.domain.views import UploadForm
from vidsense_shared.aws_errors import error_code
from vidsense_shared.events import S3Pointer

_MISSING = frozenset({"404", "NoSuchKey", "NoSuchVersion", "NotFound"})
_DELETE_BATCH = 1000  # DeleteObjects takes at most 1000 keys

__all__ = ["MediaStoreError", "S3MediaStore"]


class S3MediaStore:
    def __init__(self, s3_client: Any) -> None:
        self._s3 = s3_client

    def head_version(self, bucket: str, key: str, version_id: str) -> ObjectInfo | None:
        try:
            head = self._s3.head_object(Bucket=bucket, Key=key, VersionId=version_id)
        except ClientError as exc:
            if error_code(exc) in _MISSING:
                return None
            raise MediaStoreError(f"head_object failed for {key}@{version_id}: {exc}") from exc
        content_type = str(head.get("ContentType", ""))
        return ObjectInfo(size_bytes=int(head["ContentLength"]), content_type=content_type)

    def delete_version(self, bucket: str, key: str, version_id: str) -> None:
        try:
            self._s3.delete_object(Bucket=bucket, Key=key, VersionId=version_id)
        except ClientError as exc:
            raise MediaStoreError(f"delete_object failed for {key}@{version_id}: {exc}") from exc

    def delete_all_versions(self, bucket: str, key: str) -> int:
        targets: list[dict[str, str]] = []
        try:
            for page in self._s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=key):
                for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                    if entry["Key"] == key:  # the prefix also matches longer keys
                        targets.append({"Key": key, "VersionId": str(entry["VersionId"])})
            for start in range(0, len(targets), _DELETE_BATCH):
                batch = targets[start : start + _DELETE_BATCH]
                response = self._s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
                if response.get("Errors"):
                    raise MediaStoreError(f"delete_objects left {len(response['Errors'])} version(s) of {key}")
        except ClientError as exc:
            raise MediaStoreError(f"erasing the versions of {key} failed: {exc}") from exc
        return len(targets)

    def exists(self, bucket: str, key: str) -> bool:
        try:
            self._s3.head_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if error_code(exc) in _MISSING:
                return False
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
        request: dict[str, Any] = {"Bucket": pointer.bucket, "Key": pointer.key}
        if pointer.version_id:
            request["VersionId"] = pointer.version_id
        try:
            body = self._s3.get_object(**request)["Body"].read()
        except ClientError as exc:
            if error_code(exc) in _MISSING:
                raise TranscriptUnavailableError(f"{pointer.uri} does not exist") from exc
            raise MediaStoreError(f"get_object failed for {pointer.uri}: {exc}") from exc
        try:
            return json.loads(body)
        except ValueError as exc:
            raise TranscriptUnavailableError(f"{pointer.uri} is not JSON") from exc
