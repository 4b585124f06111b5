"""Worker process entry point: Lambda's Python runtime loop, speaking JSON lines over two inherited pipes.

Run as ``python _bootstrap.py <request-fd> <response-fd>`` with the function's environment (``_HANDLER`` names
the handler). stdout/stderr are the function's logs; protocol messages never go through them. Standard library
only: this runs with the function's own ``PYTHONPATH``, not the local stack's.
"""

import sys

# Running a script puts its directory first on sys.path; the function must not see this package's modules.
sys.path.pop(0)

import importlib
import json
import os
import time
import traceback
from typing import Any


class LambdaContext:
    def __init__(self, request_id: str, deadline_ms: int, invoked_arn: str) -> None:
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = invoked_arn
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _error(exc: BaseException, error_type: str | None = None, request_id: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "stackTrace": traceback.format_list(traceback.extract_tb(exc.__traceback__)),
    }
    if request_id:
        out["requestId"] = request_id
    return out


def _load(spec: str) -> Any:
    module_path, _, attr = spec.rpartition(".")
    module = importlib.import_module(module_path.replace("/", "."))
    return getattr(module, attr)


def main() -> int:
    requests = os.fdopen(int(sys.argv[1]), "rb")
    responses = os.fdopen(int(sys.argv[2]), "wb")

    def reply(message: dict[str, Any]) -> None:
        responses.write(json.dumps(message).encode() + b"\n")
        responses.flush()

    started = time.monotonic()
    handler = None
    init_error = None
    try:
        handler = _load(os.environ["_HANDLER"])
    except Exception as exc:
        # Lambda's runtime reports import failures under this type and the module name.
        kind = "Runtime.ImportModuleError" if isinstance(exc, ImportError) else "Runtime.HandlerNotFound"
        init_error = _error(exc, kind)
        init_error["errorMessage"] = f"Unable to import module '{os.environ['_HANDLER']}': {exc}"
        print(f"[ERROR] {init_error['errorType']}: {init_error['errorMessage']}", file=sys.stderr, flush=True)
    reply({"ready": True, "init_ms": (time.monotonic() - started) * 1000, "error": init_error})
    if init_error is not None:
        return 1

    assert handler is not None
    for line in requests:
        request = json.loads(line)
        request_id = request["request_id"]
        print(f"START RequestId: {request_id} Version: $LATEST", flush=True)
        began = time.monotonic()
        message: dict[str, Any]
        try:
            event = json.loads(request["payload"]) if request["payload"] else {}
            context = LambdaContext(request_id, int(request["deadline_ms"]), request["invoked_function_arn"])
            result = handler(event, context)
            try:
                message = {"payload": json.dumps(result)}
            except (TypeError, ValueError) as exc:
                message = {"error": _error(exc, "Runtime.MarshalError", request_id)}
        except Exception as exc:
            message = {"error": _error(exc, request_id=request_id)}
            trace = "".join(traceback.format_exception(exc))
            print(f"[ERROR] {type(exc).__name__}: {exc}\n{trace}", file=sys.stderr, end="")
        sys.stdout.flush()
        sys.stderr.flush()
        duration = (time.monotonic() - began) * 1000
        print(f"END RequestId: {request_id}", flush=True)
        print(
            f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\t"
            f"Memory Size: {os.environ.get('AWS_LAMBDA_FUNCTION_MEMORY_SIZE', '128')} MB",
            flush=True,
        )
        message["duration_ms"] = duration
        reply(message)
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Lambda never finalizes an execution environment's interpreter: it freezes it, then kills it. Skipping the
    # finalization also keeps stopping the stack short: 30 warm workers finalizing at once took 11 s on 2 cores.
    os._exit(code)
