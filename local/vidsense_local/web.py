"""The web client (web/) served by the local stack at ``http://127.0.0.1:5173`` (``VIDSENSE_WEB_PORT``).

A different origin from the HTTP API and the media bucket, as in AWS, so the browser applies their CORS rules.
``/config.json`` is generated from the running stack (API, issuer, client id), as a deploy writes it next to the
site; ``/record``, ``/review`` and ``/callback`` answer with the single page (index.html). Every answer carries the
headers the deployed distribution sends, the Content-Security-Policy included (connections only to the API, the
issuer and the media bucket's endpoint).
"""

from __future__ import annotations

import json
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from werkzeug.wrappers import Request, Response

from vidsense_local.paths import REPO_ROOT
from vidsense_local.serving import Server, listen, serve

WEB_ROOT = REPO_ROOT / "web"
SPA_ROUTES = frozenset({"/", "/record", "/review", "/callback"})
DEFAULT_MAX_RECORDING_SECONDS = 60


@dataclass(frozen=True)
class WebConfig:
    """What config.json tells the client; the deployed site gets the same keys from the stage's outputs."""

    api_url: str
    issuer: str
    client_id: str
    media_origin: str
    max_recording_seconds: int = DEFAULT_MAX_RECORDING_SECONDS

    def as_json(self) -> dict[str, Any]:
        return {
            "apiUrl": self.api_url,
            "issuer": self.issuer,
            "clientId": self.client_id,
            "scope": "openid email profile",
            "maxRecordingSeconds": self.max_recording_seconds,
            "pollIntervalMs": 1000,
        }


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(config: WebConfig) -> str:
    """Scripts, styles and images from the site only; connections to exactly the API, issuer and media bucket."""
    connect = " ".join(dict.fromkeys(_origin(u) for u in (config.api_url, config.issuer, config.media_origin)))
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; "
        f"connect-src 'self' {connect}; object-src 'none'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors 'none'"
    )


class WebApp:
    """WSGI app: static files of ``root``, the single page for the client's routes, and config.json."""

    def __init__(self, config: WebConfig | None = None, root: Path = WEB_ROOT) -> None:
        # None until the stack knows its API and issuer (the port is bound first: it is part of the deployment).
        self.config = config
        self.root = root.resolve()
        self.headers = {
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "strict-origin-when-cross-origin",
            "X-Frame-Options": "DENY",
            "Permissions-Policy": "camera=(self), microphone=(self), geolocation=()",
        }

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        response = self.handle(Request(environ))
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        config = self.config
        if request.method not in ("GET", "HEAD"):
            response = Response("use GET\n", status=405, mimetype="text/plain", headers={"Allow": "GET, HEAD"})
        elif config is None:
            response = Response("the local stack is starting; reload in a moment\n", status=503, mimetype="text/plain")
            response.headers["Retry-After"] = "5"
        elif request.path == "/config.json":
            response = Response(json.dumps(config.as_json()), mimetype="application/json")
            response.headers["Cache-Control"] = "no-store"
        else:
            response = self._file(request.path)
        response.headers.update(self.headers)
        if config is not None:
            response.headers["Content-Security-Policy"] = content_security_policy(config)
        return response

    def _file(self, path: str) -> Response:
        name = "index.html" if path.rstrip("/") in SPA_ROUTES or path == "/" else path.lstrip("/")
        target = (self.root / name).resolve()
        if not target.is_relative_to(self.root) or not target.is_file():
            return Response("Not Found\n", status=404, mimetype="text/plain")
        mimetype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if target.suffix == ".js":
            mimetype = "text/javascript"
        response = Response(target.read_bytes(), mimetype=mimetype)
        response.headers["Cache-Control"] = "no-cache"
        return response


@dataclass
class WebHandle(Server):
    """The web server; the stack sets ``app.config`` once its API is up."""

    app: WebApp


def start_web(port: int, config: WebConfig | None = None, host: str = "127.0.0.1", root: Path = WEB_ROOT) -> WebHandle:
    """Serve the web client on ``host:port`` (0: a free port) from a daemon thread; set ``handle.app.config``
    when the stack's API is up if it is not known yet."""
    app = WebApp(config, root)
    # Bound here, not by Werkzeug, which exits the process when the port is taken.
    sock = listen(port, host, setting="VIDSENSE_WEB_PORT")
    try:
        served = serve(app, port, name="vidsense-web", host=host, fd=sock.fileno())
    finally:
        sock.close()  # the server holds its own duplicate
    return WebHandle(served.server, served.thread, app)
