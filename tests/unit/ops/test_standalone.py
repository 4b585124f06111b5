"""The operator CLI on its own: vidsense_ops with only boto3 and vidsense_shared importable, as after
``pip install ./shared ./ops`` (docs/operations.md). Each check runs in a fresh interpreter whose path holds only
shared/ and ops/ of this checkout, and where the local stack, the services, moto, PyAV and faster-whisper cannot be
imported (a meta-path finder refuses them, whatever .venv holds)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import boto3
import pytest

from vidsense_shared.resources import LOCAL_STAGE, StageResources

REPO_ROOT = Path(__file__).resolve().parents[3]
BLOCKED = ("vidsense_local", "ingest", "transcode", "nlp", "moto", "av", "faster_whisper", "ctranslate2")
OPS_COMMANDS = ("replay", "replays", "dlq", "status", "smoke")

# Runs before vidsense_ops is imported: the standalone install's world.
PRELUDE = textwrap.dedent(
    f"""
    import sys
    from importlib.abc import MetaPathFinder

    BLOCKED = {BLOCKED!r}

    class NotInstalled(MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{{name}} is not installed (standalone operator CLI)")
            return None

    sys.meta_path.insert(0, NotInstalled())
    sys.path[:0] = [{str(REPO_ROOT / "shared")!r}, {str(REPO_ROOT / "ops")!r}]
    """
)


def standalone(code: str, *, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", **(env or {})},
        cwd="/",
    )


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return standalone(f"from vidsense_ops.cli import main\nraise SystemExit(main({list(args)!r}))", env=env)


def test_the_blocker_blocks():
    blocked = standalone("import vidsense_local")
    assert blocked.returncode == 1 and "not installed (standalone operator CLI)" in blocked.stderr


def test_every_operator_command_has_its_help_without_the_local_stack_or_services():
    # Given the standalone world, when each subcommand's help is asked for
    code = f"""
    import contextlib, io, json
    from vidsense_ops.cli import main
    codes = {{}}
    for command in [[], *[[c] for c in {OPS_COMMANDS!r}]]:
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                main([*command, "--help"])
            except SystemExit as exit:
                codes[" ".join(command) or "vidsense"] = exit.code
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    print(json.dumps({{"codes": codes, "loaded": loaded}}))
    """
    result = standalone(code)

    # Then every help exits 0 and nothing blocked was even tried
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["codes"] == {"vidsense": 0, **{c: 0 for c in OPS_COMMANDS}}
    assert report["loaded"] == []


def test_the_local_stacks_commands_are_not_offered():
    result = cli("token", "ada@example.org")
    assert result.returncode == 2
    assert "invalid choice: 'token'" in result.stderr


def test_dlq_list_against_moto_through_the_error_boundary(moto_server: int) -> None:
    # Given a "local" stage at a moto endpoint: its bus and one queue the deploy tagged as nlp's failed queue
    endpoint = f"http://127.0.0.1:{moto_server}"
    aws = {"endpoint_url": endpoint, "region_name": "us-east-1"}
    keys = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
    local = StageResources(LOCAL_STAGE)
    queue = f"{local.service_prefix('nlp')}-analyzeSentiment-failed"
    boto3.client("events", **aws, **keys).create_event_bus(Name=local.bus)
    boto3.client("sqs", **aws, **keys).create_queue(
        QueueName=queue,
        tags={
            "vidsense:stage": "local",
            "vidsense:service": "nlp",
            "vidsense:function": "analyzeSentiment",
            "vidsense:kind": "failed",
        },
    )

    # When the standalone CLI lists the stage's dead-letter queues
    listed = cli("dlq", "list", "--stage", "local", env={"AWS_ENDPOINT_URL": endpoint})

    # Then it finds the queue by its tags
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == [queue, "visible=0", "in_flight=0"]


def test_no_stack_running_is_one_line_and_exit_2():
    # Port 9 (discard): nothing listens there.
    result = cli("dlq", "list", "--stage", "local", env={"AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("vidsense dlq: cannot reach the local stack at http://127.0.0.1:9")


def test_smoke_of_the_local_stage_without_the_local_package_says_so_in_one_line():
    result = cli("smoke", "--stage", "local", env={"AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "vidsense smoke: --stage local signs in through the local stack's package (vidsense_local)" in (
        result.stderr
    )


UV = REPO_ROOT / ".uv" / "bin" / "uv"  # the Makefile's
IGNORED = shutil.ignore_patterns("__pycache__", "build", "*.egg-info", ".mypy_cache")


def _run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=300, check=False, **kwargs)


def test_pip_install_shared_and_ops_into_a_clean_venv_gives_the_operator_cli(tmp_path):
    # Given a clean virtual environment and copies of shared/ and ops/ (the build writes next to its sources)
    if not UV.exists():
        pytest.skip("no .uv/bin/uv: `make setup` installs it")
    venv = tmp_path / "venv"
    for folder in ("shared", "ops"):
        shutil.copytree(REPO_ROOT / folder, tmp_path / folder, ignore=IGNORED)
    made = _run([str(UV), "venv", "-q", "--python", sys.executable, str(venv)])
    assert made.returncode == 0, made.stderr

    # When installing the two packages as docs/operations.md says (offline: from uv's cache that `make setup`
    # filled, pinned to the versions the tests use)
    python = str(venv / "bin" / "python")
    install = [str(UV), "pip", "install", "-q", "--offline", "--python", python]
    constraints = str(REPO_ROOT / "requirements" / "dev.lock")
    installed = _run([*install, "-c", constraints, str(tmp_path / "shared"), str(tmp_path / "ops")])
    assert installed.returncode == 0, installed.stderr

    # Then neither the local stack, the services nor the test and media libraries are there
    probe = f"import importlib.util as u; print(sorted(m for m in {BLOCKED!r} if u.find_spec(m)))"
    present = _run([python, "-c", probe], cwd=tmp_path)
    assert present.stdout.strip() == "[]", present.stdout + present.stderr
    # and `vidsense` offers the operator commands and answers without a stack in one line, exit 2
    vidsense = str(venv / "bin" / "vidsense")
    helped = _run([vidsense, "--help"], cwd=tmp_path)
    assert helped.returncode == 0, helped.stderr
    assert "{replay,replays,dlq,status,smoke}" in helped.stdout
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
    listed = _run([vidsense, "dlq", "list", "--stage", "local"], cwd=tmp_path, env=env)
    assert listed.returncode == 2
    assert listed.stderr.startswith("vidsense dlq: cannot reach the local stack") and listed.stderr.count("\n") == 1
    assert list(venv.glob("lib/python3*/site-packages/vidsense_ops/samples/answer.webm")), "no bundled sample"
