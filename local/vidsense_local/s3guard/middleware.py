"""The WSGI middleware: presigned S3 requests are checked, everything else passes through untouched."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from io import BytesIO
from typing import Any

from vidsense_local.s3guard import post, query
from vidsense_local.s3guard._common import S3Error, WSGIApp
from vidsense_local.sigv4 import CredentialScope, credential

log = logging.getLogger(__name__)


def _query_service(environ: Mapping[str, Any]) -> str | None:
    if query.is_sigv2(environ):
        return "s3"  # SigV2 query auth has no scope; botocore presigns only S3 that way
    found = credential(environ)
    if found is None:
        return None
    scope = CredentialScope.parse(found)
    # A malformed scope is still S3's to refuse (the edge routes unknown scopes to moto).
    return scope.service.lower() if scope is not None else "s3"


def _read_body(environ: Mapping[str, Any]) -> bytes:
    stream = environ["wsgi.input"]
    if environ.get("wsgi.input_terminated"):
        return bytes(stream.read())
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return bytes(stream.read(length)) if length > 0 else b""


class S3Guard:
    def __init__(self, app: WSGIApp, credentials: Mapping[str, str], clock: Callable[[], float]) -> None:
        self.app = app
        self.credentials = dict(credentials)
        self.clock = clock

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        try:
            if query.is_presigned(environ):
                if _query_service(environ) == "s3":
                    query.check(environ, self.credentials, self.clock())
            elif post.is_form_upload(environ):
                body = _read_body(environ)
                # The app reads the same bytes again: hand it a fresh stream with an exact length.
                environ["wsgi.input"] = BytesIO(body)
                environ["CONTENT_LENGTH"] = str(len(body))
                environ.pop("wsgi.input_terminated", None)
                environ.pop("HTTP_TRANSFER_ENCODING", None)
                post.check(post.read_upload(environ, body), self.credentials, self.clock())
        except S3Error as error:
            log.info("s3guard refused %s %s: %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"), error)
            return error.respond(environ, start_response)
        return self.app(environ, start_response)


def wrap(app: WSGIApp, credentials: Mapping[str, str], clock: Callable[[], float] = time.time) -> WSGIApp:
    """``app`` behind S3's checks of presigned URLs and POST policies; ``credentials`` maps access key -> secret."""
    return S3Guard(app, credentials, clock)
