"""Speech to text in a long-lived process of its own, for the Transcribe stand-in.

In the stack's process the engine shared the GIL with moto, the edge's request threads and the other stand-ins:
faster-whisper's Python parts (feature extraction, the segment and word loop) waited for them, and a job took
about 1.5x the same engine alone. Here one worker process per stand-in loads the model once, when the stand-in
starts (in the background: the first job waits for it), and runs the jobs sent to it over a pipe, up to
``workers`` at once (CTranslate2 is safe to call from several threads).

- The worker is a fresh interpreter (``python -m vidsense_local.engines.speech_process <fd> ...``): nothing of
  the stack's threads or sockets is forked into it.
- Failures come back typed: an input that is not audio raises ``MediaError`` as in the stack's process; anything
  else (the worker crashed, was killed, did not load its model) raises ``SpeechProcessError`` with the reason, so
  a job fails with it instead of waiting for ever. The next job starts a new worker.
- ``close`` asks the worker to stop: it takes no new job, finishes those it runs (a process that exits while
  CTranslate2 computes aborts) and exits; a worker still busy after the timeout is killed. The worker ignores
  SIGINT and SIGTERM (a terminal's Ctrl-C and ``make``'s SIGTERM reach the whole process group): its parent
  decides when it stops, and it also stops when its parent is gone (the pipe closes).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from vidsense_local.engines.speech import TUNED_SETTINGS, SpeechResult, SpeechSettings, SpeechToText
from vidsense_local.engines.transcode import MediaError

log = logging.getLogger("vidsense_local.engines")

#: How long a job may take before the caller gives up on it (a worker that hangs rather than crashes).
JOB_TIMEOUT_SECONDS = 900.0
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder that holds vidsense_local


class SpeechProcessError(Exception):
    """The speech worker could not answer (crashed, killed, model not loaded, no answer in time)."""


@dataclass
class _Pending:
    done: threading.Event = field(default_factory=threading.Event)
    outcome: tuple[str, Any] | None = None


class _Worker:
    """One worker process, its pipe and the jobs it was sent; ``reason`` once it cannot answer any more."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        ours, theirs = socket.socketpair()
        try:
            self.process = subprocess.Popen(
                [*command, str(theirs.fileno())], pass_fds=[theirs.fileno()], env=env, stdin=subprocess.DEVNULL
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.conn = Connection(ours.detach())
        self.started = time.monotonic()
        self.ready = threading.Event()
        self.load_seconds: float | None = None
        self.reason: str | None = None
        self.pending: dict[int, _Pending] = {}
        self.lock = threading.Lock()  # pending and reason
        self.send_lock = threading.Lock()
        threading.Thread(target=self._read, name="speech-process-reader", daemon=True).start()

    def send(self, message: Any) -> None:
        with self.send_lock:
            self.conn.send(message)

    def _read(self) -> None:
        """The worker's answers, to the jobs waiting for them; when the worker is gone, every job still waiting
        fails with the reason."""
        while True:
            try:
                message = self.conn.recv()
            except (EOFError, OSError):
                code = self.process.poll()
                if code is None:
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        code = self.process.wait(1.0)
                reason = f"the speech worker ended (exit code {code})"
                break
            if message[0] == "ready":
                self.load_seconds = time.monotonic() - self.started
                self.ready.set()
                continue
            if message[0] == "broken":
                reason = f"the speech worker could not load its model: {message[1]}"
                break
            job, kind, value = message
            with self.lock:
                pending = self.pending.pop(job, None)
            if pending is not None:
                pending.outcome = (kind, value)
                pending.done.set()
        with self.lock:
            self.reason = reason
            left, self.pending = list(self.pending.values()), {}
        self.ready.set()
        for pending in left:
            pending.outcome = ("error", reason)
            pending.done.set()


class SpeechProcess:
    """``transcribe_file`` as ``SpeechToText`` has it, computed in a worker process (see the module's doc)."""

    def __init__(
        self, model_path: str | None = None, *, settings: SpeechSettings = TUNED_SETTINGS, workers: int = 2
    ) -> None:
        self.settings = settings
        self._model_path = model_path
        self._workers = max(1, workers)
        self._lock = threading.Lock()
        self._worker: _Worker | None = None
        self._ids = itertools.count(1)

    @property
    def load_seconds(self) -> float | None:
        """The current worker's start and model load, once it is ready."""
        worker = self._worker
        return worker.load_seconds if worker is not None else None

    # -- lifecycle ---------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the worker (it loads the model in the background); no-op while one can answer."""
        with self._lock:
            self._running_worker()

    def _running_worker(self) -> _Worker:
        """Called with the lock held: the worker, a new one if there is none or the last one is gone."""
        worker = self._worker
        if worker is not None and worker.reason is None:
            return worker
        command = [
            sys.executable,
            "-m",
            "vidsense_local.engines.speech_process",
            self._model_path or "",
            self.settings.name,
            str(self._workers),
        ]
        path = os.pathsep.join(filter(None, [str(_PACKAGE_ROOT), os.environ.get("PYTHONPATH")]))
        self._worker = _Worker(command, {**os.environ, "PYTHONPATH": path})
        return self._worker

    def warm_up(self, timeout: float = 120.0) -> None:
        """Start the worker and wait until its model is loaded."""
        with self._lock:
            worker = self._running_worker()
        if not worker.ready.wait(timeout):
            raise SpeechProcessError(f"the speech worker did not load its model within {timeout:.0f} s")
        if worker.reason is not None:
            raise SpeechProcessError(worker.reason)

    def close(self, timeout: float = 1.5) -> None:
        """Stop the worker: it finishes the jobs it runs, then exits; killed if still there after ``timeout``."""
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is None:
            return
        with contextlib.suppress(OSError):
            worker.send(None)
        try:
            worker.process.wait(timeout)
        except subprocess.TimeoutExpired:
            # Still computing: a job of a stack that is stopping. Its caller gets a SpeechProcessError.
            log.warning("the speech worker was busy after %.1f s; killing it", timeout)
            worker.process.kill()
            worker.process.wait()
        worker.conn.close()

    # -- work --------------------------------------------------------------------------------------------------
    def transcribe_file(self, source: Path) -> SpeechResult:
        outcome = self._call("transcribe", str(source))
        if not isinstance(outcome, SpeechResult):
            raise SpeechProcessError(f"the speech worker answered {type(outcome).__name__}, not a transcript")
        return outcome

    def _call(self, operation: str, *args: Any) -> Any:
        pending = _Pending()
        job = next(self._ids)
        with self._lock:
            worker = self._running_worker()
            with worker.lock:
                if worker.reason is None:
                    worker.pending[job] = pending
                else:  # gone between the two checks
                    pending.outcome = ("error", worker.reason)
                    pending.done.set()
        if pending.outcome is None:
            try:
                worker.send((job, operation, args))
            except OSError as exc:
                with worker.lock:
                    worker.pending.pop(job, None)
                raise SpeechProcessError(f"the speech worker is gone: {exc}") from exc
        if not pending.done.wait(JOB_TIMEOUT_SECONDS):
            with worker.lock:
                worker.pending.pop(job, None)
            raise SpeechProcessError(f"the speech worker gave no answer within {JOB_TIMEOUT_SECONDS:.0f} s")
        assert pending.outcome is not None
        kind, value = pending.outcome
        if kind == "ok":
            return value
        if kind == "media":
            media_kind, message = value
            raise MediaError(media_kind, message)
        raise SpeechProcessError(str(value))


# -- the worker process ----------------------------------------------------------------------------------------
def _serve(conn: Connection, model_path: str | None, settings: SpeechSettings, workers: int) -> None:
    engine = SpeechToText(model_path, settings=settings)
    try:
        engine.warm_up()
    except Exception as exc:
        conn.send(("broken", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", None))
    send_lock = threading.Lock()

    def answer(message: tuple[int, str, Any]) -> None:
        with send_lock, contextlib.suppress(OSError):  # the parent is gone: nobody to tell
            conn.send(message)

    def run(job: int, operation: str, args: tuple[Any, ...]) -> None:
        try:
            if operation != "transcribe":
                raise ValueError(f"unknown operation {operation!r}")
            answer((job, "ok", engine.transcribe_file(Path(args[0]))))
        except MediaError as exc:
            answer((job, "media", (exc.kind, exc.message)))
        except Exception as exc:
            answer((job, "error", f"speech to text failed: {type(exc).__name__}: {exc}"))

    # Leaving the with block waits for the running jobs: the process never exits while CTranslate2 computes.
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="speech") as pool:
        while True:
            try:
                request = conn.recv()
            except (EOFError, OSError):  # the parent is gone
                break
            if request is None:  # close()
                break
            pool.submit(run, *request)


def main(argv: list[str]) -> int:
    model_path, settings_name, workers, fd = argv
    # The parent decides when this process stops (close(), or its end closing the pipe).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    from vidsense_local.engines.speech import BASELINE_SETTINGS  # noqa: PLC0415

    settings = {s.name: s for s in (BASELINE_SETTINGS, TUNED_SETTINGS)}[settings_name]
    conn = Connection(int(fd))
    try:
        _serve(conn, model_path or None, settings, int(workers))
    finally:
        conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
