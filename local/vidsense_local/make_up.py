"""``make up`` as a child process, for the benchmark and the end-to-end suite: started in its own process group,
ready once the stack prints its ready line, stopped with the whole group (make, the stack and its workers)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping

from vidsense_local.paths import REPO_ROOT
from vidsense_local.stack import READY_LINE


class NotReadyError(RuntimeError):
    """``make up`` exited, or printed no ready line in time; what it started has been stopped."""


def start(env: Mapping[str, str], on_line: Callable[[str], None], *, timeout: float) -> subprocess.Popen[str]:
    """Run ``make up`` with ``env``, hand each line it prints to ``on_line``, return once the stack is ready."""
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "up"],
        cwd=REPO_ROOT,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    ready = threading.Event()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            on_line(line)
            if READY_LINE in line:
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    started = time.monotonic()
    while not ready.wait(0.2):
        if proc.poll() is not None:
            stop(proc)
            raise NotReadyError(f"exit code {proc.returncode}")
        if time.monotonic() - started > timeout:
            stop(proc)
            raise NotReadyError(f"not ready in {timeout:.0f} s")
    return proc


def stop(proc: subprocess.Popen[str], timeout: float = 30.0) -> None:
    """SIGTERM to the group, SIGKILL when it has not ended within ``timeout``."""
    with contextlib.suppress(ProcessLookupError):  # the group has already gone
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
