"""S3's XML error answers and the request facts both checkers need."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from typing import Any
from xml.sax.saxutils import escape

from vidsense_local.sigv4 import CredentialScope

WSGIApp = Callable[[dict[str, Any], Any], Iterable[bytes]]

ALGORITHM = "AWS4-HMAC-SHA256"
SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your key and signing method."
)


class S3Error(Exception):
    """An S3 refusal: ``code`` and ``message`` as S3 words them, ``extra`` as further XML elements."""

    def __init__(self, status: int, code: str, message: str, **extra: str | int) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def respond(self, environ: Mapping[str, Any], start_response: Any) -> list[bytes]:
        request_id = uuid.uuid4().hex[:16].upper()
        elements = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in self.extra.items())
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{escape(self.code)}</Code><Message>{escape(self.message)}</Message>{elements}"
            f"<RequestId>{request_id}</RequestId><HostId>vidsense-local</HostId></Error>"
        ).encode()
        # A HEAD answer has no body, so S3 clients read the status alone.
        payload = b"" if environ.get("REQUEST_METHOD") == "HEAD" else body
        start_response(
            f"{self.status} {HTTPStatus(self.status).phrase}",
            [
                ("Content-Type", "application/xml"),
                ("Content-Length", str(len(payload))),
                ("x-amz-request-id", request_id),
            ],
        )
        return [payload]


def signature_mismatch(**extra: str | int) -> S3Error:
    return S3Error(403, "SignatureDoesNotMatch", SIGNATURE_MISMATCH, **extra)


def unknown_key(access_key: str) -> S3Error:
    return S3Error(
        403,
        "InvalidAccessKeyId",
        "The AWS Access Key Id you provided does not exist in our records.",
        AWSAccessKeyId=access_key,
    )


def parse_scope(credential: str) -> CredentialScope:
    """``<key>/<yyyymmdd>/<region>/<service>/aws4_request``, or the error S3 answers for a malformed one."""
    scope = CredentialScope.parse(credential)
    if scope is None:
        raise S3Error(
            400,
            "AuthorizationQueryParametersError",
            "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; "
            'expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
        )
    return scope


def header(environ: Mapping[str, Any], name: str) -> str | None:
    """A request header by lower-case name; WSGI keeps Content-Type and Content-Length outside ``HTTP_``."""
    key = name.upper().replace("-", "_")
    if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        value = environ.get(key)
        return str(value) if value not in (None, "") else None
    value = environ.get(f"HTTP_{key}")
    return None if value is None else str(value)
