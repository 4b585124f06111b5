"""The WSGI middleware: the control API under ``/_vidsense/faults`` and per-request fault matching."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from io import BytesIO
from typing import Any

from vidsense_local.faults import protocol
from vidsense_local.faults.registry import FaultRegistry, RuleError
from vidsense_local.sigv4 import credential_scope

log = logging.getLogger(__name__)

CONTROL_PATH = "/_vidsense/faults"
_JSON = [("Content-Type", "application/json")]
WSGIApp = Callable[[dict[str, Any], Any], Iterable[bytes]]


def _answer(start_response: Any, status: str, payload: Any) -> list[bytes]:
    body = b"" if payload is None else json.dumps(payload).encode()
    start_response(status, [*_JSON, ("Content-Length", str(len(body)))])
    return [body]


class FaultInjector:
    def __init__(self, app: WSGIApp, registry: FaultRegistry) -> None:
        self.app = app
        self.registry = registry

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if path == CONTROL_PATH or path.startswith(CONTROL_PATH + "/"):
            return self._control(environ, start_response, path[len(CONTROL_PATH) :].strip("/"))
        scope = credential_scope(environ)
        # Unsigned requests are S3's (browser form uploads): moto serves them as S3 too.
        service = scope.service.lower() if scope is not None else "s3"
        if not any(r.service == service and r.effect == "error" for r in self.registry.rules()):
            return self.app(environ, start_response)  # the common case costs one scan of a short list
        body = b""
        if protocol.wire_protocol(service, environ) == "query":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length > 0 else b""
            environ["wsgi.input"] = BytesIO(body)  # the app reads it again
        operation = protocol.operation(service, environ, body)
        rule = self.registry.match(service, operation, scope.access_key if scope is not None else None)
        if rule is None:
            return self.app(environ, start_response)
        log.info("fault %s: %s %s -> %s %s", rule.id, service, operation, rule.status, rule.code)
        status, headers, payload = protocol.error_response(service, environ, rule.code, rule.message, rule.status)
        start_response(status, headers)
        return [b"" if environ.get("REQUEST_METHOD") == "HEAD" else payload]

    def _control(self, environ: Mapping[str, Any], start_response: Any, rule_id: str) -> list[bytes]:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        if method == "GET" and not rule_id:
            return _answer(start_response, "200 OK", {"rules": [r.to_json() for r in self.registry.rules()]})
        if method == "DELETE" and not rule_id:
            self.registry.clear()
            return _answer(start_response, "200 OK", {"rules": []})
        if method == "DELETE":
            if self.registry.remove(rule_id):
                return _answer(start_response, "200 OK", {"removed": rule_id})
            return _answer(start_response, "404 Not Found", {"error": f"no rule {rule_id}"})
        if method == "POST" and not rule_id:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            try:
                data = json.loads(environ["wsgi.input"].read(length) or b"null")
                items = data if isinstance(data, list) else [data]
                if not items or not all(isinstance(item, dict) for item in items):
                    raise RuleError("the body must be a JSON rule object or a list of them")
                added = [self.registry.add(**item) for item in items]
            except (ValueError, TypeError) as exc:  # RuleError and JSON errors are ValueErrors
                return _answer(start_response, "400 Bad Request", {"error": str(exc)})
            payload = [r.to_json() for r in added]
            return _answer(start_response, "201 Created", payload if isinstance(data, list) else payload[0])
        return _answer(start_response, "405 Method Not Allowed", {"error": f"{method} {CONTROL_PATH}/{rule_id}"})


def wrap(app: WSGIApp, registry: FaultRegistry, standins: Iterable[Any] = ()) -> WSGIApp:
    """``app`` with faults from ``registry``; stand-ins with ``set_fault_hook`` get the registry's job faults."""
    for standin in standins:
        setter = getattr(standin, "set_fault_hook", None)
        if callable(setter):
            setter(registry.job_fault)
    return FaultInjector(app, registry)
