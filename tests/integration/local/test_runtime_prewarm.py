"""Given a deployed function, prewarm gives it one execution environment before any request (as provisioned
concurrency does), so its first request neither waits for the imports nor reports an init duration; and on a
loaded machine the time a worker waits for a CPU does not count against its timeout."""

from __future__ import annotations

import os
import time

from tests.integration.local.conftest import Stack
from vidsense_local.runtime import worker


def test_first_request_after_prewarm_runs_in_the_prewarmed_environment(stack: Stack) -> None:
    name, _ = stack.function("echo")

    inits = stack.runtime.prewarm([name])

    init_ms = inits[name]
    assert init_ms is not None and init_ms > 0
    pids = stack.runtime.worker_pids()[name]
    assert len(pids) == 1
    # A second prewarm adds nothing: the function has its environment.
    assert stack.runtime.prewarm([name]) == {name: None}
    assert stack.runtime.worker_pids()[name] == pids
    result = stack.runtime.invoke(name, {"first": True})
    assert result.function_error is None
    assert result.worker_pid == pids[0]
    assert result.json()["invocations"] == 1
    assert not result.cold_start


def test_prewarm_failures_are_left_to_the_first_request(stack: Stack) -> None:
    broken, _ = stack.function("does_not_exist")

    assert stack.runtime.prewarm([broken, "no-such-function"]) == {broken: None, "no-such-function": None}

    result = stack.runtime.invoke(broken, {})
    assert result.function_error == "Unhandled"
    assert result.json()["errorType"] == "Runtime.HandlerNotFound"


def test_time_spent_waiting_for_a_cpu_does_not_count_against_the_timeout(stack: Stack, monkeypatch) -> None:
    name, _ = stack.function("sleepy", timeout=1)
    stack.runtime.invoke(name, {"seconds": 0})  # warm
    started = time.monotonic()
    # As if the machine were so loaded that the worker waited for a CPU all along.
    monkeypatch.setattr(worker, "runqueue_wait", lambda pid: time.monotonic() - started)

    result = stack.runtime.invoke(name, {"seconds": 2})

    assert result.function_error is None, result.payload
    assert result.json()["slept"] is True


def test_a_function_that_is_not_starved_times_out_on_time(stack: Stack) -> None:
    name, _ = stack.function("sleepy", timeout=1)
    stack.runtime.invoke(name, {"seconds": 0})

    result = stack.runtime.invoke(name, {"seconds": 30})

    assert result.json()["errorType"] == "Sandbox.Timedout"
    assert result.duration_ms < 10_000


def test_cpu_wait_is_read_from_the_scheduler() -> None:
    assert worker.runqueue_wait(os.getpid()) >= 0
    assert worker.runqueue_wait(2**22 + 1) == 0.0  # no such process
