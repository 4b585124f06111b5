"""Which operation a request calls and how its service words an error, both read from botocore's service models
(the same models the callers' SDK parses answers with)."""

from __future__ import annotations

import functools
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

import botocore.session
from botocore.exceptions import UnknownServiceError
from botocore.model import ServiceModel


@dataclass(frozen=True)
class _Route:
    operation: str
    method: str
    path: re.Pattern[str]
    query: tuple[tuple[str, str | None], ...]  # literal query keys (and values) in the requestUri
    literal: int  # characters of literal path, to prefer /{Bucket}?tagging over /{Bucket}


@functools.cache
def _session() -> Any:
    return botocore.session.get_session()


@functools.cache
def service_model(signing_name: str) -> ServiceModel | None:
    """The model whose SigV4 signing name this is (``monitoring`` is CloudWatch, most are their own name)."""
    session = _session()
    try:
        model: ServiceModel = session.get_service_model(signing_name)
        if model.signing_name == signing_name:
            return model
    except UnknownServiceError:
        pass
    for name in session.get_available_services():
        model = session.get_service_model(name)
        if model.signing_name == signing_name:
            return model
    return None


_WIRE = ("json", "rest-json", "rest-xml", "query", "ec2")


def wire_protocol(signing_name: str, environ: Mapping[str, Any]) -> str:
    """The protocol the request came in: JSON when it names an X-Amz-Target, else the first one of the model's
    ``protocols`` that botocore speaks (models list smithy-rpc-v2-cbor first for some services botocore calls
    with JSON)."""
    if environ.get("HTTP_X_AMZ_TARGET"):
        return "json"
    model = service_model(signing_name)
    if model is None:
        return "json"
    listed = model.metadata.get("protocols") or [model.metadata.get("protocol")]
    return next((p for p in listed if p in _WIRE), "json")


@functools.cache
def _routes(signing_name: str) -> tuple[_Route, ...]:
    model = service_model(signing_name)
    if model is None:
        return ()
    routes: list[_Route] = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri = str(http.get("requestUri", "/"))
        path, _, query = uri.partition("?")
        pattern = re.sub(
            r"\{([^}]+)\}",
            lambda m: ".+" if m.group(1).endswith("+") else "[^/]+",
            re.escape(path).replace(r"\{", "{").replace(r"\}", "}"),
        )
        literals = tuple(
            (k, v if sep else None) for k, sep, v in (part.partition("=") for part in query.split("&") if part)
        )
        literal = len(re.sub(r"\{[^}]+\}", "", path))
        routes.append(_Route(name, str(http.get("method", "POST")), re.compile(f"^{pattern}/?$"), literals, literal))
    # Most specific first: more literal query keys, then more literal path.
    routes.sort(key=lambda r: (-len(r.query), -r.literal))
    return tuple(routes)


def operation(signing_name: str, environ: Mapping[str, Any], body: bytes) -> str | None:
    """The operation a request calls: X-Amz-Target for JSON protocols, Action for query, the URI for REST."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return str(target).rsplit(".", 1)[-1]
    query = parse_qs(str(environ.get("QUERY_STRING", "")))
    if "Action" in query:
        return query["Action"][0]
    model = service_model(signing_name)
    if model is None:
        return None
    if wire_protocol(signing_name, environ) == "query":
        form = parse_qs(body.decode("utf-8", "replace"))
        return form["Action"][0] if "Action" in form else None
    method = str(environ.get("REQUEST_METHOD", "GET")).upper()
    path = str(environ.get("PATH_INFO", "/"))
    copy = "HTTP_X_AMZ_COPY_SOURCE" in environ
    for route in _routes(signing_name):
        if route.method != method or not route.path.match(path):
            continue
        if not all(k in query and (v is None or query[k][0] == v) for k, v in route.query):
            continue
        if copy != ("Copy" in route.operation) and method == "PUT":
            continue  # PutObject and CopyObject share a URI; the copy-source header tells them apart
        return route.operation
    return None


def error_response(
    signing_name: str, environ: Mapping[str, Any], code: str, message: str, status: int
) -> tuple[str, list[tuple[str, str]], bytes]:
    """(status line, headers, body) of an AWS error in the request's protocol, so botocore raises ``code``."""
    model = service_model(signing_name)
    protocol = wire_protocol(signing_name, environ)
    request_id = str(uuid.uuid4())
    headers = [("x-amzn-RequestId", request_id), ("x-amz-request-id", request_id)]
    if protocol in ("json", "rest-json"):
        version = (model.metadata.get("jsonVersion") if model is not None else None) or "1.1"
        content_type = f"application/x-amz-json-{version}" if protocol == "json" else "application/json"
        body = json.dumps({"__type": code, "message": message, "Message": message}).encode()
        headers += [("Content-Type", content_type), ("x-amzn-ErrorType", code)]
        if model is not None and "awsQueryCompatible" in model.metadata:
            # SQS: botocore reads the query-era code from this header.
            headers.append(("x-amzn-query-error", f"{code};{'Receiver' if status >= 500 else 'Sender'}"))
    elif protocol == "rest-xml":
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{escape(code)}</Code>'
            f"<Message>{escape(message)}</Message><RequestId>{request_id}</RequestId></Error>"
        ).encode()
        headers.append(("Content-Type", "application/xml"))
    else:  # query (SNS, ...) and ec2 read this shape's Code and Message
        kind = "Receiver" if status >= 500 else "Sender"
        body = (
            f"<ErrorResponse><Error><Type>{kind}</Type><Code>{escape(code)}</Code>"
            f"<Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        headers.append(("Content-Type", "text/xml"))
    headers.append(("Content-Length", str(len(body))))
    return f"{status} {HTTPStatus(status).phrase}", headers, body
