"""Results of invocations (the deployment's records are ``vidsense_local.discovery``'s)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


class UnknownFunctionError(LookupError):
    """No deployed function has this name or ARN (Lambda's ResourceNotFoundException)."""


@dataclass(frozen=True)
class InvokeResult:
    """One synchronous invocation, shaped like Lambda's ``Invoke`` response.

    ``payload`` is the JSON the handler returned, or Lambda's error object (``errorMessage``, ``errorType``,
    ``stackTrace``, ``requestId``) with ``function_error="Unhandled"``. ``logs`` holds the invocation's log lines
    (``START``/``END``/``REPORT`` included). ``init_duration_ms`` is set only on a cold start.
    """

    function_name: str
    request_id: str
    payload: bytes
    function_error: str | None = None
    logs: str = ""
    duration_ms: float = 0.0
    init_duration_ms: float | None = None
    worker_pid: int | None = None
    status_code: int = 200

    @property
    def cold_start(self) -> bool:
        return self.init_duration_ms is not None

    def json(self) -> Any:
        return json.loads(self.payload) if self.payload else None
