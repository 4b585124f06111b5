"""Per-service deploys of a stage into the local endpoint, reusing the package of an earlier identical deploy.

``serverless deploy --stage local`` packages a service (requirements, bundle, templates: seconds per service)
and then deploys it. The package depends only on what the Framework reads while packaging: the compose file,
the npm manifests, ``deploy/`` (plugins, params, common settings), ``shared/``, the service's own folder and the
environment variables those files name. A deploy whose inputs hash the same as an earlier one's deploys that
earlier ``.serverless`` output with ``serverless deploy --stage local --package``; any other deploys (and
packages) anew and keeps its output for the next time. The deploy itself (CloudFormation, S3, the stack's
resources) always runs: only the packaging step is reused.

The cache lives under the clone (``.local/deploy-cache/<service>/<key>/``, ignored by git;
``VIDSENSE_DEPLOY_CACHE`` moves it) and is safe for concurrent stacks: an entry appears by an atomic rename,
is read under a shared lock and pruned under an exclusive one.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]  # PyYAML ships no stubs (installed with moto)

# Bump when what a cache entry holds or how its key is computed changes.
KEY_VERSION = "1"
PACKAGE_DIR = ".serverless"
TREE_FILE = "packaged-in"  # in a cache entry: the deploy tree it was packaged in
# What every service's packaging reads besides its own folder (paths inside the staged deploy tree).
COMMON_INPUTS = ("serverless-compose.yml", "package.json", "package-lock.json", "deploy", "shared")
# Read only by the deploy step (vidsense-local-endpoint.js skips ValidateTemplate for it), never packaged: a
# stack on another port reuses the same package.
DEPLOY_TIME_ONLY = frozenset({"AWS_ENDPOINT_URL"})
# Always part of the key: where the Framework packages for.
ALWAYS_KEYED = ("AWS_REGION", "AWS_DEFAULT_REGION")
# Compose services the local stack leaves out: it serves web/ itself (make up), and moto's CloudFormation creates
# no CloudFront (tests/integration/deploy deploys the site stack to moto as far as moto goes).
NOT_DEPLOYED_LOCALLY = frozenset({"web"})
ENTRIES_KEPT = 4  # per service: the last few variants (ports, identity settings) stay warm
_SKIPPED = {PACKAGE_DIR, "__pycache__", "node_modules", ".pytest_cache", ".mypy_cache"}
_ENV_REFERENCE = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)|process\.env\.([A-Za-z_][A-Za-z0-9_]*)")


def default_cache_dir(repo_root: Path) -> Path:
    return Path(os.environ.get("VIDSENSE_DEPLOY_CACHE") or repo_root / ".local" / "deploy-cache")


def service_order(tree: Path) -> list[str]:
    """The compose file's services, each after those it ``dependsOn`` (ingest owns the bus: first)."""
    services = _compose_services(tree)
    ordered: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in ordered:
            return
        if name in path:
            raise ValueError(f"serverless-compose.yml: dependsOn cycle through {name}")
        depends: str | list[str] = services[name].get("dependsOn") or []
        for dependency in [depends] if isinstance(depends, str) else depends:
            visit(str(dependency), (*path, name))
        ordered.append(name)

    for name in services:
        visit(name, ())
    return ordered


def _compose_services(tree: Path) -> dict[str, dict[str, Any]]:
    compose: dict[str, Any] = yaml.safe_load((tree / "serverless-compose.yml").read_text()) or {}
    services: dict[str, dict[str, Any]] = compose.get("services") or {}
    return services


def service_path(tree: Path, service: str) -> Path:
    return tree / str(_compose_services(tree)[service]["path"])


def _files(root: Path) -> Iterator[Path]:
    if root.is_file() or root.is_symlink():
        yield root
        return
    for current, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED)
        for name in sorted(files):
            if not name.endswith((".pyc", ".pyo")):
                yield Path(current) / name


def inputs_key(tree: Path, service: str, stage: str, env: Mapping[str, str]) -> str:
    """A hash of everything packaging ``service`` for ``stage`` reads: files (path and content) and the
    environment variables they reference (``${env:X}`` in YAML, ``process.env.X`` in the plugins)."""
    digest = hashlib.sha256(f"vidsense-deploy-cache {KEY_VERSION} {service} {stage}\n".encode())
    names: set[str] = set(ALWAYS_KEYED)
    roots = [tree / name for name in COMMON_INPUTS] + [service_path(tree, service)]
    for root in roots:
        if not root.exists():
            continue
        for path in _files(root):
            relative = path.relative_to(tree).as_posix()
            content = os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
            digest.update(f"file {relative} {len(content)}\n".encode())
            digest.update(content)
            if path.suffix in {".yml", ".yaml", ".js", ".json"}:
                text = content.decode(errors="replace")
                names.update(a or b for a, b in _ENV_REFERENCE.findall(text))
    for name in sorted(names - DEPLOY_TIME_ONLY):
        value = env.get(name)
        digest.update(f"env {name} {'-' if value is None else '=' + value}\n".encode())
    return digest.hexdigest()


