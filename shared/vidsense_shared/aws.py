"""boto3 client factory.

Clients are cached per process (Lambda reuses them across warm invocations). Endpoints come from boto3's own
configuration (``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>``), so the same code reaches AWS or the
local stack without any branch.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30)


@cache
def client(service_name: str, endpoint_url: str | None = None) -> Any:
    """A cached boto3 client; ``endpoint_url`` only for services with per-account endpoints (MediaConvert)."""
    session: Any = boto3.session.Session()
    return session.client(service_name, config=_CONFIG, endpoint_url=endpoint_url)
