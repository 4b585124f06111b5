"""Test plumbing for the local stack's parts: a WSGI app served on a free port, and clients of it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from vidsense_local.serving import WSGIApp, serve


@contextmanager
def served(app: WSGIApp) -> Iterator[str]:
    """``app`` on a free port (threaded, as the stack serves) for the block; yields its URL."""
    server = serve(app, 0, name="test-endpoint")
    try:
        yield server.url
    finally:
        server.stop()
