"""Runs last (file order): `make up` gets SIGTERM twice, as from a terminal and make, and stops everything."""

from __future__ import annotations

import os
import signal
import time

import pytest

from vidsense_local.stack import port_in_use

from .conftest import RunningStack, alive, descendants

pytestmark = pytest.mark.e2e


def test_double_sigterm_stops_the_stack_with_no_survivors(running: RunningStack):
    # Given the running stack and every process it started (function workers included)
    processes = descendants(running.process.pid) | {running.process.pid}
    assert len(processes) >= 3, "expected make, the stack and at least one function worker"
    # When SIGTERM arrives twice
    started = time.monotonic()
    os.killpg(running.process.pid, signal.SIGTERM)
    time.sleep(0.1)
    os.killpg(running.process.pid, signal.SIGTERM)
    running.process.wait(timeout=20)
    # Then within a few seconds no process survives and both ports are free
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(pid) for pid in processes):
        time.sleep(0.1)
    survivors = [pid for pid in processes if alive(pid)]
    elapsed = time.monotonic() - started
    assert survivors == [], f"still running: {survivors}"
    assert not any(port_in_use(port) for port in running.ports)
    assert elapsed < 15, f"stopping took {elapsed:.1f} s"
