"""Powertools Logger, Tracer and Metrics, configured the same way in every function."""

from __future__ import annotations

from functools import cache

import botocore.session
from aws_lambda_powertools import Logger, Metrics, Tracer

from vidsense_shared.aws import session

METRICS_NAMESPACE = "vidsense"
# The functions call nothing but AWS, through botocore: patching only it keeps every AWS call's subsegment and
# saves patch_all's attempts at a dozen other libraries (httplib, requests, sqlite3, ...) in every cold start.
TRACED_MODULES = ("botocore",)

logger = Logger()
metrics = Metrics(namespace=METRICS_NAMESPACE)


def tracing_on() -> bool:
    """Powertools' own rule: in Lambda (not SAM or Chalice local) and POWERTOOLS_TRACE_DISABLED not set.

    Asked before the Tracer exists: creating one imports the X-Ray SDK even to switch it off."""
    return not Tracer._is_tracer_disabled()


@cache
def tracer() -> Tracer:
    """Powertools' Tracer, created on first use, its X-Ray SDK sharing the functions' botocore session.

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
