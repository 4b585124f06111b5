"""The one way local code and tests build a boto3 client for the local endpoint, or point a process at it."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

#: The access key (and secret) the functions, the CLI and the deploy use; moto maps it to its default account.
LOCAL_ACCESS_KEY = "test"
#: moto's default account, and the region the local stack runs in.
LOCAL_ACCOUNT_ID = "123456789012"
LOCAL_REGION = "us-east-1"


def aws_environment(endpoint_url: str, region: str = LOCAL_REGION) -> dict[str, str]:
    """What points boto3, the AWS CLI and osls at the local endpoint (fake credentials; nothing else)."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": LOCAL_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": LOCAL_ACCESS_KEY,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    }


def local_client(
    service: str,
    endpoint_url: str,
    region: str,
    *,
    access_key: str = LOCAL_ACCESS_KEY,
    secret_key: str | None = None,
    retries: int = 2,
    path_style: bool = False,
    config: Config | None = None,
) -> Any:
    """A client of ``service`` at ``endpoint_url`` with fixed fake credentials (the secret is the access key unless
    given), so a developer's real ones are never picked up from the environment. ``retries`` counts the attempts
    after the first; ``config`` adds to these settings. A session of its own: clients are built on many threads."""
    settings = Config(retries={"max_attempts": retries, "mode": "standard"})
    if path_style:
        settings = settings.merge(Config(s3={"addressing_style": "path"}))
    if config is not None:
        settings = settings.merge(config)
    return _local(
        "client", service, endpoint_url, region, access_key=access_key, secret_key=secret_key, settings=settings
    )


def local_resource(service: str, endpoint_url: str, region: str, *, retries: int = 2) -> Any:
    """The boto3 resource of ``service`` (DynamoDB tables) at ``endpoint_url``, with the same fake credentials."""
    settings = Config(retries={"max_attempts": retries, "mode": "standard"})
    return _local(
        "resource", service, endpoint_url, region, access_key=LOCAL_ACCESS_KEY, secret_key=None, settings=settings
    )


def _local(
    kind: str,
    service: str,
    endpoint_url: str,
    region: str,
    *,
    access_key: str,
    secret_key: str | None,
    settings: Config,
) -> Any:
    session: Any = boto3.session.Session()
    return getattr(session, kind)(
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key if secret_key is not None else access_key,
        config=settings,
    )
