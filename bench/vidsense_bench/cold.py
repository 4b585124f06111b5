"""Cold init of every Lambda function against a bare boto3 handler: whole processes, paired runs.

Each run is a fresh interpreter (the .venv's Python, its site-packages, the deploy tree's sources, as the local
runtime runs them) that does what Lambda's init does for the function: import the handler module, then build its
settings and clients (the module's cached zero-argument wiring functions). The environment is the function's own,
from the packaged CloudFormation template of the stage, with Lambda's variables set; clients are created, never
called (no network). The bare handler imports boto3 and creates one client. Bare and function runs alternate so
both see the same machine load; the report gives medians and their ratio.

    python -m vidsense_bench.cold [--stage prod] [--pairs 15] [--output docs/performance.md]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vidsense_bench.cost.inputs import REPO, SERVICES, CostInputError, packaged_templates
from vidsense_local.discovery import DeployedStack

REPORT = REPO / "docs" / "performance.md"
START, END = "<!-- cold-init:start -->", "<!-- cold-init:end -->"
GOAL = 1.5
ACCOUNT = "123456789012"
REGION = "us-east-1"

# The handler module's builders: the cached zero-argument wiring functions (settings, clients) it calls, its own
# and those of modules it calls through (`composition.answer_api()`), also from the modules beside it that it
# imports (the HTTP API's routers, ingest.handlers.http_api.*). Found by reading their source with inspect.
_DISCOVER = """
import functools, importlib, inspect, sys
module = importlib.import_module(sys.argv[1])
getattr(module, sys.argv[2])
package = module.__name__.split(".")[0]
beside = module.__name__.rsplit(".", 1)[0] + "."

def builders(namespace, prefix, source):
    for name, value in list(vars(namespace).items()):
        if isinstance(value, functools._lru_cache_wrapper) and f"{prefix}{name}(" in source:
            if not inspect.signature(value).parameters:
                yield value

callers = [module] + [v for v in vars(module).values() if inspect.ismodule(v) and v.__name__.startswith(beside)]
found = {}
for caller in callers:
    source = inspect.getsource(caller)
    for build in builders(caller, "", source):
        found[id(build)] = build
    for alias, value in list(vars(caller).items()):
        if inspect.ismodule(value) and value.__name__.startswith(package + "."):
            for build in builders(value, alias + ".", source):
                found[id(build)] = build
"""
# A whole init in one process, builders found on the way (the package test starts every handler this way).
CHILD = _DISCOVER + "for build in found.values():\n    build()\n"
# The unmeasured pre-pass: the builders as module:name lines, so the measured process needs no inspect.
FIND_BUILDERS = _DISCOVER + "print(*(f'{b.__module__}:{b.__qualname__}' for b in found.values()), sep='\\n')\n"
# The measured process: import the handler module, call its builders (module:name arguments), as Lambda's init
# and first invocation do. os._exit: the interpreter's teardown (about 0.1 s: module clearing and a last garbage
# collection) is no part of a cold start, Lambda never runs it there, and it would count on both sides.
INIT = """
import importlib, os, sys
module = importlib.import_module(sys.argv[1])
getattr(module, sys.argv[2])
for path in sys.argv[3:]:
    owner, name = path.split(":")
    getattr(importlib.import_module(owner), name)()
