"""The one way local code builds a boto3 client for the local endpoint."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

#: The access key (and secret) the functions, the CLI and the deploy use; moto maps it to its default account.
LOCAL_ACCESS_KEY = "test"


def local_client(
    service: str,
    endpoint_url: str,
    region: str,
    *,
    access_key: str = LOCAL_ACCESS_KEY,
    retries: int = 2,
    path_style: bool = False,
) -> Any:
    """A client of ``service`` at ``endpoint_url`` with fixed fake credentials, so a developer's real ones are
    never picked up from the environment; a session of its own, as clients may be built on several threads."""
    config = Config(retries={"max_attempts": retries, "mode": "standard"})
    if path_style:
        config = config.merge(Config(s3={"addressing_style": "path"}))
    session: Any = boto3.session.Session()
    return session.client(
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key=access_key,
        config=config,
    )
