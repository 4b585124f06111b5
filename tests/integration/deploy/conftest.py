"""Fixtures of the deployment tests.

The Framework writes into each service's ``.serverless`` folder, which ``make package`` and ``make deploy-local``
(possibly running at the same time) also use. So the tests copy the deployable tree into a temporary workspace
(node_modules is symlinked, not copied) and package and deploy from there.
"""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from vidsense_bench.cost.inputs import offline_sls_env
from vidsense_local.deployer import stage_deploy_tree

REPO = Path(__file__).resolve().parents[3]
SERVICES = ("ingest", "transcode", "nlp")
PACKAGED_STAGES = ("dev", "prod")
SLS_TIMEOUT_SECONDS = 900
TEMPLATE = "cloudformation-template-update-stack.json"


def run_sls(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    binary = cwd / "node_modules" / ".bin" / "serverless"
    if not binary.exists():
        binary = REPO / "node_modules" / ".bin" / "serverless"
    assert binary.exists(), "node_modules missing: run `make node_modules` (make test does)"
    # Compose runs `serverless` for each service from PATH (as under npx).
    env = {**env, "PATH": f"{binary.parent}{os.pathsep}{env.get('PATH', '')}"}
    proc = subprocess.run(
        [str(binary), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=SLS_TIMEOUT_SECONDS,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"serverless {' '.join(args)} failed ({proc.returncode}):\n{output[-6000:]}"
    return output


@dataclass(frozen=True)
class Packaged:
    stage: str
    root: Path
    templates: dict[str, dict[str, Any]]

    def artifact(self, service: str) -> Path:
        return self.root / "services" / service / ".serverless" / f"vidsense-{service}.zip"

    def template_path(self, service: str) -> Path:
        return self.root / "services" / service / ".serverless" / TEMPLATE

    def provider(self, service: str) -> dict[str, Any]:
        """The service's resolved ``provider`` settings, as the Framework packaged them."""
        state = json.loads((self.root / "services" / service / ".serverless" / "serverless-state.json").read_text())
        provider: dict[str, Any] = state["service"]["provider"]
        return provider

    def zip_names(self, service: str) -> list[str]:
        with zipfile.ZipFile(self.artifact(service)) as archive:
            return archive.namelist()


def _package(root: Path, stage: str) -> Packaged:
    stage_deploy_tree(root)
    # Through compose, as `make package` does: all three services of the stage.
    run_sls(["package", "--stage", stage], cwd=root, env=offline_sls_env())
    templates = {
        service: json.loads((root / "services" / service / ".serverless" / TEMPLATE).read_text())
        for service in SERVICES
    }
    return Packaged(stage=stage, root=root, templates=templates)


@pytest.fixture(scope="session")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Packaged]]:
    """dev and prod, each packaged through compose in its own workspace (the two run side by side)."""
    base = tmp_path_factory.mktemp("deploy-package")
    with ThreadPoolExecutor(max_workers=len(PACKAGED_STAGES)) as pool:
        futures = {stage: pool.submit(_package, base / stage, stage) for stage in PACKAGED_STAGES}
        yield {stage: future.result() for stage, future in futures.items()}


@pytest.fixture(scope="session")
def templates(packaged: dict[str, Packaged]) -> dict[str, dict[str, dict[str, Any]]]:
    return {stage: result.templates for stage, result in packaged.items()}