os._exit(0)
"""
BARE = "import os\nimport boto3\nboto3.client('s3')\nos._exit(0)\n"


@dataclass(frozen=True)
class Function:
    service: str
    name: str
    handler: str
    environment: dict[str, str]


@dataclass(frozen=True)
class Measure:
    function: Function
    bare: list[float]
    cold: list[float]
    before: list[float] = field(default_factory=list)  # the same function at --before REV, same alternation

    @property
    def ratio(self) -> float:
        return statistics.median(self.cold) / statistics.median(self.bare)

    @property
    def before_ratio(self) -> float:
        return statistics.median(self.before) / statistics.median(self.bare)


def functions_of(service: str, template: Mapping[str, Any]) -> list[Function]:
    """The template's functions, their environment resolved against placeholder resources (``bench-<logical id>``,
    queues by URL): the settings validate shapes (names, ARNs), not existence."""
    resources = template.get("Resources", {})
    placeholders = {
        logical_id: (
            f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/bench-{logical_id.lower()}"
            if resource.get("Type") == "AWS::SQS::Queue"
            else f"bench-{logical_id.lower()}"
        )
        for logical_id, resource in resources.items()
    }
    stack = DeployedStack.of(service, dict(template), placeholders, region=REGION, account_id=ACCOUNT)
    found = []
    for name, properties in stack.resources("AWS::Lambda::Function"):
        variables = stack.resolver.resolve(properties.get("Environment", {}).get("Variables", {}))
        environment = {key: str(value) for key, value in variables.items()}
        found.append(Function(service, name.removesuffix("LambdaFunction"), properties["Handler"], environment))
    return sorted(found, key=lambda f: (f.service, f.name))


def _lambda_environment(function: Function | None, tree: Path = REPO) -> dict[str, str]:
    """What Lambda sets for every function, plus fake credentials: clients need some, none is ever used."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "AWS_LAMBDA_FUNCTION_NAME": f"vidsense-bench-{function.name if function else 'bare'}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        # Powertools' Tracer is on only where this is set (Lambda): the functions deploy with tracing Active.
        "LAMBDA_TASK_ROOT": "/var/task",
        "PYTHONPATH": os.pathsep.join([str(tree / "services" / s / "src") for s in SERVICES] + [str(tree / "shared")]),
    }
    if function is not None:
        env.update(function.environment)
        env["_HANDLER"] = function.handler
    return env


def _run(argv: Sequence[str], env: Mapping[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=dict(env), capture_output=True, text=True, check=False, cwd=REPO)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[-2:])} failed:\n{proc.stderr[-1500:]}")
    return elapsed


def builders(function: Function, python: str, env: Mapping[str, str]) -> list[str]:
    """The function's builders as module:name (FIND_BUILDERS in a process of its own, not measured)."""
    module, attribute = function.handler.rsplit(".", 1)
    argv = [python, "-c", FIND_BUILDERS, module, attribute]
    proc = subprocess.run(argv, env=dict(env), capture_output=True, text=True, check=False, cwd=REPO)
    if proc.returncode != 0:
        raise RuntimeError(f"finding the builders of {function.handler} failed:\n{proc.stderr[-1500:]}")
    return proc.stdout.split()


def measure(function: Function, pairs: int, python: str, tree: Path = REPO, before: Path | None = None) -> Measure:
    module, attribute = function.handler.rsplit(".", 1)
    function_env, bare_env = _lambda_environment(function, tree), _lambda_environment(None, tree)
    function_argv = [python, "-c", INIT, module, attribute, *builders(function, python, function_env)]
    bare_argv = [python, "-c", BARE]
    before_env = _lambda_environment(function, before) if before else None
    before_argv = [python, "-c", INIT, module, attribute, *builders(function, python, before_env)] if before_env else []
    # One unmeasured round warms the page cache (and writes bytecode caches): every measured run reads the same way.
    _run(function_argv, function_env)
    _run(bare_argv, bare_env)
    if before_env:
        _run(before_argv, before_env)
    result = Measure(function, [], [])
    for _ in range(pairs):
        result.bare.append(_run(bare_argv, bare_env))
        result.cold.append(_run(function_argv, function_env))
        if before_env:
            result.before.append(_run(before_argv, before_env))
    return result


