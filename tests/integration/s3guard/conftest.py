"""moto's S3 behind the s3guard middleware, served by Werkzeug on a free port, with a clock tests can move."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.config import Config
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from tests.local_endpoint import served
from vidsense_local import s3guard
from vidsense_local.clients import local_client

REGION = "us-east-1"
KEY, SECRET = "guard-key", "guard-secret"


class Clock:
    """Real time plus an offset: presigners use the real clock, the guard sees the future when told."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class GuardedS3:
    url: str
    clock: Clock
    bucket: str
    signature_version: str | None = None

    def client(self, key: str = KEY, secret: str = SECRET) -> Any:
        return local_client(
            "s3",
            self.url,
            REGION,
            access_key=key,
            secret_key=secret,
            retries=1,
            path_style=True,
            config=Config(signature_version=self.signature_version),
        )


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, Clock]]:
    clock = Clock()
    app = s3guard.wrap(DomainDispatcherApplication(create_backend_app), {KEY: SECRET, "other": "other"}, clock=clock)
    with served(app) as url:
        yield url, clock


# boto3 presigns S3 for a custom endpoint with SigV2 unless the client asks for s3v4 (ingest's client does not,
# so the local stack sees SigV2 forms); AWS's regional endpoints get SigV4. Both must be checked.
@pytest.fixture(params=[None, "s3v4"], ids=["default-sigv2", "s3v4"])
def s3(request: pytest.FixtureRequest, server: tuple[str, Clock]) -> Iterator[GuardedS3]:
    url, clock = server
    guarded = GuardedS3(url, clock, f"media-{uuid.uuid4().hex[:10]}", request.param)
    # An SDK call signed with an Authorization header: passes the guard untouched.
    guarded.client().create_bucket(Bucket=guarded.bucket)
    try:
        yield guarded
    finally:
        clock.offset = 0.0
