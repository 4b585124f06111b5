"""How ``make up`` turns SIGINT/SIGTERM/SIGHUP into a bounded stop.

Why not a plain signal handler that calls ``stack.request_stop()``: Python runs a signal handler in the main thread
between two bytecodes, possibly while that very thread holds a lock the handler needs. The main thread waits in
``threading.Event.wait``, which holds the event's condition lock for a few bytecodes around every timed wait, and
``Event.set`` in the handler takes the same lock: the handler blocked forever, every later signal queued behind it,
and the stack printed nothing and never stopped (the fresh-clone ``make test`` hang; docs/reliability.md). On a busy
machine the window is wide: the main thread waits for the GIL while it holds the lock.

Here the C-level handler writes the signal number to a socket (``signal.set_wakeup_fd``), the Python-level handler
does nothing, and a watcher thread turns the first signal into a stop request. The same thread arms a deadline: if the
process has not exited by then (a part stuck in a syscall, a pipe nobody reads, a lock), every process the stack
started is killed and the process exits without touching its own stdout or stderr buffers.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import FrameType

# Seconds from the first signal to a forced exit. A normal stop takes 1-2 s idle and about 12 s with 30 warm workers
# on a loaded machine before workers exited without finalization; 20 s leaves room for that and stays bounded.
STOP_DEADLINE_SECONDS = 20.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
FORCED_EXIT_CODE = 124


def _parents() -> dict[int, int]:
    """Every process's parent (Linux /proc; empty elsewhere)."""
    parents: dict[int, int] = {}
    proc = Path("/proc")
    if not proc.is_dir():
        return parents
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The command name may hold spaces or parentheses: the fields after the last ')' are fixed.
            fields = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
    return parents


def children(pid: int) -> list[int]:
    """The direct children of ``pid``."""
    return [child for child, parent in _parents().items() if parent == pid]


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``, parents before children."""
    parents = _parents()
    found: list[int] = []
    frontier = [pid]
    while frontier:
        below = [child for child, parent in parents.items() if parent in frontier and child not in found]
        found.extend(below)
        frontier = below
    return found


def reap_children(timeout: float = 2.0) -> None:
    """A last check when the stack stops that nothing it spawned outlives it: SIGTERM to each child still there,
    SIGKILL to those left after ``timeout``, each waited for."""
    deadline = time.monotonic() + timeout
    left = children(os.getpid())
    for child in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGTERM)
    while left and time.monotonic() < deadline:
        for child in list(left):
            with contextlib.suppress(ChildProcessError):
                pid, _ = os.waitpid(child, os.WNOHANG)
                if pid == 0:
                    continue
            left.remove(child)
        time.sleep(0.05)
    for child in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(child, 0)


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def kill_descendants(pid: int) -> int:
    """SIGKILL every process below ``pid`` (workers and deploys run in sessions of their own, so a signal to our
    process group misses them). Returns how many were signalled."""
    killed = 0
    for child in descendants(pid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(child, signal.SIGKILL)
            killed += 1
    return killed


def _write_nonblocking(fd: int, text: str) -> None:
    """Best effort: a full pipe (a reader that stopped reading) must not block the forced exit."""
    try:
        os.set_blocking(fd, False)
        os.write(fd, text.encode())
    except OSError:
        pass


class StopSignals:
    """Installs the handlers; ``on_stop`` runs once, on a thread of its own, at the first signal, and the process
    exits by itself or is ended ``deadline`` seconds later."""

    def __init__(
        self,
        on_stop: Callable[[], None],
        *,
        deadline: float | None = None,
        signals: Iterable[signal.Signals] = STOP_SIGNALS,
        exit_process: Callable[[int], None] = os._exit,
    ) -> None:
        self._on_stop = on_stop
        self._deadline = STOP_DEADLINE_SECONDS if deadline is None else deadline
        self._signals = tuple(signals)
        self._exit_process = exit_process
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(True)
        self._writer.setblocking(False)
        self.first_signal_at: float | None = None

    def install(self) -> None:
        """Main thread only (Python's rule for signal handlers and the wakeup fd)."""
        signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        for signum in self._signals:
            signal.signal(signum, _ignore)
        threading.Thread(target=self._watch, name="stop-signals", daemon=True).start()

    def _watch(self) -> None:
        while True:
            try:
                data = self._reader.recv(64)
            except OSError:
                return
            if not data:
                return
            known = [byte for byte in data if byte in {int(s) for s in self._signals}]
            if not known:
                continue
            if self.first_signal_at is None:
                self.first_signal_at = time.monotonic()
                threading.Thread(target=self._enforce_deadline, name="stop-deadline", daemon=True).start()
                # The terminal and make may each deliver one: the first starts the stop, later ones change nothing.
                self._on_stop()

    def _enforce_deadline(self) -> None:
        # Armed until the process exits: even the last line printed after a clean stop can block on a full pipe.
        time.sleep(self._deadline)
        killed = kill_descendants(os.getpid())
        _write_nonblocking(
            2,
            f"vidsense local stack: not stopped {self._deadline:.0f} s after the signal; killed {killed} "
            "processes it started and exited\n",
        )
        self._exit_process(FORCED_EXIT_CODE)


def _ignore(_signum: int, _frame: FrameType | None) -> None:
    """The wakeup fd carries the signal; a Python-level handler must exist so the default action (exit) does not
    run, and must take no lock."""
