"""Reading Transcribe's output JSON from S3 (the TranscriptReady event carries only a pointer)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from nlp.domain.errors import TranscriptMissing, TranscriptUnavailable
from vidsense_shared.aws_errors import error_code
from vidsense_shared.events import S3Pointer

# S3's answers for an object (or version) that does not exist. S3 answers them only to a caller allowed to list
# the bucket (otherwise 403 AccessDenied): the function's role may list the transcripts prefix for that reason.
_MISSING = frozenset({"NoSuchKey", "NoSuchVersion", "404"})


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
            code = error_code(exc) or "Unknown"
            if code in _MISSING:
                # Permanent: S3 is strongly consistent and TranscriptReady follows Transcribe's write.
                raise TranscriptMissing(f"no transcript at {pointer.uri}: {code}") from exc
            # Access problems, throttling, outages: raise so Lambda retries and the dead-letter queue keeps it.
            raise TranscriptUnavailable(f"cannot read {pointer.uri}: {code}") from exc
        return body
