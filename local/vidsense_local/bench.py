"""``make bench-local``: how long the local stack takes, measured, and written to docs/performance.md.

1. ``make up`` from start to the ready line (a real ``make up`` subprocess, on free ports, own state folder).
2. Upload -> stored sentiment for the ~10-second sample with the stack warm: median of N runs, and its ratio to
   the engines' own compute time (PyAV transcode + faster-whisper + VADER) for the same clip, timed directly in
   this process in the same run.
3. Ten answers uploaded at once: all ten stored, total time.
Then SIGTERM (twice, as a terminal plus make would) and the time until the ports are free.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import math
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vidsense_local.auth.state import REPO_ROOT
from vidsense_local.serving import port_in_use
from vidsense_local.stack import READY_LINE

SAMPLE = REPO_ROOT / "tests" / "fixtures" / "media" / "benchmark-10s.webm"
REPORT = REPO_ROOT / "docs" / "performance.md"


@dataclass
class Results:
    startup_s: float = 0.0
    startup_phases: dict[str, float] = field(default_factory=dict)
    warm_runs_s: list[float] = field(default_factory=list)
    first_run_s: float = 0.0
    engine_runs_s: list[dict[str, float]] = field(default_factory=list)
    burst_total_s: float = 0.0
    burst_stored: int = 0
    burst_statuses: dict[str, int] = field(default_factory=dict)
    burst_latencies_s: list[float] = field(default_factory=list)
    shutdown_s: float = 0.0
    ports_free_after_stop: bool = False


def _machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{mem_kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        memory = "unknown RAM"
    system = f"{platform.system()} {platform.release()}"
    return f"{os.cpu_count()} CPUs ({cpu}), {memory}, {system}, Python {platform.python_version()}"


def start_make_up(env: dict[str, str], timeout: float = 900.0) -> tuple[subprocess.Popen[str], float]:
    started = time.monotonic()
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "up"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    ready = threading.Event()
    lines: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if READY_LINE in line:
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    while not ready.wait(0.2):
        if proc.poll() is not None or time.monotonic() - started > timeout:
            # The whole group: make, the stack and its workers.
            os.killpg(proc.pid, signal.SIGTERM)
            raise RuntimeError("make up did not get ready:\n" + "".join(lines[-40:]))
    return proc, time.monotonic() - started


def stop_make_up(proc: subprocess.Popen[str], ports: list[int]) -> tuple[float, bool]:
    started = time.monotonic()
    # A terminal's Ctrl-C and make both signal: deliver two, as the stack must cope with that.
    os.killpg(proc.pid, signal.SIGTERM)
    time.sleep(0.2)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 10
    while any(port_in_use(p) for p in ports) and time.monotonic() < deadline:
        time.sleep(0.1)
    return time.monotonic() - started, not any(port_in_use(p) for p in ports)


def one_answer(endpoints: Any, project: str, step: str, video: bytes) -> tuple[float, dict[str, Any]]:
    """Seconds from the start of the upload until the API shows the stored sentiment."""
    from vidsense_local.demo import ApiClient  # noqa: PLC0415 - after VIDSENSE_LOCAL_DIR is set

    client = ApiClient(endpoints, f"bench-{uuid.uuid4().hex[:12]}@example.com")
    presigned = client.presign(project, step)
    presigned.raise_for_status()
    started = time.monotonic()
    client.upload(presigned.json(), video).raise_for_status()
    answer = client.wait_final(project, step, timeout=300)
    return time.monotonic() - started, answer


def engine_time(sample: Path) -> dict[str, float]:
    from vidsense_local.engines.sentiment import SentimentEngine  # noqa: PLC0415 - heavy
    from vidsense_local.engines.speech import shared_engine  # noqa: PLC0415
    from vidsense_local.engines.transcode import transcode_to_mp3  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp:
        mp3 = Path(tmp) / "answer.mp3"
        started = time.perf_counter()
        transcode_to_mp3(sample, mp3)
        transcode_s = time.perf_counter() - started
        started = time.perf_counter()
        speech = shared_engine().transcribe_file(mp3)
        stt_s = time.perf_counter() - started
        started = time.perf_counter()
        SentimentEngine().analyse(speech.transcript)
        sentiment_s = time.perf_counter() - started
    return {
        "transcode": transcode_s,
        "stt": stt_s,
        "sentiment": sentiment_s,
        "total": transcode_s + stt_s + sentiment_s,
    }


def run(runs: int, burst: int) -> Results:
    results = Results()
    state = tempfile.mkdtemp(prefix="vidsense-bench-")
    # Own state folder and ports: a `make up` the user already runs is left alone.
    os.environ["VIDSENSE_LOCAL_DIR"] = state
    # Port 0: the stack binds free ports itself and reports them in stack.json (none chosen here, bound later).
    env = {**os.environ, "VIDSENSE_API_PORT": "0", "VIDSENSE_AWS_PORT": "0", "VIDSENSE_WEB_PORT": "0"}
    from vidsense_local.demo import endpoints_from_env  # noqa: PLC0415

    print("1/4 make up on free ports...", flush=True)
    proc, results.startup_s = start_make_up(env)
    ports: list[int] = []
    try:
        stack_state = json.loads((Path(state) / "stack.json").read_text())
        ports = [int(stack_state["api_port"]), int(stack_state["aws_port"])]
        os.environ.update({"VIDSENSE_API_PORT": str(ports[0]), "VIDSENSE_AWS_PORT": str(ports[1])})
        print(f"    on ports {ports[0]}/{ports[1]}", flush=True)
        results.startup_phases = stack_state.get("timings", {})
        endpoints = endpoints_from_env()
        video = SAMPLE.read_bytes()
        run_id = uuid.uuid4().hex[:6]
        print(f"    ready in {results.startup_s:.1f} s; 2/4 first answer (cold functions, model load)...", flush=True)
        results.first_run_s, answer = one_answer(endpoints, f"bench-{run_id}", "0", video)
        if answer["status"] != "ANALYZED":
            raise RuntimeError(f"the warm-up answer ended {answer}")
        for index in range(runs):
            seconds, answer = one_answer(endpoints, f"bench-{run_id}", str(index + 1), video)
            if answer["status"] != "ANALYZED":
                raise RuntimeError(f"run {index} ended {answer}")
            results.warm_runs_s.append(seconds)
            print(f"    warm run {index + 1}/{runs}: {seconds:.2f} s", flush=True)

        print(f"3/4 {burst} answers at once...", flush=True)
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(burst) as pool:
            futures = [pool.submit(one_answer, endpoints, f"burst-{run_id}", str(i), video) for i in range(burst)]
            outcomes: list[tuple[float, dict[str, Any]]] = []
            for future in futures:
                # A refused request (e.g. the API function timing out) is counted, not allowed to end the run.
                try:
                    outcomes.append(future.result())
                except Exception as exc:
                    outcomes.append((float("nan"), {"status": f"error: {type(exc).__name__}"}))
        results.burst_total_s = time.monotonic() - started
        results.burst_latencies_s = [seconds for seconds, _ in outcomes if not math.isnan(seconds)] or [float("nan")]
        for _, answer in outcomes:
            results.burst_statuses[answer["status"]] = results.burst_statuses.get(answer["status"], 0) + 1
        results.burst_stored = results.burst_statuses.get("ANALYZED", 0)
        print(f"    {results.burst_stored}/{burst} stored in {results.burst_total_s:.1f} s", flush=True)
    finally:
        print("    stopping the stack (SIGTERM twice)...", flush=True)
        results.shutdown_s, results.ports_free_after_stop = stop_make_up(proc, ports)

    print("4/4 the engines alone on the same clip (model warm)...", flush=True)
    engine_time(SAMPLE)  # load the model and libraries first, as the warm stack has
    results.engine_runs_s = [engine_time(SAMPLE) for _ in range(runs)]
    return results


def render(results: Results, runs: int, burst: int) -> str:
    warm = statistics.median(results.warm_runs_s)
    engines = {k: statistics.median(r[k] for r in results.engine_runs_s) for k in results.engine_runs_s[0]}
    ratio = warm / engines["total"]
    phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in results.startup_phases.items())
    statuses = ", ".join(f"{k} {v}" for k, v in results.burst_statuses.items())
    latencies = results.burst_latencies_s
    rows = [
        (f"`make up` to `{READY_LINE}` (venv built, npm packages installed)", f"{results.startup_s:.1f} s"),
        ("of which (the stack's own timings)", phases),
        ("first answer after start (cold functions, speech model load)", f"{results.first_run_s:.2f} s"),
        (
            f"upload -> stored sentiment, 10-second sample, stack warm, median of {runs}",
            f"**{warm:.2f} s** (min {min(results.warm_runs_s):.2f}, max {max(results.warm_runs_s):.2f})",
        ),
        (
            f"engines alone on the same clip, median of {runs}: transcode + speech-to-text + sentiment",
            f"{engines['total']:.2f} s ({engines['transcode']:.2f} + {engines['stt']:.2f} + "
            f"{engines['sentiment']:.3f})",
        ),
        ("ratio pipeline / engines (goal: at most 2)", f"**{ratio:.2f}**"),
        (f"{burst} answers uploaded at once: stored", f"{results.burst_stored}/{burst} ({statuses})"),
        (
            f"{burst} answers at once: total time (first upload to last stored sentiment)",
            f"{results.burst_total_s:.1f} s (per answer: median {statistics.median(latencies):.1f} s, "
            f"max {max(latencies):.1f} s)",
        ),
        (
            "SIGTERM twice to `make up` -> process gone and ports free",
            f"{results.shutdown_s:.1f} s (ports free: {results.ports_free_after_stop})",
        ),
    ]
    table = "\n".join(f"| {what} | {value} |" for what, value in rows)
    when = datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""# Local stack performance

Measured by `make bench-local` (`python -m vidsense_local.bench`, {when}) on {_machine()}.
Rerun it to refresh this page; numbers move with the machine and its load.

| what | result |
|---|---|
{table}

How it is measured:
- Startup: a real `make up` subprocess on free ports with its own state folder; the clock runs from the
  `make` call to the ready line on its output (moto, stand-ins, function runtime, SSM seed,
  `serverless deploy --stage local` of the three services, route discovery, HTTP API).
- Upload -> stored sentiment: from the start of the presigned POST to the first `GET /answers/...` (polled every
  0.1 s) that shows `ANALYZED`; each run is a new person (new answer). The warm-up answer is not counted.
- Engines alone: `vidsense_local.engines` called directly in the benchmark process on the same file, after a
  warm-up call, while the stack is stopped (so both sides get the machine to themselves).
- The sample is `tests/fixtures/media/benchmark-10s.webm` (11.2 s of synthetic speech).
"""


_MARKED_SECTION = re.compile(r"<!-- (?P<name>[\w-]+):start -->.*?<!-- (?P=name):end -->", re.DOTALL)


def keep_marked_sections(report: str, previous: Path) -> str:
    """Sections between ``<!-- name:start -->`` and ``<!-- name:end -->`` belong to other measurements (the
    burst of 100 in make test-heavy, make test's own timing): a new benchmark report keeps them as they were."""
    old = previous.read_text() if previous.exists() else ""
    kept = [match.group(0) for match in _MARKED_SECTION.finditer(old)]
    return report if not kept else report.rstrip("\n") + "\n\n" + "\n\n".join(kept) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(prog="vidsense-bench", description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="warm runs (and engine runs) for the medians")
    parser.add_argument("--burst", type=int, default=10, help="answers uploaded at once")
    parser.add_argument("--output", type=Path, default=REPORT)
    args = parser.parse_args()
    results = run(args.runs, args.burst)
    report = render(results, args.runs, args.burst)
    args.output.write_text(keep_marked_sections(report, args.output))
    print(report)
    ok = results.burst_stored == args.burst and results.ports_free_after_stop
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
