"""moto behind the fault middleware, served by Werkzeug on a free port, with a fresh registry per test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from tests.local_endpoint import served
from vidsense_local import faults
from vidsense_local.clients import local_client

REGION = "us-east-1"


@dataclass
class Faulty:
    url: str
    registry: faults.FaultRegistry

    def client(self, service: str, attempts: int = 1, key: str = "test") -> Any:
        return local_client(service, self.url, REGION, access_key=key, retries=attempts - 1)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, faults.FaultRegistry]]:
    registry = faults.FaultRegistry()
    app = faults.wrap(DomainDispatcherApplication(create_backend_app), registry)
    with served(app) as url:
        yield url, registry


@pytest.fixture
def aws(server: tuple[str, faults.FaultRegistry]) -> Iterator[Faulty]:
    url, registry = server
    registry.clear()
    try:
        yield Faulty(url, registry)
    finally:
        registry.clear()
