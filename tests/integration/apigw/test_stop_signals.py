"""`make up`'s stop on SIGTERM, in a real process with a stand-in for the stack's parts (no deploy, seconds).

The fresh-clone hang: the signal arrived while the main thread held the stop event's condition lock (as
``Event.wait`` does around each timed wait), the old handler called ``Event.set`` on the same lock and blocked
forever; later signals queued behind it and nothing was printed. The first test recreates exactly that state."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vidsense_local.shutdown import FORCED_EXIT_CODE, alive, descendants, kill_descendants

# A process start plus boto3's import takes about 1 s idle and several times that on a loaded 2-core machine; the
# bounds below are the stack's own deadline plus this margin, never a tight measure of speed.
MARGIN = 30.0

HOLDS_THE_LOCK = """
import os, signal, sys, time
from vidsense_local import stack

class FakeStack(stack.LocalStack):
    def start(self):
        pass

    def ready_message(self):
        return stack.READY_LINE

    def wait(self):
        # The state that hung: the stop event's condition lock held by the main thread when the signal comes.
        with self._stop_requested._cond:
            print("holding the lock", flush=True)
            time.sleep(1.0)  # the signals arrive here; the old handler ran now and blocked on this lock
        super().wait()

stack.LocalStack = FakeStack
stack.exit_now(stack.main())
"""

STUCK_EVERYWHERE = """
import os, signal, subprocess, sys, time
from pathlib import Path
from vidsense_local import shutdown, stack

shutdown.STOP_DEADLINE_SECONDS = float(os.environ["STOP_DEADLINE"])
marker = Path(os.environ["MARKER"])

IGNORES_SIGTERM = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"

class FakeStack(stack.LocalStack):
    def start(self):
        # A worker stuck in a syscall that ignores SIGTERM, in a session of its own like the real workers.
        self.worker = subprocess.Popen(
            [sys.executable, "-c", IGNORES_SIGTERM],
            start_new_session=True,
        )

    def ready_message(self):
        return stack.READY_LINE

    def wait(self):
        marker.write_text(str(self.worker.pid))
        super().wait()

    def stop(self):
        # Blocked on a pipe: the reader of our stdout stopped reading, so this never returns.
        while True:
            sys.stdout.write("x" * 65536)
            sys.stdout.flush()

stack.LocalStack = FakeStack
stack.exit_now(stack.main())
"""


def _start(script: str, tmp_path: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script],
        env={**os.environ, "VIDSENSE_LOCAL_DIR": str(tmp_path), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _terminate_twice(proc: subprocess.Popen[str]) -> None:
    # As from a terminal and make: both deliver one.
    os.killpg(proc.pid, signal.SIGTERM)
    time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGTERM)


def test_a_signal_while_the_main_thread_holds_the_stop_lock_still_stops_the_stack(tmp_path):
    # Given the stack's main thread holding its stop event's lock
    proc = _start(HOLDS_THE_LOCK, tmp_path)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "holding the lock" in line:
                break
        # When SIGTERM arrives twice while it holds the lock
        _terminate_twice(proc)
        # Then it stops normally (not by the deadline), printing its stop line
        out, err = proc.communicate(timeout=MARGIN)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            pytest.fail("the stack did not stop: the signal handler deadlocked on the stop event's lock")
    assert proc.returncode == 0, err
    assert "stopping the vidsense local stack..." in out and "stopped in" in out


def test_a_stop_stuck_on_a_pipe_and_a_worker_ignoring_sigterm_end_at_the_deadline(tmp_path):
    # Given a stack whose stop blocks on a stdout nobody reads and whose worker ignores SIGTERM
    marker = tmp_path / "worker.pid"
    deadline = 2.0
    proc = _start(STUCK_EVERYWHERE, tmp_path, STOP_DEADLINE=str(deadline), MARKER=str(marker))
    worker = 0
    try:
        started = time.monotonic()
        while not marker.exists():
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() - started < MARGIN, "the fake stack never got ready"
            time.sleep(0.05)
        worker = int(marker.read_text())
        # When SIGTERM arrives twice (and nobody reads its stdout)
        signalled = time.monotonic()
        _terminate_twice(proc)
        code = proc.wait(timeout=deadline + MARGIN)
        elapsed = time.monotonic() - signalled
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if worker and alive(worker):
            os.kill(worker, signal.SIGKILL)
    # Then the deadline ends it: forced exit code, the stuck worker killed, and not before the deadline
    assert code == FORCED_EXIT_CODE
    assert elapsed >= deadline
    stopped_by = time.monotonic() + 5
    while alive(worker) and time.monotonic() < stopped_by:
        time.sleep(0.05)
    assert not alive(worker), "the worker that ignored SIGTERM survived the stack"
    assert proc.stderr is not None
    assert "not stopped 2 s after the signal; killed 1 processes" in proc.stderr.read()


def test_descendants_finds_grandchildren_and_kill_reaches_them():
    # Given a child that started a grandchild in a session of its own
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys, time; "
            "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], start_new_session=True); "
            "time.sleep(60)",
        ]
    )
    try:
        deadline = time.monotonic() + MARGIN
        while len(descendants(child.pid)) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        below = descendants(os.getpid())
        assert child.pid in below and set(descendants(child.pid)) <= set(below)
        grandchild = descendants(child.pid)[0]
        # When every descendant of the child is killed
        assert kill_descendants(child.pid) == 1
        # Then the grandchild is gone even though it left the child's session
        stop_by = time.monotonic() + 5
        while alive(grandchild) and time.monotonic() < stop_by:
            time.sleep(0.05)
        assert not alive(grandchild)
    finally:
        child.kill()
        child.wait()
