"""Suite-wide settings: hypothesis profiles (make test keeps fuzzing short; make test-heavy runs it long)."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("default", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("heavy", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


# --- spreading the suite over CPUs (make test runs pytest-xdist with --dist loadgroup) -------------------------------
# Suites whose fixtures are expensive and shared across their modules (a local stack, osls packaging, the speech
# model) stay in one xdist group, so they are built once; every other module is a group of its own. The long groups
# come first: xdist hands the first units to different workers, so they run side by side from the start.
LONG_GROUPS = ("tests/e2e", "tests/integration/deploy", "tests/integration/local", "tests/integration/standins")


def _group_of(item: pytest.Item) -> tuple[int, str]:
    path = item.nodeid.split("::", 1)[0]
    for rank, prefix in enumerate(LONG_GROUPS):
        if path.startswith(prefix + "/"):
            return rank, prefix
    return len(LONG_GROUPS), path


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    ranked = sorted(enumerate(items), key=lambda pair: (_group_of(pair[1])[0], pair[0]))
    items[:] = [item for _, item in ranked]
    for item in items:
        item.add_marker(pytest.mark.xdist_group(_group_of(item)[1]))
