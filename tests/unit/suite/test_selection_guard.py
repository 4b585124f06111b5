"""The selection guard (tests/selection_guard.py) fails a run in which a selected test did not run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from vidsense_local.paths import REPO_ROOT

TESTS = """
def test_one():
    pass

def test_two():
    pass
"""

# Two items with one node id, as schemathesis made them: xdist's scope scheduling (make test's) runs one of them.
SHARED_ID = """
import pytest

def pytest_collection_modifyitems(items):
    items.append(items[0])
"""

# An item dropped without a report: selected but never run.
DROPPED = """
import pytest

@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    return item.name == "test_two" or None
"""


def run(tmp_path: Path, conftest: str, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_sample.py").write_text(TESTS)
    (tmp_path / "conftest.py").write_text(conftest)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.selection_guard", "-p", "no:cacheprovider", *args],
        check=False,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_selected_test_ran_passes(tmp_path):
    result = run(tmp_path, "", "-p", "no:xdist")
    assert result.returncode == 0, result.stdout
    assert "selection guard" not in result.stdout


def test_a_dropped_test_fails_the_run(tmp_path):
    result = run(tmp_path, DROPPED, "-p", "no:xdist")
    assert result.returncode == 1, result.stdout
    assert "selection guard: 2 tests were selected but 1 ran" in result.stdout


def test_items_sharing_a_node_id_under_xdist_fail_the_run(tmp_path):
    result = run(tmp_path, SHARED_ID, "-n", "2", "--dist", "loadscope")
    assert result.returncode == 1, result.stdout
    assert "selection guard: 3 tests were selected but 2 ran" in result.stdout


def test_deselected_tests_are_not_counted(tmp_path):
    result = run(tmp_path, "", "-n", "2", "-k", "one")
    assert result.returncode == 0, result.stdout
