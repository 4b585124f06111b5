"""Fixtures of the operator CLI tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto.server import ThreadedMotoServer

from tests.moto_state import reset_moto


@pytest.fixture
def moto_server() -> Iterator[int]:
    """The port of a moto server on 127.0.0.1, for a ``vidsense`` subprocess to reach as a stage's endpoint."""
    reset_moto()  # the server shares moto's process-wide backends with every in-process mock
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        yield int(server.get_host_and_port()[1])
    finally:
        server.stop()
        reset_moto()
