"""`make smoke STAGE=local` against the session's local stack, as the pipelines run it against dev after a deploy:
sign-in through the local Cognito stand-in, the sample answer recorded, analyzed, checked and erased."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from vidsense_local.clients import aws_environment
from vidsense_local.demo import StackEndpoints
from vidsense_local.paths import REPO_ROOT
from vidsense_ops.smoke import STEPS

from .support import PIPELINE_TIMEOUT, items_of, poll, vidsense

pytestmark = pytest.mark.e2e

# The local stage signs in at the stand-in: no throw-away Cognito user to create or remove.
LOCAL_STEPS = [s for s in STEPS if s not in ("create user", "remove user")]
STEP_LINE = re.compile(r"^ok +(?P<step>.+?) +(?P<seconds>\d+\.\d) s(?: +(?P<detail>.*))?$")


def _make_smoke(stack: StackEndpoints) -> subprocess.CompletedProcess[str]:
    # Pointed at the stack's random ports the way an operator points the CLI at AWS: the environment only.
    env = {**os.environ, **aws_environment(stack.aws_url), "VIDSENSE_SMOKE_TIMEOUT": str(PIPELINE_TIMEOUT)}
    return subprocess.run(
        ["make", "--no-print-directory", "smoke", "STAGE=local"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=2 * PIPELINE_TIMEOUT + 120,
        check=False,
    )


def test_make_smoke_records_the_sample_answer_checks_its_analysis_and_erases_it(stack):
    # When the smoke test runs against the local stage
    run = _make_smoke(stack)
    # Then it passes, with one timed line per step, in order
    assert run.returncode == 0, f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}"
    steps = [m.groupdict() for m in map(STEP_LINE.match, run.stdout.splitlines()) if m]
    assert [s["step"] for s in steps] == LOCAL_STEPS, run.stdout
    assert "passed" in run.stdout.splitlines()[-1]
    details = {s["step"]: s["detail"] or "" for s in steps}
    assert details["check sentiment"] in {"POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED"}
    assert re.fullmatch(r"[1-9]\d* words", details["check transcript"]), details
    # And the run's own project holds nothing afterwards (the erasure reached the read model)
    project = re.search(r"project (smoke-[0-9a-z-]+)\)", details["find stage"])
    assert project, details["find stage"]
    poll(lambda: not items_of(stack, "answers", project.group(1)), 60, "the smoke answer erased")


def test_smoke_that_runs_out_of_time_exits_1_naming_the_step_and_the_last_status(stack):
    # When the analysis cannot finish within the smoke test's bound
    run = vidsense(stack, "smoke", "--stage", "local", "--timeout", "0.5")
    # Then it exits 1 naming the step that failed and what it last saw, after the steps that passed
    assert run.returncode == 1, f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}"
    assert "failed at step 'wait for ANALYZED'" in run.stderr
    assert "last seen:" in run.stderr
    assert re.search(r"^FAIL wait for ANALYZED", run.stdout, re.MULTILINE), run.stdout
    assert [m.group("step") for m in map(STEP_LINE.match, run.stdout.splitlines()) if m] == LOCAL_STEPS[:4]
    # And it asked for the answer's erasure on its way out
    assert "cleanup: DELETE /answers/smoke-" in run.stdout
