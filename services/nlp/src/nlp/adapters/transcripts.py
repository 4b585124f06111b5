"""Reading Transcribe's output JSON from S3 (the TranscriptReady event carries only a pointer)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from nlp.domain.errors import TranscriptMissing, TranscriptUnavailable
from vidsense_shared.aws_errors import error_code
from vidsense_shared.events import S3Pointer
from vidsense_shared.s3 import ObjectMissingError, read_object

# S3 says an object is missing only to a caller allowed to list the bucket (otherwise 403 AccessDenied): the
# function's role may list the transcripts prefix for that reason.


class S3TranscriptStore:
    def __init__(self, s3_client: Any) -> None:
        self._s3 = s3_client

    def read(self, pointer: S3Pointer) -> bytes:
        try:
            return read_object(self._s3, pointer)
        except ObjectMissingError as exc:
            # Permanent: S3 is strongly consistent and TranscriptReady follows Transcribe's write.
            raise TranscriptMissing(f"no transcript at {pointer.uri}: {exc.code}") from exc
        except ClientError as exc:
            # Access problems, throttling, outages: raise so Lambda retries and the dead-letter queue keeps it.
            raise TranscriptUnavailable(f"cannot read {pointer.uri}: {error_code(exc) or 'Unknown'}") from exc
