"""Given a second runtime on the same edge, concurrent invocations get separate execution environments and
stop() ends busy and idle workers within seconds (make up must stop promptly on Ctrl-C)."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from tests.integration.local.conftest import ACCOUNT, FIXTURES, REGION, Stack
from vidsense_local.runtime import FunctionRuntime, InvokeResult


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it has exited as far as we are concerned.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split()[2] != "Z"


def test_concurrent_invocations_run_in_separate_environments(stack: Stack) -> None:
    name, _ = stack.function("sleepy")
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: stack.runtime.invoke(name, {"seconds": 1.5}), range(2)))
    assert all(r.function_error is None for r in results)
    assert len({r.json()["pid"] for r in results}) == 2


def test_stop_ends_busy_and_idle_workers_promptly(stack: Stack) -> None:
    sleepy, _ = stack.function("sleepy", timeout=60)
    echo, _ = stack.function("echo")
    runtime = FunctionRuntime(stack.url, REGION, ACCOUNT, extra_pythonpath=[FIXTURES])
    runtime.refresh()
    idle_pid = runtime.invoke(echo, {}).json()["pid"]
    outcome: list[InvokeResult | BaseException] = []

    def busy() -> None:
        try:
            outcome.append(runtime.invoke(sleepy, {"seconds": 50}))
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=busy)
    thread.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not runtime.worker_pids().get(sleepy):
        time.sleep(0.1)
    busy_pid = runtime.worker_pids()[sleepy][0]
    time.sleep(1.0)  # let the worker finish init and start sleeping

    started = time.monotonic()
    runtime.stop()
    thread.join(timeout=10)
    # The busy worker would sleep 49 s more: a stop that waited for it would take that long. 20 s leaves a loaded
    # 2-core machine room to kill and reap the workers (an idle one takes well under a second).
    assert time.monotonic() - started < 20
    assert not thread.is_alive()
    result = outcome[0]
    assert isinstance(result, InvokeResult)
    assert result.function_error == "Unhandled"
    assert result.json()["errorType"] == "Runtime.ExitError"
    assert not _alive(idle_pid)
    assert not _alive(busy_pid)