def render(
    results: Sequence[Measure], command: str, *, load_before: str, load_after: str, how: str, before: str = ""
) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    compared = bool(before) and all(m.before for m in results)
    lines = [
        START,
        "## Lambda cold init",
        "",
        f"Measured by `make bench-cold` (`{command}`), {when}, {os.cpu_count()} CPUs, load average {load_before} "
        f"before and {load_after} after (1, 5, 15 min). {how}.",
        "",
        "| function | handler | bare boto3, median s | function, median s | ratio (goal <= "
        f"{GOAL}) |" + (f" at {before}, median s | ratio at {before} |" if compared else ""),
        "|---|---|---|---|---|" + ("---|---|" if compared else ""),
    ]
    for m in results:
        flag = "" if m.ratio <= GOAL else " (over)"
        then = f" {statistics.median(m.before):.3f} | {m.before_ratio:.2f}x |" if compared else ""
        lines.append(
            f"| {m.function.service}.{m.function.name} | `{m.function.handler}` | "
            f"{statistics.median(m.bare):.3f} | {statistics.median(m.cold):.3f} | **{m.ratio:.2f}x**{flag} |{then}"
        )
    over = sum(1 for m in results if m.ratio > GOAL)
    lines += [
        "",
        f"{len(results) - over} of {len(results)} functions within {GOAL}x.",
        "",
        "How it is measured: each run is a whole new `python -c` process (the .venv's interpreter and "
        "site-packages, the deploy tree's sources) that imports the handler module and calls the cached "
        "zero-argument builders it calls (the composition root's use cases: settings loaded, boto3 clients "
        "created, never called; found beforehand by a process that is not measured), with the function's environment "
        "from the packaged template and Lambda's own variables (tracing as deployed: the Tracer is on). The bare "
        "handler imports boto3 and creates one S3 client. Bare and function runs alternate (with `--before REV`, "
        "the function as of that commit is a third run of each round), "
        f"{len(results[0].bare) if results else 0} rounds per function after one unmeasured round; medians "
        "of each side. Interpreter start-up is in "
        "both sides; each ends with `os._exit` once its init is done, so the interpreter's teardown (about 0.1 s "
        "of module clearing and a last garbage collection, which Lambda never runs in a cold start) is in neither. "
        "Not measured: Lambda's own sandbox start and the import of sources without bytecode caches "
        "(the package ships none).",
        END,
    ]
    return "\n".join(lines) + "\n"


def write_section(section: str, path: Path) -> None:
    """Replace the marked section (or append it), leaving every other section of the page as it is."""
    text = path.read_text() if path.exists() else ""
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END) + r"\n?", re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section, text, count=1)
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + section
    path.write_text(text)


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vidsense-bench-cold", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", default="prod", help="stage whose packaged templates give the environments")
    parser.add_argument("--pairs", type=int, default=15, help="bare/function pairs per function")
    parser.add_argument("--only", default="", help="measure only functions whose name contains this")
    parser.add_argument("--output", type=Path, default=REPORT)
    parser.add_argument(
        "--before", default="", help="also measure the functions' code at this git revision, in the same rounds"
    )
    args = parser.parse_args(argv)
    try:
        templates, how = packaged_templates(args.stage)
    except CostInputError as exc:
        print(f"bench-cold: {exc}", file=sys.stderr)
        return 1
    functions = [f for s in SERVICES for f in functions_of(s, templates[s]) if args.only.lower() in f.name.lower()]
    command = " ".join(["python -m vidsense_bench.cold", *(argv if argv is not None else sys.argv[1:])])
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as scratch:
        before = _checkout(args.before, Path(scratch)) if args.before else None
        load_before = _load()
        results = []
        for function in functions:
            try:
                result = measure(function, args.pairs, sys.executable, before=before)
            except RuntimeError as exc:
                print(f"bench-cold: {function.service}.{function.name}: {exc}", file=sys.stderr)
                return 1
            results.append(result)
            then = f", at {args.before} {result.before_ratio:.2f}x" if result.before else ""
            print(
                f"{function.service}.{function.name}: bare {statistics.median(result.bare):.3f} s, "
                f"function {statistics.median(result.cold):.3f} s, {result.ratio:.2f}x{then}",
                flush=True,
            )
    section = render(
        results, command, load_before=load_before, load_after=_load(), how=how[:1].upper() + how[1:], before=args.before
    )
    if not args.only:
        write_section(section, args.output)
    print(section)
    return 0 if all(m.ratio <= GOAL for m in results) else 1


def _checkout(revision: str, dest: Path) -> Path:
    """The functions' code (services/, shared/) as of ``revision``, for a before/after comparison."""
    archive = subprocess.run(
        ["git", "archive", revision, "services", "shared"], cwd=REPO, capture_output=True, check=False
    )
    if archive.returncode != 0:
        raise SystemExit(f"bench-cold: --before {revision}: {archive.stderr.decode().strip()}")
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest


if __name__ == "__main__":
    sys.exit(main())
