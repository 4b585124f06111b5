"""S3's checks of presigned requests, which moto skips, as WSGI middleware in front of moto's S3.

Public API::

    app = s3guard.wrap(moto_app, s3guard.LOCAL_CREDENTIALS, clock=time.time)

- Query-string-signed requests (``X-Amz-Credential`` with service ``s3``): SigV4 signature recomputed with
  botocore's presigner over the received method, path, query and *received* values of the signed headers
  (403 SignatureDoesNotMatch; so a PUT that signed ``If-None-Match``/``Content-Length`` must send them), unknown
  access key (403 InvalidAccessKeyId), expiry (403 AccessDenied "Request has expired"), unsigned ``x-amz-*``
  headers (403 AccessDenied). ``If-None-Match: *`` on an existing key is moto's own 412 PreconditionFailed.
- ``multipart/form-data`` POSTs (browser uploads): policy signature (403 SignatureDoesNotMatch), expiration
  (403 "Invalid according to Policy: Policy expired."), every ``eq``/``starts-with``/exact condition including
  ``bucket`` and ``key`` (403 "Invalid according to Policy: Policy Condition failed: [...]"), fields no condition
  covers (403 "Extra input fields"), ``content-length-range`` against the file part (400 EntityTooLarge /
  EntityTooSmall). A form without a policy is an anonymous upload: 403 AccessDenied (no public-write buckets).
- Requests signed with an ``Authorization`` header (SDK calls) and unsigned non-POST requests pass unchanged.
"""

from vidsense_local.s3guard._common import S3Error, WSGIApp
from vidsense_local.s3guard.middleware import S3Guard, wrap

#: Access key -> secret of every fixed credential the local stack hands out (functions, CLI and deploy use
#: "test"; the stand-ins "vidsense-local-standin"; several test suites "testing").
LOCAL_CREDENTIALS: dict[str, str] = {
    "test": "test",
    "testing": "testing",
    "vidsense-local-standin": "vidsense-local-standin",
}

__all__ = ["LOCAL_CREDENTIALS", "S3Error", "S3Guard", "WSGIApp", "wrap"]