@dataclass
class DeployCache:
    root: Path

    @contextlib.contextmanager
    def _locked(self, mode: int) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+") as handle:
            fcntl.flock(handle, mode)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def entry(self, service: str, key: str) -> Path:
        return self.root / service / key

    def checkout(self, service: str, key: str, dest: Path, tree: Path) -> bool:
        """Copy a cached package to ``dest`` (replaced) for a deploy from ``tree``; False when there is none."""
        with self._locked(fcntl.LOCK_SH):
            entry = self.entry(service, key)
            if not entry.is_dir():
                return False
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(entry, dest, symlinks=True)
            with contextlib.suppress(OSError):
                os.utime(entry)  # most recently used: pruned last
        # The Framework's state names the artifact and the pip interpreter by absolute path in the tree that
        # packaged it: the same files are at the same places in this tree.
        packaged_in = (dest / TREE_FILE).read_text()
        (dest / TREE_FILE).unlink()
        for state in dest.glob("*.json"):
            text = state.read_text()
            if packaged_in in text:
                state.write_text(text.replace(packaged_in, str(tree)))
        return True

    def store(self, service: str, key: str, package: Path, tree: Path) -> None:
        """Keep a fresh ``.serverless`` output: copied aside, then renamed into place in one step."""
        (self.root / service).mkdir(parents=True, exist_ok=True)
        staging = self.root / service / f".incoming-{uuid.uuid4().hex}"
        # Links (the requirements plugin's, into the deploy tree) would dangle once that tree is gone.
        shutil.copytree(package, staging, ignore=lambda d, names: [n for n in names if (Path(d) / n).is_symlink()])
        (staging / TREE_FILE).write_text(str(tree))
        try:
            os.rename(staging, self.entry(service, key))
        except OSError:  # another stack stored the same key first: theirs is as good
            shutil.rmtree(staging, ignore_errors=True)
        self.prune(service)

    def prune(self, service: str, keep: int = ENTRIES_KEPT) -> None:
        with self._locked(fcntl.LOCK_EX):
            folder = self.root / service
            entries = sorted(
                (p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")),
                key=lambda p: p.stat().st_mtime,
                reverse=True,
            )
            for stale in entries[keep:]:
                shutil.rmtree(stale, ignore_errors=True)
            # Leftovers of a stack killed while storing (an hour is far longer than any copy takes).
            for leftover in folder.glob(".incoming-*"):
                with contextlib.suppress(OSError):
                    if time.time() - leftover.stat().st_mtime > 3600:
                        shutil.rmtree(leftover, ignore_errors=True)


@dataclass(frozen=True)
class ServiceDeploy:
    service: str
    key: str
    reused: bool
    seconds: float


# Runs one command in a folder and returns its exit code (the stack's, which can interrupt it).
Runner = Callable[[list[str], Path], int]


class DeployFailed(Exception):
    def __init__(self, service: str, command: list[str], code: int) -> None:
        super().__init__(f"`{' '.join(command)}` for {service} failed with exit code {code}")
        self.service = service
        self.command = command
        self.code = code


def deploy_stage(
    tree: Path,
    stage: str,
    env: Mapping[str, str],
    run: Runner,
    cache: DeployCache,
    *,
    serverless: Path,
    note: Callable[[str], None] = lambda _line: None,
) -> list[ServiceDeploy]:
    """``serverless deploy --stage <stage>`` of every service in compose order (the web site stack aside), with
    ``--package`` of the cached package when one matches the service's inputs."""
    done: list[ServiceDeploy] = []
    for service in (s for s in service_order(tree) if s not in NOT_DEPLOYED_LOCALLY):
        started = time.monotonic()
        folder = service_path(tree, service)
        key = inputs_key(tree, service, stage, env)
        package = folder / PACKAGE_DIR
        command = [str(serverless), "deploy", "--stage", stage]
        reused = cache.checkout(service, key, package, tree)
        if reused:
            command += ["--package", PACKAGE_DIR]
            note(f"deploy-cache: {service} reuses package {key[:12]} ({cache.entry(service, key)})")
        else:
            shutil.rmtree(package, ignore_errors=True)
            note(f"deploy-cache: {service} packages anew (no package for inputs {key[:12]})")
        code = run(command, folder)
        if code != 0:
            raise DeployFailed(service, command, code)
        if not reused:
            cache.store(service, key, package, tree)
            note(f"deploy-cache: {service} package {key[:12]} stored")
        done.append(ServiceDeploy(service, key, reused, time.monotonic() - started))
    return done
