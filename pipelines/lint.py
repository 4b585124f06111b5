"""cfn-lint every pipeline template: fails on any error and on any warning not listed here with its reason.

python -m pipelines.lint        # what `make pipelines` runs (after `python -m pipelines.generate --check`)
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from pipelines.definition import SERVICES

ROOT = Path(__file__).resolve().parent.parent

# (rule, location path) -> why the finding is accepted. Anything else fails.
ALLOWED_FINDINGS: dict[tuple[str, str], str] = {
    ("W1030", "Parameters/ConnectionArn/Default"): (
        "ConnectionArn defaults to '' so CodeCommit-mode stacks need not pass it; cfn-lint resolves the Ref to that "
        "default inside the UseConnections branch of the pipeline role policy, which CodeCommit mode never uses. "
        "The template Rule ConnectionSettings rejects an empty ConnectionArn in CodeConnections mode."
    ),
}


def templates() -> list[Path]:
    return [ROOT / "pipelines" / "templates" / f"pipeline-{service}.yml" for service in SERVICES]


def cfn_lint_command() -> str:
    beside_python = Path(sys.executable).with_name("cfn-lint")
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("cfn-lint")
    if found is None:
        raise FileNotFoundError("cfn-lint is not installed (make venv)")
    return found


def run_cfn_lint(paths: list[Path]) -> list[dict[str, Any]]:
    """cfn-lint's findings (its JSON output) for ``paths``."""
    done = subprocess.run(  # noqa: S603 - fixed executable, arguments are our own template paths
        [cfn_lint_command(), "--format", "json", *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if not done.stdout.strip():
        raise RuntimeError(f"cfn-lint produced no report (exit {done.returncode}): {done.stderr}")
    findings: list[dict[str, Any]] = json.loads(done.stdout)
    return findings


def location(finding: dict[str, Any]) -> str:
    return "/".join(str(part) for part in finding["Location"]["Path"])


def describe(finding: dict[str, Any]) -> str:
    return (
        f"{finding['Filename']}:{finding['Location']['Start']['LineNumber']}: {finding['Level']} "
        f"{finding['Rule']['Id']} at {location(finding)}: {finding['Message']}"
    )


def unexpected(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Errors, and warnings or notes that ``ALLOWED_FINDINGS`` does not list."""
    return [f for f in findings if f["Level"] == "Error" or (f["Rule"]["Id"], location(f)) not in ALLOWED_FINDINGS]


def main() -> int:
    findings = run_cfn_lint(templates())
    bad = unexpected(findings)
    for finding in findings:
        mark = "FAIL" if finding in bad else "allowed"
        sys.stdout.write(f"[{mark}] {describe(finding)}\n")
    sys.stdout.write(f"cfn-lint: {len(templates())} templates, {len(findings)} findings, {len(bad)} not allowed\n")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
