"""The local stack's HTTP servers (local AWS endpoint, HTTP API, web client): ports bound up front, one threaded
Werkzeug server each on a daemon thread, no access-log line per request."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

LOG = logging.getLogger("vidsense_local.serving")

WSGIApp = Callable[[dict[str, Any], Any], Iterable[bytes]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex((host, port)) == 0


def listen(
    port: int, host: str = "127.0.0.1", *, setting: str = "VIDSENSE_AWS_PORT/VIDSENSE_API_PORT"
) -> socket.socket:
    """A listening socket on ``port`` (0: a free one, chosen at bind so no other process can take it first); a
    taken port is a one-line error naming the ``setting`` that moves it, not Werkzeug's exit of the process."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the HTTP servers themselves do
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise RuntimeError(f"port {port} is in use (another stack? set {setting}, 0 for any)") from exc
    return sock


class QuietHandler(WSGIRequestHandler):
    """A request is a debug line, not an access-log line on the terminal: a pipeline run makes thousands."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        LOG.debug('"%s" %s %s', self.requestline, code, size)


@dataclass
class Server:
    """A running server; ``stop`` ends it and its thread."""

    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.server.host}:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve(
    app: WSGIApp,
    port: int,
    *,
    name: str,
    host: str = "127.0.0.1",
    fd: int | None = None,
    request_handler: type[WSGIRequestHandler] = QuietHandler,
    before_start: Callable[[BaseWSGIServer], None] | None = None,
) -> Server:
    """Serve ``app`` on ``host:port`` from a daemon thread, one thread per request as concurrent calls.

    ``fd``: a socket already bound and listening on that port (``listen``; the server takes a duplicate).
    ``before_start`` may still refuse to start (the server is closed then)."""
    server = make_server(host, port, app, threaded=True, request_handler=request_handler, fd=fd)
    if before_start is not None:
        try:
            before_start(server)
        except BaseException:
            server.server_close()
            raise
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    return Server(server, thread)
