"""``serverless deploy --stage local`` for ``make up``: from a private copy of the tree, one service after the other
through the deploy cache, stoppable from another thread."""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from vidsense_local.paths import REPO_ROOT
from vidsense_shared.resources import LOCAL_STAGE

LOG = logging.getLogger("vidsense_local.deployer")

# The deployment engineer's entry point (docs/deploy.md); VIDSENSE_DEPLOY_CMD overrides it.
DEFAULT_DEPLOY_CMD = "node_modules/.bin/serverless deploy --stage local"
LOCAL_MONITORING_FREQUENCY_MS = "250"

DEPLOY_FILES = ("serverless-compose.yml", "package.json", "package-lock.json")
DEPLOY_TREES = ("deploy", "shared", "services")


class Interrupted(Exception):
    """A stop was requested while the stack was starting."""


def stage_deploy_tree(dest: Path | None = None) -> Path:
    """A private copy of what ``serverless deploy`` and ``package`` read (compose file, services, shared code,
    plugins), node_modules linked, at ``dest`` (emptied first) or in a new temporary folder. The Framework writes
    into each service's .serverless/: ``make up``, ``make cost`` and the deploy tests package in copies of their
    own, so none of them can corrupt another's (or ``make package``'s) zips."""
    if dest is None:
        dest = Path(tempfile.mkdtemp(prefix="vidsense-deploy-"))
    else:
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
    ignore = shutil.ignore_patterns(".serverless", "__pycache__", "*.pyc", ".mypy_cache", ".pytest_cache", "tests")
    for name in DEPLOY_FILES:
        if (REPO_ROOT / name).exists():
            shutil.copy2(REPO_ROOT / name, dest / name)
    for name in DEPLOY_TREES:
        shutil.copytree(REPO_ROOT / name, dest / name, ignore=ignore, symlinks=True)
    (dest / "node_modules").symlink_to(REPO_ROOT / "node_modules")
    return dest


def function_sources(tree: Path) -> list[Path]:
    """The functions' import paths (shared code, each service's src) inside a staged deploy tree."""
    from vidsense_local.runtime.core import SOURCE_PATHS  # noqa: PLC0415 - heavy package, only when starting

    return [tree / path.relative_to(REPO_ROOT) for path in SOURCE_PATHS]


class LocalDeploy:
    """Deploys ``tree`` to the local endpoint that ``endpoint_env`` points at; raises ``Interrupted`` once
    ``stop_requested`` is set. ``timings`` gets each service's deploy seconds."""

    def __init__(
        self,
        command: Sequence[str],
        tree: Path,
        endpoint_env: Mapping[str, str],
        stop_requested: threading.Event,
    ) -> None:
        self.command = list(command)
        self.tree = tree
        self.timings: dict[str, float] = {}
        self._stop_requested = stop_requested
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._env = {
            **os.environ,
            **endpoint_env,
            # As `make deploy-local`: no telemetry or update checks (offline).
            "SLS_TELEMETRY_DISABLED": "1",
            "SLS_NOTIFICATIONS_MODE": "off",
        }
        # The Framework polls CloudFormation every 5 s by default (two waits per service); the local endpoint
        # finishes a stack change within its request, so waiting 5 s for it was most of each deploy.
        self._env.setdefault("SLS_AWS_MONITORING_FREQUENCY", LOCAL_MONITORING_FREQUENCY_MS)
        # As under npx: compose runs `serverless` for each service from PATH.
        self._env["PATH"] = f"{REPO_ROOT / 'node_modules' / '.bin'}{os.pathsep}{self._env.get('PATH', '')}"

    def run(self, log_path: Path) -> None:
        """Deploy, the output in ``log_path``; a failure raises with the log's last lines."""
        # Packaging writes services/*/.serverless/: deploying from a private copy keeps a `make test` or
        # `make package` running in the work tree at the same time from corrupting this deploy's zips.
        with open(log_path, "wb") as log:
            for attempt in (1, 2):
                if self.command == shlex.split(DEFAULT_DEPLOY_CMD):
                    code = self._deploy_services(log)
                else:
                    code = self._run(self.command, log, self.tree)
                if code == 0:
                    return
                # A package that broke before any stack was touched can be tried once more.
                text = log_path.read_text(errors="replace")
                if attempt == 1 and "Corrupted zip" in text:
                    log.write(b"\n--- retrying after a corrupted package ---\n")
                    continue
                # Compose prefixes each line with the service; stack frames ("<service> >     at ...") say little.
                lines = [
                    line for line in text.splitlines() if not line.split("\u203a", 1)[-1].strip().startswith("at ")
                ]
                tail = "\n".join(lines[-25:])
                raise RuntimeError(f"`{' '.join(self.command)}` failed with exit code {code}; see {log_path}:\n{tail}")

    def _deploy_services(self, log: IO[bytes]) -> int:
        """The default deploy, one service after the other in compose order (as compose runs it), so that each
        service whose packaging inputs did not change since an earlier deploy reuses that package."""
        from vidsense_local.deploy_cache import DeployCache, DeployFailed, default_cache_dir, deploy_stage  # noqa: PLC0415

        def note(line: str) -> None:
            LOG.info("%s", line)
            log.write(f"{line}\n".encode())
            log.flush()

        try:
            deploys = deploy_stage(
                self.tree,
                LOCAL_STAGE,
                self._env,
                lambda command, cwd: self._run(command, log, cwd),
                DeployCache(default_cache_dir(REPO_ROOT)),
                serverless=self.tree / "node_modules" / ".bin" / "serverless",
                note=note,
            )
        except DeployFailed as failed:
            note(str(failed))
            return failed.code
        for deploy in deploys:
            how = "package reused" if deploy.reused else "packaged"
            self.timings[f"deploy {deploy.service} ({how})"] = deploy.seconds
        return 0

    def _run(self, command: list[str], log: IO[bytes], cwd: Path) -> int:
        LOG.info("deploying: %s", " ".join(command))
        with self._lock:
            if self._stop_requested.is_set():
                raise Interrupted("deploy")
            # Own session: a Ctrl-C in the terminal must not kill the deploy behind our back; stop() ends it.
            self._proc = subprocess.Popen(
                command, cwd=cwd, env=self._env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        code = self._proc.wait()
        if self._stop_requested.is_set():
            raise Interrupted("deploy")
        return code

    def request_stop(self) -> None:
        """Safe from any thread: SIGTERM to a deploy still running."""
        self._signal(signal.SIGTERM)

    def stop(self) -> None:
        """``request_stop``, then 3 s for the deploy to end before SIGKILL."""
        self.request_stop()
        proc = self._proc
        if proc is not None and proc.poll() is None:
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                proc.wait(timeout=2)

    def _signal(self, signum: signal.Signals) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signum)
