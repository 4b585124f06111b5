"""The local HTTP API: a Werkzeug server that routes, authorizes and invokes like API Gateway (HTTP API).

Routes come from the deployed template (through the function runtime), never from a hand-written list. The
same server hosts the local user pool (the stand-in for Cognito: OpenID discovery, authorize, sign-in form, token,
sign-out, JWKS; apigw/signin.py), as the local issuer is the API's origin ``http://127.0.0.1:3000``.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

from vidsense_local.apigw.payload import BadIntegrationResponse, build_event, map_result
from vidsense_local.apigw.routes import select_route
from vidsense_local.apigw.signin import SignInEndpoints
from vidsense_local.auth import Forbidden, JwtAuthorizer, SigningKey, Unauthorized
from vidsense_local.auth.userpool import LocalUserPool, local_app_client
from vidsense_local.discovery.model import CorsConfig, JwtAuthorizerConfig, RouteTable
from vidsense_local.serving import Server, serve

LOG = logging.getLogger("vidsense_local.apigw")

# Invoke a deployed function with an event and return its decoded result; any exception means the function
# failed (API Gateway answers 500 without detail).
Invoke = Callable[[str, dict[str, Any]], Any]
RouteSource = Callable[[], RouteTable]


def _message(status: int, message: str, headers: Iterable[tuple[str, str]] = ()) -> Response:
    return Response(
        json.dumps({"message": message}, separators=(",", ":")),
        status=status,
        headers=list(headers),
        content_type="application/json",
    )


class HttpApiApp:
    """WSGI application with API Gateway HTTP API behaviour for one API."""

    def __init__(
        self,
        routes: RouteSource,
        invoke: Invoke,
        signing_key: SigningKey,
        *,
        account_id: str,
        issuer_url: str,
        user_pool: LocalUserPool | None = None,
    ) -> None:
        self._routes = routes
        self._invoke = invoke
        self._key = signing_key
        self._account_id = account_id
        self._sign_in = SignInEndpoints(user_pool or LocalUserPool(signing_key, issuer_url, local_app_client()))
        self._authorizers: dict[JwtAuthorizerConfig, JwtAuthorizer] = {}
        self._lock = threading.Lock()

    def _authorizer(self, config: JwtAuthorizerConfig) -> JwtAuthorizer:
        with self._lock:
            if config not in self._authorizers:
                # The only identity provider here is the local one: its key set is in this process.
                self._authorizers[config] = JwtAuthorizer(config.issuer, config.audiences, self._key.jwks)
            return self._authorizers[config]

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        response = self.handle(request)
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        signed_in = self._sign_in.handle(request)
        if signed_in is not None:
            return signed_in
        table = self._routes()
        origin = request.headers.get("Origin")
        cors = table.cors
        if (
            cors is not None
            and request.method == "OPTIONS"
            and origin
            and request.headers.get("Access-Control-Request-Method")
        ):
            return self._preflight(cors, origin)
        response = self._route(request, table)
        if cors is not None and origin:
            _apply_cors(response, cors, origin)
        return response

    def _route(self, request: Request, table: RouteTable) -> Response:
        match = select_route(table.routes, request.method, request.path)
        if match is None:
            return _message(404, "Not Found")
        authorizer_context: dict[str, Any] | None = None
        if match.route.authorizer is not None:
            try:
                result = self._authorizer(match.route.authorizer).authorize(
                    request.headers.get("Authorization"), match.route.scopes
                )
            except Unauthorized as exc:
                header = exc.www_authenticate
                return _message(401, "Unauthorized", [("www-authenticate", header)] if header else [])
            except Forbidden:
                return _message(403, "Forbidden")
            authorizer_context = result.as_request_context()
        event = build_event(
            request, match, account_id=self._account_id, api_id=table.api_id, authorizer=authorizer_context
        )
        request_id = event["requestContext"]["requestId"]
        try:
            outcome = self._invoke(match.route.function, event)
            mapped = map_result(outcome)
        except BadIntegrationResponse as exc:
            LOG.warning("integration response rejected: %s (%s)", exc, match.route.function)
            return _message(500, "Internal Server Error", [("apigw-requestid", request_id)])
        except Exception:
            LOG.exception("function %s failed", match.route.function)
            return _message(500, "Internal Server Error", [("apigw-requestid", request_id)])
        response = Response(mapped.body, status=mapped.status)
        # Werkzeug adds a default Content-Type; API Gateway sends only what the function set.
        del response.headers["Content-Type"]
        for name, value in mapped.headers:
            response.headers.add(name, value)
        response.headers["apigw-requestid"] = request_id
        return response

    def _preflight(self, cors: CorsConfig, origin: str) -> Response:
        response = Response(status=204)
        del response.headers["Content-Type"]
        allowed = _allowed_origin(cors, origin)
        if allowed is None:
            return response
        response.headers["Access-Control-Allow-Origin"] = allowed
        if cors.allow_methods:
            response.headers["Access-Control-Allow-Methods"] = ",".join(cors.allow_methods)
        if cors.allow_headers:
            response.headers["Access-Control-Allow-Headers"] = ",".join(cors.allow_headers).lower()
        if cors.max_age is not None:
            response.headers["Access-Control-Max-Age"] = str(cors.max_age)
        if cors.allow_credentials:
            response.headers["Access-Control-Allow-Credentials"] = "true"
        return response


def _allowed_origin(cors: CorsConfig, origin: str) -> str | None:
    if "*" in cors.allow_origins:
        return origin if cors.allow_credentials else "*"
    return origin if origin in cors.allow_origins else None


def _apply_cors(response: Response, cors: CorsConfig, origin: str) -> None:
    # With CORS configured, API Gateway ignores CORS headers from the integration and sends its own.
    for name in list(response.headers.keys()):
        if name.lower().startswith("access-control-"):
            del response.headers[name]
    allowed = _allowed_origin(cors, origin)
    if allowed is None:
        return
    response.headers["Access-Control-Allow-Origin"] = allowed
    if cors.expose_headers:
        response.headers["Access-Control-Expose-Headers"] = ",".join(cors.expose_headers)
    if cors.allow_credentials:
        response.headers["Access-Control-Allow-Credentials"] = "true"


def start_api(app: HttpApiApp, port: int, host: str = "127.0.0.1", fd: int | None = None) -> Server:
    """Serve ``app`` on ``host:port`` (``fd``: a socket already listening there, as ``serving.serve`` takes it)."""
    return serve(app, port, name="vidsense-http-api", host=host, fd=fd)
