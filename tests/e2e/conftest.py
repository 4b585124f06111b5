"""One local stack for the whole e2e session: a real `make up` subprocess on free ports, with its own state
folder (key pair, user-key secret). The last test stops it with SIGTERM twice and checks nothing survives."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from vidsense_local.auth.state import REPO_ROOT
from vidsense_local.demo import StackEndpoints
from vidsense_local.stack import READY_LINE, free_port

# A loaded machine deploys slowly (about 30 s idle, minutes under load): VIDSENSE_E2E_START_TIMEOUT moves it.
START_TIMEOUT = float(os.environ.get("VIDSENSE_E2E_START_TIMEOUT", "900"))
MEDIA = REPO_ROOT / "tests" / "fixtures" / "media"


@pytest.fixture(scope="session")
def manifest() -> dict:
    return json.loads((MEDIA / "manifest.json").read_text())


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (Linux /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        children = {child for child, parent in parents.items() if parent in frontier}
        frontier = children - found
        found |= children
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


@dataclass
class RunningStack:
    endpoints: StackEndpoints
    process: subprocess.Popen[str]
    ports: tuple[int, int]


@pytest.fixture(scope="session")
def running() -> Iterator[RunningStack]:
    state = tempfile.mkdtemp(prefix="vidsense-e2e-")
    api_port, aws_port = free_port(), free_port()
    # Only the stack's environment changes: the test process keeps its own (other suites run in it too).
    env = {
        **os.environ,
        "VIDSENSE_LOCAL_DIR": state,
        "VIDSENSE_API_PORT": str(api_port),
        "VIDSENSE_AWS_PORT": str(aws_port),
    }
    log_path = Path(state) / "stack.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "up"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    ready = threading.Event()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            log.flush()
            if READY_LINE in line:
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    started = time.monotonic()
    try:
        while not ready.wait(0.5):
            if proc.poll() is not None or time.monotonic() - started > START_TIMEOUT:
                pytest.fail(f"the local stack did not start:\n{log_path.read_text()[-4000:]}")
        stack_state = json.loads((Path(state) / "stack.json").read_text())
        endpoints = StackEndpoints(
            api_url=f"http://127.0.0.1:{api_port}",
            aws_url=f"http://127.0.0.1:{aws_port}",
            issuer=stack_state["issuer"],
            audience=stack_state["audience"],
            state_dir=Path(state),
        )
        yield RunningStack(endpoints, proc, (api_port, aws_port))
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


@pytest.fixture(scope="session")
def stack(running: RunningStack) -> StackEndpoints:
    return running.endpoints
