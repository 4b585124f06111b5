"""Pieces of the stack orchestration that need no running stack."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vidsense_local.clients import aws_environment
from vidsense_local.deployer import stage_deploy_tree
from vidsense_local.paths import REPO_ROOT
from vidsense_local.runtime.logs import FunctionLog
from vidsense_local.serving import free_port, listen, port_in_use
from vidsense_local.stack import StackConfig, user_key_secret


def test_deploy_tree_is_a_private_copy_with_shared_packages():
    tree = stage_deploy_tree()
    try:
        for service in ("ingest", "transcode", "nlp"):
            assert (tree / "services" / service / "serverless.yml").read_text() == (
                REPO_ROOT / "services" / service / "serverless.yml"
            ).read_text()
        assert (tree / "serverless-compose.yml").exists() and (tree / "deploy" / "plugins").is_dir()
        assert (tree / "node_modules").resolve() == (REPO_ROOT / "node_modules").resolve()
        assert not list(tree.rglob(".serverless")) and not list(tree.rglob("__pycache__"))
        assert not (tree / "services").resolve().is_relative_to(REPO_ROOT)
    finally:
        shutil.rmtree(tree)


def test_user_key_secret_is_made_once_and_kept(tmp_path):
    first = user_key_secret(tmp_path)
    assert len(first) == 64 and user_key_secret(tmp_path) == first
    assert (tmp_path / "user-key-secret").stat().st_mode & 0o077 == 0


def test_function_log_keeps_every_line_and_echoes_errors(tmp_path, capsys):
    log = FunctionLog(tmp_path / "functions.log")
    log("fn-a", "START RequestId: 1")
    log("fn-a", "[ERROR] ValueError: boom")
    log.close()
    log("fn-a", "after close is dropped")
    assert (tmp_path / "functions.log").read_text().splitlines() == [
        "fn-a START RequestId: 1",
        "fn-a [ERROR] ValueError: boom",
    ]
    assert "[fn-a] [ERROR] ValueError: boom" in capsys.readouterr().err


REAPER = """
import subprocess, sys
from vidsense_local.shutdown import children, reap_children
import os
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
assert child.pid in children(os.getpid())
reap_children(timeout=5)
print(child.pid, child.poll() is not None)
"""


def test_children_are_found_and_reaped():
    # In a process of its own: reaping here would also end other suites' children (workers, stacks).
    out = subprocess.run([sys.executable, "-c", REAPER], capture_output=True, text=True, timeout=60, check=True)
    pid, reaped = out.stdout.split()
    assert reaped == "True"
    # Had it survived, the sleeping child would still exist (re-parented) after the reaper exited.
    stat = Path(f"/proc/{pid}/stat")
    assert not stat.exists() or stat.read_text().rsplit(")", 1)[-1].split()[0] == "Z"


def test_ports_and_environment(monkeypatch):
    port = free_port()
    assert not port_in_use(port)
    monkeypatch.setenv("VIDSENSE_API_PORT", "3123")
    monkeypatch.setenv("VIDSENSE_AWS_PORT", "0")
    config = StackConfig.from_env()
    assert config.api_port == 3123 and config.aws_port == 0  # 0: a free port, chosen when the stack binds
    env = aws_environment("http://127.0.0.1:4566")
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566" and env["AWS_REGION"] == "us-east-1"


def test_listen_binds_the_port_at_once_and_refuses_a_taken_one():
    # Given port 0, When the stack's listen() binds it, Then the kernel's choice is held from that moment on
    first = listen(0)
    try:
        port = first.getsockname()[1]
        assert port > 0 and port_in_use(port)
        # And a second bind of the same port is refused with the one-line reason, not a traceback from a server
        with pytest.raises(RuntimeError, match=f"port {port} is in use"):
            listen(port)
    finally:
        first.close()
