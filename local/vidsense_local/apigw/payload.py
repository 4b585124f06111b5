"""API Gateway HTTP API payload format 2.0: the request event and the mapping of the function's result.

Request: header names lower-cased, repeated headers and query parameters joined with commas, cookies moved into
``cookies``, ``pathParameters``/``queryStringParameters``/``cookies``/``body`` present only when there is
something to put in them, binary bodies base64-encoded.
Response: a dict with ``statusCode`` is taken field by field (``cookies`` become ``set-cookie`` headers); any other
valid JSON result is the body of a 200 ``application/json`` response, as API Gateway assumes for format 2.0.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request

from vidsense_local.apigw.routes import RouteMatch

TEXT_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/javascript",
    "application/x-www-form-urlencoded",
    "+json",
    "+xml",
)


class BadIntegrationResponse(Exception):
    """The function returned something API Gateway cannot turn into an HTTP response (it answers 500)."""


def _is_text(content_type: str) -> bool:
    lowered = content_type.lower()
    return any(marker in lowered for marker in TEXT_TYPES)


def _joined(pairs: list[tuple[str, str]], *, lower: bool) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower() if lower else name
        out[key] = f"{out[key]},{value}" if key in out else value
    return out


def build_event(
    request: Request,
    match: RouteMatch,
    *,
    account_id: str,
    api_id: str,
    request_id: str | None = None,
    authorizer: dict[str, Any] | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    epoch = now if now is not None else time.time()
    stamp = datetime.fromtimestamp(epoch, tz=UTC)
    environ = request.environ
    raw_uri = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or request.full_path)
    raw_path = raw_uri.split("?", 1)[0]
    raw_query = request.query_string.decode("latin-1")
    host = request.host
    header_pairs = [(k, v) for k, v in request.headers.items() if k.lower() != "cookie"]
    headers = _joined(header_pairs, lower=True)
    source_ip = request.remote_addr or "127.0.0.1"
    # API Gateway adds the forwarding headers its integrations see.
    headers.setdefault("x-forwarded-for", source_ip)
    headers.setdefault("x-forwarded-proto", request.scheme)
    headers.setdefault("x-forwarded-port", str(environ.get("SERVER_PORT", "")))
    request_id = request_id or base64.urlsafe_b64encode(uuid.uuid4().bytes[:12]).decode().rstrip("=")
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": match.route.route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
    }
    cookies = [c.strip() for value in request.headers.getlist("Cookie") for c in value.split(";") if c.strip()]
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if raw_query:
        event["queryStringParameters"] = _joined(list(request.args.items(multi=True)), lower=False)
    context: dict[str, Any] = {
        "accountId": account_id,
        "apiId": api_id,
        "domainName": host,
        "domainPrefix": host.split(".", 1)[0].split(":", 1)[0],
        "http": {
            "method": request.method,
            "path": request.path,
            "protocol": str(environ.get("SERVER_PROTOCOL", "HTTP/1.1")),
            "sourceIp": source_ip,
            "userAgent": request.headers.get("User-Agent", ""),
        },
        "requestId": request_id,
        "routeKey": match.route.route_key,
        "stage": "$default",
        "time": stamp.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(epoch * 1000),
    }
    if authorizer is not None:
        context["authorizer"] = authorizer
    event["requestContext"] = context
    if match.path_parameters:
        event["pathParameters"] = dict(match.path_parameters)
    body = request.get_data(cache=True)
    if body:
        content_type = request.headers.get("Content-Type", "")
        text: str | None = None
        if _is_text(content_type):
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                text = None
        if text is not None:
            event["body"] = text
            event["isBase64Encoded"] = False
        else:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
    else:
        event["isBase64Encoded"] = False
    return event


@dataclass
class HttpResult:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def map_result(result: Any) -> HttpResult:
    """The HTTP response API Gateway makes of a format 2.0 function result."""
    if isinstance(result, dict) and "statusCode" in result:
        status = result["statusCode"]
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            raise BadIntegrationResponse(f"statusCode {status!r} is not an HTTP status")
        raw_headers = result.get("headers") or {}
        if not isinstance(raw_headers, dict):
            raise BadIntegrationResponse("headers is not an object")
        headers = [(str(k), str(v)) for k, v in raw_headers.items()]
        multi = result.get("multiValueHeaders") or {}
        if isinstance(multi, dict):
            headers += [(str(k), str(v)) for k, values in multi.items() for v in (values or [])]
        cookies = result.get("cookies") or []
        if not isinstance(cookies, list):
            raise BadIntegrationResponse("cookies is not a list")
        headers += [("Set-Cookie", str(cookie)) for cookie in cookies]
        body_value = result.get("body")
        if body_value is None:
            body = b""
        elif isinstance(body_value, str):
            body = base64.b64decode(body_value) if result.get("isBase64Encoded") else body_value.encode()
        else:
            # API Gateway requires a string body; anything else is an integration error.
            raise BadIntegrationResponse("body is not a string")
        return HttpResult(status=status, headers=headers, body=body)
    return HttpResult(
        status=200,
        headers=[("Content-Type", "application/json")],
        body=json.dumps(result, separators=(",", ":")).encode(),
    )
