"""Runs last (file order): `make up` gets SIGTERM twice, as from a terminal and make, and stops everything."""

from __future__ import annotations

import os
import signal
import time

import pytest

from vidsense_local.serving import port_in_use
from vidsense_local.shutdown import STOP_DEADLINE_SECONDS, alive, descendants

from .conftest import RunningStack

pytestmark = pytest.mark.e2e

# The stack kills whatever it started and exits at its own deadline; this margin covers make's exit and the kernel's
# reaping on a loaded 2-core machine. A clean stop takes 1-2 s idle (docs/performance.md).
MARGIN = 15.0


def test_double_sigterm_stops_the_stack_with_no_survivors(running: RunningStack):
    # Given the running stack and every process it started (function workers included)
    processes = set(descendants(running.process.pid)) | {running.process.pid}
    assert len(processes) >= 3, "expected make, the stack and at least one function worker"
    log = running.state_dir / "stack.log"
    # When SIGTERM arrives twice
    os.killpg(running.process.pid, signal.SIGTERM)
    time.sleep(0.1)
    os.killpg(running.process.pid, signal.SIGTERM)
    running.process.wait(timeout=STOP_DEADLINE_SECONDS + MARGIN)
    # Then no process survives, both ports are free, and the stack stopped by itself (not by its deadline)
    deadline = time.monotonic() + MARGIN
    while time.monotonic() < deadline and any(alive(pid) for pid in processes):
        time.sleep(0.1)
    survivors = [pid for pid in processes if alive(pid)]
    assert survivors == [], f"still running: {survivors}"
    assert not any(port_in_use(port) for port in running.ports)
    deadline = time.monotonic() + 5  # the test's reader thread copies the last lines into the log
    while time.monotonic() < deadline and "stopped in" not in log.read_text():
        time.sleep(0.1)
    text = log.read_text()
    assert "stopped in" in text, f"no stop line; the stack's last output:\n{text[-2000:]}"
    assert "not stopped" not in text
