"""Where the functions' log lines go: a sink per line (the stack's ``FunctionLog`` file, or a logger), and each
invocation's lines copied to CloudWatch Logs ``/aws/lambda/<name>`` on the local endpoint, where operators look."""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from vidsense_local.clients import local_client

log = logging.getLogger(__name__)


def log_to_logger(function_name: str, line: str) -> None:
    """The default sink: logger ``vidsense_local.functions.<name>``."""
    logging.getLogger(f"vidsense_local.functions.{function_name}").info("%s", line)


class FunctionLog:
    """Every function's log lines go to one file (``make up``: ``.local/functions.log``); errors are echoed to the
    terminal too."""

    ECHO = ("[ERROR]", "Task timed out", "Traceback")

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle = open(path, "a", buffering=1)  # noqa: SIM115 - lives as long as the stack
        self._lock = threading.Lock()

    def __call__(self, function_name: str, line: str) -> None:
        with self._lock:
            if not self._handle.closed:
                self._handle.write(f"{function_name} {line.rstrip()}\n")
        if any(marker in line for marker in self.ECHO):
            print(f"[{function_name}] {line.rstrip()[:500]}", file=sys.stderr, flush=True)

    def close(self) -> None:
        with self._lock:
            self._handle.close()


class LogShipper:
    """Copies invocations' logs to CloudWatch Logs on one background thread (an invocation never waits for it)."""

    def __init__(self, endpoint_url: str, region: str) -> None:
        self._endpoint_url = endpoint_url
        self._region = region
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lambda-logs")
        self._streams: set[tuple[str, str]] = set()
        self._client: Any = None

    def ship(self, function_name: str, stream: str, logs: str) -> None:
        with contextlib.suppress(RuntimeError):  # stopped
            self._executor.submit(self._put, function_name, stream, logs)

    def stop(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _put(self, function_name: str, stream: str, logs: str) -> None:
        group = f"/aws/lambda/{function_name}"
        try:
            if self._client is None:
                self._client = local_client("logs", self._endpoint_url, self._region)
            if (group, stream) not in self._streams:
                with contextlib.suppress(ClientError):
                    self._client.create_log_group(logGroupName=group)
                with contextlib.suppress(ClientError):
                    self._client.create_log_stream(logGroupName=group, logStreamName=stream)
                self._streams.add((group, stream))
            now = int(time.time() * 1000)
            lines = [line for line in logs.splitlines() if line]
            self._client.put_log_events(
                logGroupName=group,
                logStreamName=stream,
                logEvents=[{"timestamp": now, "message": line} for line in lines],
            )
        except Exception:
            log.debug("could not ship logs of %s", function_name, exc_info=True)
