"""Fails a run in which fewer (or more) tests ran than were selected.

Why: items that share a node id (schemathesis' operations once did) collapse into one under pytest-xdist, whose
scheduler keys work by node id: `make test` selected 1125 tests and reported 1119, and nothing failed. A test ran
when it reported a call, or a setup that did not pass (an error or a skip)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest


class SelectionGuard:
    """Registered in the process that reports: the only one without xdist, the controller with it."""

    def __init__(self) -> None:
        self.selected: int | None = None
        self.ran = 0

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if self.selected is None:
            self.selected = len(session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: Sequence[str]) -> None:
        # Every worker collects the whole selection (deselected items removed); the controller collects nothing.
        self.selected = len(ids)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self.ran += 1

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        # A failed, interrupted or collect-only run says so already.
        if exitstatus != pytest.ExitCode.OK or session.config.option.collectonly or self.selected is None:
            return
        if self.selected != self.ran:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
            reporter = session.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_line(
                    f"selection guard: {self.selected} tests were selected but {self.ran} ran "
                    "(tests that share a node id collapse into one under xdist: give each a unique id)",
                    red=True,
                    bold=True,
                )


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(SelectionGuard(), "vidsense-selection-guard")
