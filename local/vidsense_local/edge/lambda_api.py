"""Lambda ``Invoke`` (``POST /2015-03-31/functions/{name}/invocations``) served by the local runtime."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

from werkzeug.wrappers import Request, Response

from vidsense_local.runtime import FunctionRuntime, UnknownFunctionError

INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$")
# Lambda returns at most the last 4 KB of the log in X-Amz-Log-Result.
_LOG_TAIL_BYTES = 4096


def is_invoke(environ: dict[str, Any]) -> bool:
    return environ.get("REQUEST_METHOD") == "POST" and bool(INVOKE_PATH.match(environ.get("PATH_INFO", "")))


def _error(status: int, error_type: str, message: str) -> Response:
    body = json.dumps({"Type": "User", "Message": message, "message": message})
    return Response(body, status=status, headers={"x-amzn-ErrorType": error_type}, mimetype="application/json")


def handle_invoke(runtime: FunctionRuntime, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    request = Request(environ)
    match = INVOKE_PATH.match(request.path)
    assert match is not None
    name = unquote(match.group("name"))
    invocation_type = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
    body = request.get_data() or b"{}"
    try:
        json.loads(body)
    except ValueError:
        response = _error(400, "InvalidRequestContentException", "Could not parse request body into json")
        return response(environ, start_response)
    try:
        if invocation_type == "RequestResponse":
            result = runtime.invoke_raw(name, body)
        elif invocation_type in ("Event", "DryRun"):
            result = runtime.invoke(name, json.loads(body), invocation_type=invocation_type)
        else:
            response = _error(400, "InvalidParameterValueException", f"Unsupported InvocationType {invocation_type}")
            return response(environ, start_response)
    except UnknownFunctionError as exc:
        return _error(404, "ResourceNotFoundException", str(exc))(environ, start_response)

    headers = {"X-Amz-Executed-Version": "$LATEST", "x-amzn-RequestId": result.request_id}
    if invocation_type != "RequestResponse":
        return Response(b"", status=result.status_code, headers=headers)(environ, start_response)
    if result.function_error:
        headers["X-Amz-Function-Error"] = result.function_error
    if request.headers.get("X-Amz-Log-Type") == "Tail":
        headers["X-Amz-Log-Result"] = base64.b64encode(result.logs.encode()[-_LOG_TAIL_BYTES:]).decode()
    response = Response(result.payload, status=200, headers=headers, mimetype="application/json")
    return response(environ, start_response)
