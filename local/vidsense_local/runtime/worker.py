"""Parent side of one function's execution environments: worker processes, their pipes and their logs."""

from __future__ import annotations

import json
import logging
import os
import select
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vidsense_local.discovery.model import FunctionSpec
from vidsense_local.runtime.model import InvokeResult

_BOOTSTRAP = Path(__file__).with_name("_bootstrap.py")
# Lambda gives a function's init phase 10 s; the repository's imports (boto3, Powertools) take about 1 s here.
INIT_TIMEOUT_SECONDS = 30.0
# A Lambda environment has its own CPU share; a worker on a loaded machine waits for a CPU while runnable. That
# wait does not count against the function timeout, up to this many timeouts more (a busy loop still ends).
MAX_STARVED_TIMEOUTS = 5.0
LogSink = Callable[[str, str], None]

log = logging.getLogger(__name__)


class WorkerDied(RuntimeError):
    pass


def runqueue_wait(pid: int) -> float:
    """Seconds the process's main thread spent runnable but waiting for a CPU (Linux schedstat; 0 elsewhere)."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


class Worker:
    """One execution environment: a long-lived process that imported the handler (cold once, then warm)."""

    def __init__(self, spec: FunctionSpec, env: dict[str, str], python: str, cwd: str, log_sink: LogSink) -> None:
        self.spec = spec
        self._log_sink = log_sink
        self.log_stream = env.get("AWS_LAMBDA_LOG_STREAM_NAME", "local")
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        try:
            self.proc = subprocess.Popen(
                [python, str(_BOOTSTRAP), str(req_r), str(resp_w)],
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,  # Lambda sends both streams to the same log stream
                pass_fds=(req_r, resp_w),
                start_new_session=True,  # a Ctrl-C in the terminal reaches the stack, which stops us in order
            )
        finally:
            os.close(req_r)
            os.close(resp_w)
        self._req_fd = req_w
        self._resp_fd = resp_r
        self._resp_buf = b""
        self._lines: list[str] = []
        self._lines_lock = threading.Condition()
        self._reader = threading.Thread(target=self._read_logs, name=f"logs-{spec.name}", daemon=True)
        self._reader.start()
        self.invocations = 0
        # Started ahead of demand (provisioned concurrency): its first invocation reports no init duration.
        self.prewarmed = False
        self.init_ms: float | None = None
        self.init_error: dict[str, Any] | None = None
        ready = self._read_message(time.monotonic() + INIT_TIMEOUT_SECONDS)
        if ready is None:
            self.kill()
            raise WorkerDied(f"{spec.name}: init did not finish within {INIT_TIMEOUT_SECONDS:.0f} s")
        self.init_ms = float(ready.get("init_ms", 0.0))
        self.init_error = ready.get("error")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None and self.init_error is None

    def _read_logs(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._lines_lock:
                self._lines.append(line)
                self._lines_lock.notify_all()
            self._log_sink(self.spec.name, line)
        with self._lines_lock:
            self._lines_lock.notify_all()

    def _read_message(self, deadline: float) -> dict[str, Any] | None:
        """Next JSON line on the response pipe; ``None`` on timeout; ``WorkerDied`` on EOF."""
        while b"\n" not in self._resp_buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([self._resp_fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(self._resp_fd, 1 << 16)
            if not chunk:
                self.proc.wait(timeout=5)
                raise WorkerDied(f"Runtime exited with error: exit status {self.proc.returncode}")
            self._resp_buf += chunk
        line, _, self._resp_buf = self._resp_buf.partition(b"\n")
        message: dict[str, Any] = json.loads(line)
        return message

    def invoke(self, request_id: str, payload: bytes, invoked_arn: str) -> InvokeResult:
        """Run one invocation; on timeout or crash the process is gone afterwards (like a reset sandbox)."""
        spec = self.spec
        cold = self.invocations == 0 and not self.prewarmed
        self.invocations += 1
        with self._lines_lock:
            mark = len(self._lines)
        started = time.monotonic()
        deadline_ms = int(time.time() * 1000) + spec.timeout * 1000
        request = {
            "request_id": request_id,
            "payload": payload.decode("utf-8"),
            "deadline_ms": deadline_ms,
            "invoked_function_arn": invoked_arn,
        }
        error: dict[str, Any] | None = None
        message: dict[str, Any] | None
        try:
            waited = runqueue_wait(self.pid)
            os.write(self._req_fd, json.dumps(request).encode() + b"\n")
            message = self._await_result(started, spec.timeout, waited)
        except (WorkerDied, OSError) as exc:
            message = None
            error = {"errorType": "Runtime.ExitError", "errorMessage": f"RequestId: {request_id} Error: {exc}"}
        if message is None and error is None:
            self.kill()
            error = {
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"RequestId: {request_id} Error: Task timed out after {spec.timeout:.2f} seconds",
            }
            self._log_sink(spec.name, f"{request_id} Task timed out after {spec.timeout:.2f} seconds")
        duration_ms = (time.monotonic() - started) * 1000
        if message is not None:
            error = message.get("error")
            duration_ms = float(message.get("duration_ms", duration_ms))
            self._wait_for_line(f"REPORT RequestId: {request_id}", time.monotonic() + 2.0)
        logs = self._logs_since(mark)
        body = json.dumps(error).encode() if error is not None else str((message or {})["payload"]).encode()
        return InvokeResult(
            function_name=spec.name,
            request_id=request_id,
            payload=body,
            function_error="Unhandled" if error is not None else None,
            logs=logs,
            duration_ms=duration_ms,
            init_duration_ms=self.init_ms if cold else None,
            worker_pid=self.pid,
        )

    def _await_result(self, started: float, timeout: float, waited: float) -> dict[str, Any] | None:
        """The invocation's answer, or None once ``timeout`` seconds of the worker's own time have passed: time
        it spent waiting for a CPU (another process's turn) is added to the deadline, within a bound."""
        deadline = started + timeout
        limit = started + timeout * (1 + MAX_STARVED_TIMEOUTS)
        while True:
            message = self._read_message(deadline)
            if message is not None:
                return message
            deadline = min(limit, started + timeout + runqueue_wait(self.pid) - waited)
            if deadline <= time.monotonic():
                return None

    def _wait_for_line(self, prefix: str, deadline: float) -> None:
        with self._lines_lock:
            while not any(line.startswith(prefix) for line in reversed(self._lines[-50:])):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._reader.is_alive():
                    return
                self._lines_lock.wait(remaining)

    def _logs_since(self, mark: int) -> str:
        with self._lines_lock:
            lines = self._lines[mark:]
            # Keep memory bounded for long-lived warm workers: earlier invocations' lines are not needed.
            del self._lines[:mark]
        return "\n".join(lines) + ("\n" if lines else "")

    def init_failure(self, request_id: str) -> InvokeResult:
        with self._lines_lock:
            logs = "\n".join(self._lines)
        return InvokeResult(
            function_name=self.spec.name,
            request_id=request_id,
            payload=json.dumps(self.init_error).encode(),
            function_error="Unhandled",
            logs=logs,
            init_duration_ms=self.init_ms,
            worker_pid=self.pid,
        )

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.close()

    def stop(self, grace: float = 2.0) -> None:
        """Close the request pipe (the loop ends), then kill if it lingers."""
        self.signal_stop()
        self.wait_stopped(time.monotonic() + grace)

    def signal_stop(self) -> None:
        self._close_fds(request_only=True)

    def wait_stopped(self, deadline: float) -> None:
        try:
            self.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self.close()

    def terminate(self) -> None:
        """Kill a busy worker from another thread; the invoking thread sees EOF and reports the exit."""
        if self.proc.poll() is None:
            self.proc.kill()

    def _close_fds(self, request_only: bool = False) -> None:
        # Each fd is closed once: a second close could hit a number the OS already reused elsewhere.
        with self._lines_lock:
            fds = [self._req_fd] if request_only else [self._req_fd, self._resp_fd]
            self._req_fd = -1
            if not request_only:
                self._resp_fd = -1
        for fd in fds:
            if fd >= 0:
                os.close(fd)

    def close(self) -> None:
        self._close_fds()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            log.warning("worker %s (pid %s) did not exit", self.spec.name, self.pid)


class FunctionPool:
    """The execution environments of one function: reuse an idle warm one, else start one (up to a limit)."""

    def __init__(self, spec: FunctionSpec, factory: Callable[[FunctionSpec], Worker], max_concurrency: int) -> None:
        self.spec = spec
        self._factory = factory
        self._max = max_concurrency
        self._idle: list[Worker] = []
        self._busy: set[Worker] = set()
        self._count = 0
        self._closed = False
        self._cond = threading.Condition()

    def acquire(self) -> Worker:
        with self._cond:
            while True:
                if self._closed:
                    raise WorkerDied(f"{self.spec.name}: runtime stopped")
                while self._idle:
                    worker = self._idle.pop()
                    if worker.alive():
                        self._busy.add(worker)
                        return worker
                    self._count -= 1
                    worker.close()
                if self._count < self._max:
                    self._count += 1
                    break
                self._cond.wait()
        worker = self._start_reserved()
        with self._cond:
            self._busy.add(worker)
            if self._closed:
                worker.terminate()
        return worker

    def _start_reserved(self) -> Worker:
        """Start the worker a caller reserved a slot for (``_count`` already raised); a failed start frees it."""
        try:
            return self._factory(self.spec)
        except BaseException:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise

    def prewarm(self) -> Worker | None:
        """Start one execution environment ahead of demand (its init phase now, not on the first request);
        nothing when the function already has one. Returns the new worker."""
        with self._cond:
            if self._closed or self._count > 0 or self._max < 1:
                return None
            self._count += 1
        worker = self._start_reserved()
        with self._cond:
            closed = self._closed
            if closed:
                self._count -= 1
            else:
                worker.prewarmed = True
                self._idle.append(worker)
            self._cond.notify()
        if closed:
            worker.stop()
            return None
        return worker

    def release(self, worker: Worker) -> None:
        with self._cond:
            self._busy.discard(worker)
            discard = self._closed or not worker.alive()
            if discard:
                self._count -= 1
            else:
                self._idle.append(worker)
            self._cond.notify()
        if discard:
            worker.stop() if worker.proc.poll() is None else worker.close()

    def pids(self) -> list[int]:
        """Process ids of this function's execution environments, idle or busy."""
        with self._cond:
            return sorted(w.pid for w in [*self._idle, *self._busy])

    def close(self) -> list[Worker]:
        """Refuse new invocations, kill busy workers, ask idle ones to exit; returns the idle ones to reap."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            busy = list(self._busy)
            self._cond.notify_all()
        for worker in busy:
            worker.terminate()
        for worker in idle:
            worker.signal_stop()
        return idle
