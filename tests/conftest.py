"""Suite-wide settings: hypothesis profiles (make test keeps fuzzing short; make test-heavy runs it long)."""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from tests.selection_guard import pytest_configure  # noqa: F401 - a hook: every run checks that each selected test ran

settings.register_profile("default", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("heavy", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


# --- spreading the suite over CPUs (make test runs pytest-xdist with --dist loadgroup) -------------------------------
# Suites whose fixtures are expensive and shared across their modules (a local stack, osls packaging, the speech
# model) stay in one scheduling unit, so they are built once; every other module is a unit of its own. The long units
# come first: xdist hands the first units to different workers, so they run side by side from the start.
# The local-stack and stand-ins' tests share one unit (both serve moto in process) in no required order: each of
# their fixtures starts from and leaves empty moto state and removes the delivery hooks it installed.
LONG_GROUPS = (
    ("tests/e2e", "tests/e2e"),
    ("tests/integration/deploy", "tests/integration/deploy"),
    ("tests/integration/local", "local-and-standins"),
    ("tests/integration/standins", "local-and-standins"),
)
# A unit's rank is where it first appears: the modules of one unit keep their collection order.
_UNIT_RANK: dict[str, int] = {}
for _prefix, _unit in LONG_GROUPS:
    _UNIT_RANK.setdefault(_unit, len(_UNIT_RANK))


def group_of(nodeid: str) -> tuple[int, str]:
    path = nodeid.split("::", 1)[0]
    for prefix, unit in LONG_GROUPS:
        if path.startswith(prefix + "/"):
            return _UNIT_RANK[unit], unit
    return len(_UNIT_RANK), path


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    ranked = sorted(enumerate(items), key=lambda pair: (group_of(pair[1].nodeid)[0], pair[0]))
    items[:] = [item for _, item in ranked]


@pytest.hookimpl(optionalhook=True)  # pytest -p no:xdist still loads this file
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadgroup`` with the groups above. xdist's own loadgroup reads ``xdist_group`` marks by rewriting
    node ids, which pytest 9 no longer allows, so the scheduler is told the groups directly."""
    if config.getoption("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]  # noqa: PLC0415 - only under xdist

    class DirectoryGroups(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid)[1]

    return DirectoryGroups(config, log)
