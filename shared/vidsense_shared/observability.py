"""Powertools Logger, Tracer and Metrics, configured the same way in every function."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any, cast

import botocore.session
from aws_lambda_powertools import Logger, Metrics, Tracer

from vidsense_shared.aws import session

METRICS_NAMESPACE = "vidsense"
# The functions call nothing but AWS, through botocore: patching only it keeps every AWS call's subsegment and
# saves patch_all's attempts at a dozen other libraries (httplib, requests, sqlite3, ...) in every cold start.
TRACED_MODULES = ("botocore",)


def _tracer() -> Tracer:
    """Powertools' Tracer, its X-Ray SDK sharing the functions' botocore session.

    Importing the X-Ray SDK creates two X-Ray clients (for its sampling rules, which Lambda does not use), each
    from a new botocore session that loads the endpoint and model data again: about 0.2 s of every cold start
    (docs/performance.md, Lambda cold init). Lent the session of the functions' own clients while the SDK is
    imported, it loads them once. The SDK's clients set their own region, endpoint and (empty) credentials, so
    the session gains nothing from them but cached data."""
    shared = session()._session
    original = botocore.session.get_session
    botocore.session.get_session = lambda env_vars=None: shared
    try:
        return Tracer(patch_modules=TRACED_MODULES)
    finally:
        botocore.session.get_session = original


logger = Logger()
tracer = _tracer()
metrics = Metrics(namespace=METRICS_NAMESPACE)


class _Escaped:
    """An exception carried out of the traced subsegment, to be raised again outside it."""

    def __init__(self, error: Exception) -> None:
        self.error = error


def trace_handler[HandlerT: Callable[..., Any]](handler: HandlerT) -> HandlerT:
    """Trace a Lambda handler in X-Ray without recording what it returns or raises.

    Responses and exception messages can carry transcripts, emails and presigned upload forms, and X-Ray keeps
    traces where an erasure cannot reach them. Powertools records neither with capture_response/capture_error
    off, but the X-Ray SDK would still store the message of an exception that leaves the subsegment: the
    exception leaves it as a return value (the subsegment gets its type name only) and is raised again outside.
    """

    def contained(event: Any, context: Any) -> Any:
        try:
            return handler(event, context)
        except Exception as error:
            tracer.put_annotation(key="HandlerError", value=type(error).__name__)
            return _Escaped(error)

    contained.__name__ = handler.__name__
    traced = tracer.capture_lambda_handler(contained, capture_response=False, capture_error=False)

    @functools.wraps(handler)
    def run(event: Any, context: Any) -> Any:
        result = traced(event, context)
        if isinstance(result, _Escaped):
            raise result.error
        return result

    return cast(HandlerT, run)


def redact_email(email: str) -> str:
    """A short stable fingerprint for logs: never log the address itself."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:12]
