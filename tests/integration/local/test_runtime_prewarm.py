"""Given a deployed function, prewarm gives it one execution environment before any request (as provisioned
concurrency does), so its first request neither waits for the imports nor reports an init duration."""

from __future__ import annotations

from tests.integration.local.conftest import Stack


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
