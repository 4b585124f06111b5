"""Reading Transcribe's output JSON from S3 (the TranscriptReady event carries only a pointer)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from nlp.domain.errors import TranscriptUnavailable
from vidsense_shared.events import S3Pointer


class S3TranscriptStore:
    def __init__(self, s3_client: Any) -> None:
        self._s3 = s3_client

    def read(self, pointer: S3Pointer) -> bytes:
        request: dict[str, str] = {"Bucket": pointer.bucket, "Key": pointer.key}
        if pointer.version_id:
            request["VersionId"] = pointer.version_id
        try:
            response = self._s3.get_object(**request)
            body: bytes = response["Body"].read()
        except ClientError as exc:
            # A missing object is not the answer's fault (eventual consistency, wrong bucket policy, early
            # delivery): raise so Lambda retries and the dead-letter queue keeps the event.
            code = exc.response.get("Error", {}).get("Code", "Unknown")
            raise TranscriptUnavailable(f"cannot read {pointer.uri}: {code}") from exc
        return body
