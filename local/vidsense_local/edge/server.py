"""The edge HTTP server: moto's WSGI app and the stand-ins behind one port, dispatched by SigV4 service name."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer

from vidsense_local import faults, s3guard
from vidsense_local.clients import LOCAL_ACCOUNT_ID, LOCAL_REGION
from vidsense_local.edge import delivery
from vidsense_local.edge.lambda_api import handle_invoke, is_invoke
from vidsense_local.runtime import FunctionRuntime
from vidsense_local.s3guard import cors as s3cors
from vidsense_local.serving import QuietHandler, Server, serve
from vidsense_local.sigv4 import credential_scope

log = logging.getLogger(__name__)


class StandIn(Protocol):
    """What the edge needs from a stand-in (``vidsense_local.standins``): a WSGI app with signing names."""

    @property
    def signing_names(self) -> tuple[str, ...]: ...

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


def signing_service(environ: dict[str, Any]) -> str | None:
    """The service of the SigV4 credential scope; None when unsigned (S3 form uploads and the like, which moto
    infers itself)."""
    scope = credential_scope(environ)
    return scope.service.lower() if scope is not None else None


class _QuietMotoHandler(QuietHandler, MotoRequestHandler):
    """moto's header handling (underscores in S3 metadata names) without an access-log line per request."""


class EdgeApp:
    def __init__(self, runtime: FunctionRuntime | None, standins: Sequence[StandIn]) -> None:
        self.moto = DomainDispatcherApplication(create_backend_app)
        self.runtime = runtime
        self.by_service: dict[str, StandIn] = {}
        for standin in standins:
            for name in standin.signing_names:
                self.by_service[name.lower()] = standin

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        service = signing_service(environ)
        if service is not None and service in self.by_service:
            answer: Iterable[bytes] = self.by_service[service](environ, start_response)
            return answer
        if self.runtime is not None and service in (None, "lambda") and is_invoke(environ):
            return handle_invoke(self.runtime, environ, start_response)
        # moto builds its whole answer in this call; the objects it stored are announced after it.
        with delivery.notifications_after_request():
            served: Iterable[bytes] = self.moto(environ, start_response)
        return served


class EdgeHandle:
    def __init__(self, served: Server, standins: Sequence[StandIn], hooks_installed: bool) -> None:
        self._served = served
        self._standins = list(standins)
        self._hooks = hooks_installed
        self._stopped = False
        self.port = served.port
        self.url = served.url

    def stop(self) -> None:
        """Stop accepting requests, stop the stand-ins and remove the moto hooks. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self._served.stop()
        for standin in self._standins:
            try:
                standin.stop()
            except Exception:
                log.exception("stopping stand-in %s failed", standin.signing_names)
        if self._hooks:
            delivery.uninstall()


def start_edge(
    port: int,
    runtime: FunctionRuntime | None,
    standins: Sequence[StandIn],
    *,
    host: str = "127.0.0.1",
    account_id: str = LOCAL_ACCOUNT_ID,
    region: str = LOCAL_REGION,
    fd: int | None = None,
) -> EdgeHandle:
    """Serve the local AWS endpoint on ``host:port`` (0 picks a free port) and return once it accepts.

    ``fd``: a socket already bound and listening (the server takes a duplicate), so the caller knew the port
    before building what needs the URL."""
    # S3's presigned-request checks (vidsense_local.s3guard) and fault injection with its control API at
    # /_vidsense/faults (vidsense_local.faults) in front of the dispatch.
    guarded = s3guard.wrap(EdgeApp(runtime, standins), s3guard.LOCAL_CREDENTIALS)
    # Each bucket's CORS rules for browsers (moto allows every origin): the web client's uploads meet them as in AWS.
    guarded = s3cors.wrap(guarded, s3cors.moto_rules(account_id))
    app = faults.wrap(guarded, faults.FaultRegistry(), standins)
    hooks = False

    def wire(server: BaseWSGIServer) -> None:
        # moto's delivery hooks and the stand-ins' events, before the first request.
        nonlocal hooks
        try:
            if runtime is not None:
                delivery.install(runtime, f"http://127.0.0.1:{server.server_address[1]}")
                hooks = True
            sink = delivery.event_sink(account_id, region)
            for standin in standins:
                setter = getattr(standin, "set_event_sink", None)
                if callable(setter):
                    setter(sink)
                standin.start()
        except BaseException:
            if hooks:
                delivery.uninstall()
            raise

    served = serve(
        app, port, name=f"edge-{port}", host=host, fd=fd, request_handler=_QuietMotoHandler, before_start=wire
    )
    return EdgeHandle(served, standins, hooks)
