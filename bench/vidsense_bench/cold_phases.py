"""Where one function's cold init goes, phase by phase, beside the bare boto3 handler's (make bench-cold's sides).

Each run is a fresh process with the function's environment (as vidsense_bench.cold builds it) that imports, in
this order, boto3, pydantic, Powertools' logger and metrics, the X-Ray SDK with the Tracer (where tracing is on),
then the handler module, then calls its builders; it reports the process CPU time of each phase without the
cyclic garbage collector's (counted apart), and each client's creation. Medians over the runs.

    python -m vidsense_bench.cold_phases nlp.AnalyzeSentiment [--runs 9] [--stage prod]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from vidsense_bench.cold import FIND_BUILDERS, Function, _lambda_environment, functions_of
from vidsense_bench.cost.inputs import REPO, SERVICES, CostInputError, packaged_templates

_COUNT_GC = """
import gc, importlib, json, os, sys, time
collector = [0.0, 0.0]
def _count(phase, info):
    if phase == "start":
        collector[1] = time.process_time()
    else:
        collector[0] += time.process_time() - collector[1]
gc.callbacks.append(_count)
phases = {"interpreter start-up": time.process_time()}
def phase(name, run):
    before, start = collector[0], time.process_time()
    run()
    phases[name] = time.process_time() - start - (collector[0] - before)
def report(**extra):
    print(json.dumps({**phases, **extra, "garbage collector": collector[0], "total": time.process_time()}))
    sys.stdout.flush()
    os._exit(0)
"""
FUNCTION = (
    _COUNT_GC
    + """
phase("boto3 import", lambda: importlib.import_module("boto3"))
phase("pydantic import", lambda: importlib.import_module("pydantic"))
phase("Powertools logger and metrics", lambda: [importlib.import_module(m) for m in
      ("aws_lambda_powertools.logging", "aws_lambda_powertools.metrics")])

def tracer():
    from vidsense_shared import observability
    if observability.tracing_on():
        observability.tracer()

phase("X-Ray SDK, Tracer, botocore patch", tracer)
phase("handler module (its code, events, routers)", lambda: importlib.import_module(sys.argv[1]))
import functools
import vidsense_shared.aws as aws
created = []
cached, create = aws.client, aws.client.__wrapped__
def timed(*args):
    start = time.process_time()
    made = create(*args)
    created.append((args[0], time.process_time() - start))
    return made
# Every module that imported the cached client factory gets the timed one (nothing was created yet).
timed_cache = functools.cache(timed)
for module in list(sys.modules.values()):
    if getattr(module, "client", None) is cached:
        module.client = timed_cache
def build():
    for path in sys.argv[2:]:
        owner, name = path.split(":")
        getattr(importlib.import_module(owner), name)()
phase("builders (settings, clients)", build)
report(clients=created)
"""
)
BARE = (
    _COUNT_GC
    + """
phase("boto3 import", lambda: importlib.import_module("boto3"))
phase("one S3 client", lambda: sys.modules["boto3"].client("s3"))
report()
"""
)


def _runs(argv: Sequence[str], env: Mapping[str, str], runs: int) -> list[dict[str, Any]]:
    out = []
    for _ in range(runs):
        proc = subprocess.run(argv, env=dict(env), capture_output=True, text=True, check=False, cwd=REPO)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-1500:])
        out.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return out


def _medians(runs: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    return {key: statistics.median(float(r[key]) for r in runs) for key in runs[0] if key != "clients"}


def phases(function: Function, runs: int, python: str = sys.executable) -> tuple[dict[str, float], dict[str, float]]:
    """Median CPU seconds per phase of the function's init and of the bare handler's, runs alternating."""
    env = _lambda_environment(function)
    module, attribute = function.handler.rsplit(".", 1)
    found = subprocess.run(
        [python, "-c", FIND_BUILDERS, module, attribute], env=env, capture_output=True, text=True, check=True, cwd=REPO
    )
    function_runs: list[dict[str, Any]] = []
    bare_runs: list[dict[str, Any]] = []
    for _ in range(runs):
        function_runs += _runs([python, "-c", FUNCTION, module, *found.stdout.split()], env, 1)
        bare_runs += _runs([python, "-c", BARE], _lambda_environment(None), 1)
    medians = _medians(function_runs)
    by_client: dict[str, list[float]] = {}
    for run in function_runs:
        for name, seconds in run["clients"]:
            by_client.setdefault(f"client {name}", []).append(seconds)
    medians.update({name: statistics.median(values) for name, values in by_client.items()})
    return medians, _medians(bare_runs)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vidsense-bench-cold-phases", description=__doc__.split("\n\n")[0])
    parser.add_argument("function", help="service.Function, as make bench-cold names it (nlp.AnalyzeSentiment)")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--stage", default="prod")
    args = parser.parse_args(argv)
    try:
        templates, _ = packaged_templates(args.stage)
    except CostInputError as exc:
        print(f"bench-cold-phases: {exc}", file=sys.stderr)
        return 1
    matching = [f for s in SERVICES for f in functions_of(s, templates[s]) if f"{f.service}.{f.name}" == args.function]
    if not matching:
        print(f"bench-cold-phases: no function {args.function} in the {args.stage} templates", file=sys.stderr)
        return 1
    function, bare = phases(matching[0], args.runs)
    print(f"{args.function}, process CPU, medians of {args.runs} runs (ms):")
    for name, seconds in function.items():
        print(f"  {name:45s} {seconds * 1000:6.0f}")
    print("bare boto3 handler:")
    for name, seconds in bare.items():
        print(f"  {name:45s} {seconds * 1000:6.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
