"""One local stack for the whole e2e session: a real `make up` subprocess on free ports, with its own state
folder (key pair, user-key secret, stack.log, functions.log). The last test stops it with SIGTERM twice and checks
nothing survives. A failing e2e test's report ends with what the stack and its functions logged meanwhile.

Fixtures: ``running`` (the process), ``stack`` (its endpoints), ``manifest`` (the media samples), ``faults`` (the
fault-injection control API, cleared after the test). Helpers to upload and poll: ``tests/e2e/support.py``."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from vidsense_local import make_up
from vidsense_local.demo import StackEndpoints
from vidsense_local.faults import FaultClient
from vidsense_local.shutdown import alive, descendants

from .support import MEDIA

# A loaded machine deploys slowly (about 30 s idle, minutes under load): VIDSENSE_E2E_START_TIMEOUT moves it.
START_TIMEOUT = float(os.environ.get("VIDSENSE_E2E_START_TIMEOUT", "900"))
# How much of each log a failing test's report shows (lines written while the test ran, at most this many).
REPORT_LINES = {"stack.log": 60, "functions.log": 120, "deploy.log": 40}
REPORT_LINE_CHARS = 400

__all__ = ["MEDIA", "RunningStack", "alive", "descendants"]


@pytest.fixture(scope="session")
def manifest() -> dict:
    return json.loads((MEDIA / "manifest.json").read_text())


@dataclass
class RunningStack:
    endpoints: StackEndpoints
    process: subprocess.Popen[str]
    # Every port the stack bound (API, AWS endpoint, web client): all free again after the stop.
    ports: tuple[int, ...]
    # Where the stack serves the web client (stack.json's web_url); its /callback is a registered redirect URI.
    web_url: str
    # Seconds from `make up` to its ready line.
    started_in: float = 0.0

    @property
    def state_dir(self) -> Path:
        assert self.endpoints.state_dir is not None
        return self.endpoints.state_dir


_STATE_DIR = pytest.StashKey[Path]()
_RUNNING = pytest.StashKey[RunningStack]()
_MARKS = pytest.StashKey[dict[str, int]]()


def _log_sizes(state: Path) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for name in REPORT_LINES:
        try:
            sizes[name] = (state / name).stat().st_size
        except OSError:
            sizes[name] = 0
    return sizes


def _tail(path: Path, since: int, lines: int) -> str:
    """The last ``lines`` lines written to ``path`` after byte ``since`` (long lines cut)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(since)
            text = handle.read().decode("utf-8", "replace")
    except OSError as exc:
        return f"({exc})"
    kept = text.splitlines()[-lines:]
    return "\n".join(line[:REPORT_LINE_CHARS] for line in kept) or "(nothing written while the test ran)"


def stack_diagnostics(
    state: Path, marks: dict[str, int] | None = None, process: subprocess.Popen[str] | None = None
) -> list[tuple[str, str]]:
    """(title, text) sections: what the stack, its functions and its deploy logged since ``marks``."""
    marks = marks or {}
    sections: list[tuple[str, str]] = []
    if process is not None and process.poll() is not None:
        sections.append(("e2e stack: exited", f"the stack process exited with code {process.returncode}"))
    for name, lines in REPORT_LINES.items():
        if name == "deploy.log" and marks:
            continue  # only a start failure is the deploy's business
        path = state / name
        sections.append((f"e2e stack: {path} (last {lines} lines)", _tail(path, marks.get(name, 0), lines)))
    return sections


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    state = item.config.stash.get(_STATE_DIR, None)
    if state is not None:
        item.stash[_MARKS] = _log_sizes(state)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    state = item.config.stash.get(_STATE_DIR, None)
    running = item.config.stash.get(_RUNNING, None)
    # No running handle: the stack did not start, and the failure message already holds its logs.
    if report.failed and state is not None and running is not None:
        # The test during which the stack started has no marks: its logs from the start.
        report.sections.extend(stack_diagnostics(state, item.stash.get(_MARKS, None), running.process))
    return report


@pytest.fixture(scope="session")
def running(request: pytest.FixtureRequest) -> Iterator[RunningStack]:
    state = tempfile.mkdtemp(prefix="vidsense-e2e-")
    # Only the stack's environment changes: the test process keeps its own (other suites run in it too). Port 0:
    # the stack binds free ports itself and reports them in stack.json (no port chosen here and bound later).
    env = {
        **os.environ,
        "VIDSENSE_LOCAL_DIR": state,
        "VIDSENSE_API_PORT": "0",
        "VIDSENSE_AWS_PORT": "0",
        "VIDSENSE_WEB_PORT": "0",
    }
    request.config.stash[_STATE_DIR] = Path(state)
    log_path = Path(state) / "stack.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed at teardown

    def keep(line: str) -> None:
        log.write(line)
        log.flush()

    started = time.monotonic()
    try:
        proc = make_up.start(env, keep, timeout=START_TIMEOUT)
    except make_up.NotReadyError as exc:
        log.close()
        logs = "\n\n".join(f"--- {title}\n{text}" for title, text in stack_diagnostics(Path(state)))
        pytest.fail(f"the local stack did not start ({exc}):\n{logs}")
    try:
        stack_state = json.loads((Path(state) / "stack.json").read_text())
        api_port, aws_port = int(stack_state["api_port"]), int(stack_state["aws_port"])
        endpoints = StackEndpoints(
            api_url=f"http://127.0.0.1:{api_port}",
            aws_url=f"http://127.0.0.1:{aws_port}",
            issuer=stack_state["issuer"],
            audience=stack_state["audience"],
            state_dir=Path(state),
        )
        web_url = str(stack_state["web_url"])
        web_port = urlsplit(web_url).port
        assert web_port is not None, f"stack.json's web_url has no port: {web_url}"
        handle = RunningStack(
            endpoints, proc, (api_port, aws_port, web_port), web_url, started_in=time.monotonic() - started
        )
        request.config.stash[_RUNNING] = handle
        yield handle
    finally:
        if proc.poll() is None:
            make_up.stop(proc)
        log.close()


@pytest.fixture(scope="session")
def stack(running: RunningStack) -> StackEndpoints:
    return running.endpoints


@pytest.fixture
def faults(stack: StackEndpoints) -> Iterator[FaultClient]:
    """The stack's fault-injection control API; every rule is cleared after the test, so the next test (and
    the next file) gets a healthy stack."""
    client = FaultClient(stack.aws_url)
    try:
        yield client
    finally:
        client.clear()
