"""boto3 client factory.

Clients are cached per process (Lambda reuses them across warm invocations). Endpoints come from boto3's own
configuration (``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>``), so the same code reaches AWS or the
local stack without any branch.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from vidsense_shared.lifetime import keep_for_process_life

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30)
# A session is not thread-safe; clients are. The session is only used while a client is created.
_CREATING = threading.Lock()


@cache
def session() -> boto3.session.Session:
    """The process's one boto3 session. Each new session loads botocore's endpoint and model data again (about
    50 ms a client in a cold start, docs/performance.md); one session loads them once for every client."""
    return boto3.session.Session()


@cache
def client(service_name: str, endpoint_url: str | None = None) -> Any:
    """A cached boto3 client; ``endpoint_url`` only for services with per-account endpoints (MediaConvert)."""
    with _CREATING:
        created = session().client(service_name, config=_CONFIG, endpoint_url=endpoint_url)  # type: ignore[call-overload]
    # The client and its service model (loaded once per session) stay for the process's life.
    keep_for_process_life()
    return created
