"""moto behind the fault middleware, served by Werkzeug on a free port, with a fresh registry per test."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

from vidsense_local import faults

REGION = "us-east-1"


@dataclass
class Faulty:
    url: str
    registry: faults.FaultRegistry

    def client(self, service: str, attempts: int = 1, key: str = "test") -> Any:
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=key,
            aws_secret_access_key=key,
            # total_max_attempts counts the first try (botocore's max_attempts counts retries only).
            config=Config(retries={"total_max_attempts": attempts, "mode": "standard"}),
        )


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, faults.FaultRegistry]]:
    registry = faults.FaultRegistry()
    app = faults.wrap(DomainDispatcherApplication(create_backend_app), registry)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", registry
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def aws(server: tuple[str, faults.FaultRegistry]) -> Iterator[Faulty]:
    url, registry = server
    registry.clear()
    try:
        yield Faulty(url, registry)
    finally:
        registry.clear()
