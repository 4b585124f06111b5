"""cfn-lint and checkov on the packaged templates: nothing beyond the committed, reasoned exceptions."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no stubs (installed with moto)

from tests.integration.deploy.cfn import functions
from tests.integration.deploy.conftest import PACKAGED_STAGES, REPO, SERVICES, Packaged

CFN_LINT_WARNINGS = REPO / "deploy" / "cfn-lint-warnings.yml"
CHECKOV_SKIPS = REPO / "deploy" / "checkov-skips.yml"
CHECKOV = REPO / ".venv-tools" / "bin" / "checkov"
CFN_LINT = Path(sys.executable).parent / "cfn-lint"  # from requirements/dev.lock, beside pytest


def _entries(path: Path) -> list[dict[str, Any]]:
    entries = yaml.safe_load(path.read_text())
    assert isinstance(entries, list) and entries
    for entry in entries:
        assert str(entry.get("reason", "")).strip(), f"{path.name}: {entry} has no reason"
    return entries


def _template_files(packaged: dict[str, Packaged]) -> dict[Path, tuple[str, str]]:
    return {
        result.template_path(service): (stage, service) for stage, result in packaged.items() for service in SERVICES
    }


def test_cfn_lint_reports_no_error_and_only_listed_warnings(packaged: dict[str, Packaged]) -> None:
    files = _template_files(packaged)
    proc = subprocess.run(
        [str(CFN_LINT), "--format", "json", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    findings = json.loads(proc.stdout or "[]")
    assert proc.returncode in (0, 4, 6, 8, 12), proc.stderr  # bit flags: 2 error, 4 warning, 8 informational
    errors = [f for f in findings if f["Level"] == "Error"]
    assert not errors, json.dumps(errors, indent=1)[:4000]
    allowed = _entries(CFN_LINT_WARNINGS)
    used: set[int] = set()
    unexplained = []
    for finding in (f for f in findings if f["Level"] == "Warning"):
        path = finding["Location"]["Path"]
        logical_id = str(path[1]) if len(path) > 1 else ""
        matches = [
            i
            for i, entry in enumerate(allowed)
            if entry["rule"] == finding["Rule"]["Id"] and re.fullmatch(entry["resources"], logical_id)
        ]
        used.update(matches)
        if not matches:
            unexplained.append(f"{finding['Rule']['Id']} {logical_id}: {finding['Message']}")
    assert not unexplained, "\n".join(unexplained)
    stale = [entry for i, entry in enumerate(allowed) if i not in used]
    assert not stale, f"entries no template triggers any more: {stale}"


def _skip_applies(entry: dict[str, Any], check_id: str, stage: str, resource: str) -> bool:
    return (
        entry["id"] == check_id
        and stage in entry.get("stages", PACKAGED_STAGES)
        and re.fullmatch(entry.get("resources", ".*"), resource) is not None
    )


def test_checkov_fails_nothing_outside_the_committed_skip_list(packaged: dict[str, Packaged]) -> None:
    assert CHECKOV.exists(), "checkov missing: `make tools` creates .venv-tools (make test does)"
    files = _template_files(packaged)
    args = [str(CHECKOV), "--framework", "cloudformation", "--skip-download", "--output", "json", "--compact"]
    for path in files:
        args += ["--file", str(path)]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    reports = json.loads(proc.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    passed = sum(r["summary"]["passed"] for r in reports)
    assert passed > 100  # checkov really looked at the templates
    skips = _entries(CHECKOV_SKIPS)
    used: set[int] = set()
    unexplained = []
    for report in reports:
        for failed in report["results"]["failed_checks"]:
            stage, service = files[Path(failed["file_abs_path"])]
            resource = failed["resource"].split(".", 1)[1]  # "AWS::S3::Bucket.MediaBucket"
            matches = [i for i, e in enumerate(skips) if _skip_applies(e, failed["check_id"], stage, resource)]
            used.update(matches)
            if not matches:
                unexplained.append(f"{stage}/{service} {failed['check_id']} {resource}: {failed['check_name']}")
    assert not unexplained, "\n".join(sorted(set(unexplained)))
    stale = [entry for i, entry in enumerate(skips) if i not in used]
    assert not stale, f"skip entries no template triggers any more: {stale}"


@pytest.mark.parametrize("stage", PACKAGED_STAGES)
def test_each_artifact_holds_the_code_the_handlers_import(packaged: dict[str, Packaged], stage: str) -> None:
    # The tree that was packaged (the working tree may have changed since).
    root = packaged[stage].root
    for service in SERVICES:
        names = set(packaged[stage].zip_names(service))
        # The service's package and the shared package at the zip's root (handler import paths).
        sources = sorted((root / "services" / service / "src" / service).rglob("*.py"))
        assert sources
        for source in sources:
            rel = source.relative_to(root / "services" / service / "src").as_posix()
            assert rel in names, f"{service}: {rel} missing from the artifact"
        for source in (root / "shared" / "vidsense_shared").rglob("*.py"):
            assert source.relative_to(root / "shared").as_posix() in names
        # The dependencies come from the Powertools layer, boto3 from the runtime (test_package_size.py).
        assert not any(n.startswith(("src/", "services/", "tests/")) or "__pycache__" in n for n in names)
        for _, props in functions(packaged[stage].templates[service]).values():
            module = props["Handler"].rsplit(".", 1)[0]
            assert module.replace(".", "/") + ".py" in names, f"{props['Handler']} not importable"
