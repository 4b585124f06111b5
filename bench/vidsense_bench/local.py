"""``make bench-local``: how long the local stack takes, measured, and written to docs/performance.md.

1. ``make up`` from start to the ready line (a real ``make up`` subprocess, on free ports, own state folder).
2. Upload -> stored sentiment for the ~10-second sample with the stack warm: median of N runs, where the time
   of one answer goes (functions.log timestamps of the answer's function invocations) and the jobs' phases
   (jobs.log). Right before each warm answer, one pair of engine runs (see 4), so the pipeline is compared with
   engines that met the same load.
3. Ten answers uploaded at once: all ten stored, total time.
Then SIGTERM (twice, as a terminal plus make would) and the time until the ports are free.
4. The engines alone on the same clip (PyAV transcode + faster-whisper + VADER), with the settings before tuning
   and the tuned ones the stack uses, paired and interleaved (the pairs not run beside the warm answers after the
   stack stopped), and each setting's WER on the speech samples.
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
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vidsense_local import make_up
from vidsense_local.clients import aws_environment
from vidsense_local.engines.wer import corpus_word_error_rate
from vidsense_local.paths import REPO_ROOT
from vidsense_local.serving import port_in_use
from vidsense_local.stack import READY_LINE

if TYPE_CHECKING:
    from vidsense_local.engines.sentiment import SentimentEngine
    from vidsense_local.engines.speech import SpeechToText

MEDIA = REPO_ROOT / "tests" / "fixtures" / "media"
SAMPLE = MEDIA / "benchmark-10s.webm"
REPORT = REPO_ROOT / "docs" / "performance.md"
# The MediaConvert job the pipeline submits: its MP3 settings are what the engines alone transcode to.
JOB_TEMPLATE = REPO_ROOT / "services" / "transcode" / "src" / "transcode" / "adapters" / "mediaconvert_job.json"
#: The bench's own status polling. The time an answer became ANALYZED comes from the stack's functions.log (the
#: projector's line), so the poll only has to notice the end; polled faster, its GETs (an API function invocation
#: and a DynamoDB read each) take the CPU of a 2-core machine from the engines they wait for.
POLL_SECONDS = 0.5


@dataclass
class Results:
    startup_s: float = 0.0
    startup_phases: dict[str, float] = field(default_factory=dict)
    warm_runs_s: list[float] = field(default_factory=list)  # upload start -> ANALYZED stored
    warm_seen_s: list[float] = field(default_factory=list)  # upload start -> the bench's poll saw it
    first_run_s: float = 0.0
    breakdown: list[Stage] = field(default_factory=list)  # one warm answer's stages
    job_phases: dict[str, dict[str, float]] = field(default_factory=dict)  # per job service and phase, medians
    engine_runs: dict[str, list[EngineRun]] = field(default_factory=dict)  # per speech settings name
    engine_wer: dict[str, float] = field(default_factory=dict)
    engine_pairs_beside: int = 0  # the first engine pairs, each run right before a warm answer
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
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
    lines: list[str] = []
    try:
        proc = make_up.start(env, lines.append, timeout=timeout)
    except make_up.NotReadyError as exc:
        raise RuntimeError(f"make up did not get ready ({exc}):\n" + "".join(lines[-40:])) from None
    return proc, time.monotonic() - started


def stop_make_up(proc: subprocess.Popen[str], ports: list[int]) -> tuple[float, bool]:
    started = time.monotonic()
    # A terminal's Ctrl-C and make both signal: deliver two, as the stack must cope with that.
    os.killpg(proc.pid, signal.SIGTERM)
    time.sleep(0.2)
    if proc.poll() is None:
        make_up.stop(proc)
    deadline = time.monotonic() + 10
    while any(port_in_use(p) for p in ports) and time.monotonic() < deadline:
        time.sleep(0.1)
    return time.monotonic() - started, not any(port_in_use(p) for p in ports)


@dataclass(frozen=True)
class Timed:
    """One answer through the stack: wall-clock times (epoch seconds) of the client's side of it."""

    upload_started: float
    upload_done: float
    seen_final: float
    answer: dict[str, Any]

    @property
    def seconds(self) -> float:
        return self.seen_final - self.upload_started


def one_answer(endpoints: Any, project: str, step: str, video: bytes) -> Timed:
    """From the start of the upload until the API shows the answer final (polled every POLL_SECONDS)."""
    from vidsense_local.demo import ApiClient  # noqa: PLC0415 - after VIDSENSE_LOCAL_DIR is set

    client = ApiClient(endpoints, f"bench-{uuid.uuid4().hex[:12]}@example.com")
    presigned = client.presign(project, step)
    presigned.raise_for_status()
    started = time.time()
    client.upload(presigned.json(), video).raise_for_status()
    uploaded = time.time()
    answer = client.wait_final(project, step, timeout=300, interval=POLL_SECONDS, max_interval=POLL_SECONDS)
    return Timed(started, uploaded, time.time(), answer)


# -- where one answer's time goes ----------------------------------------------------------------------------
_REPORT_LINE = re.compile(r"^\S+ REPORT RequestId: (?P<request>\S+)\s+Duration: (?P<ms>[\d.]+) ms")


@dataclass(frozen=True)
class Invocation:
    function: str  # e.g. startTranscode
    logged: float  # epoch seconds of its outcome log line (each function logs its outcome after its work)
    duration: float | None  # seconds, from its REPORT line
    fields: dict[str, Any]


def answer_invocations(log_lines: list[str], project: str, step: str) -> list[Invocation]:
    """The function invocations of one answer in a stack's functions.log: the JSON log lines that name its
    project and step (its object key ``project/step/...`` as a JSON string, or Transcribe job name
    ``...project.step...``; the delimiters keep ``burst-<project>`` out)."""
    durations = {m["request"]: float(m["ms"]) / 1000 for m in map(_REPORT_LINE.match, log_lines) if m}
    marks = (f'"{project}/{step}/', f".{project}.{step}.")
    found: dict[str, Invocation] = {}
    for line in log_lines:
        function, _, text = line.partition(" ")
        if not text.startswith('{"level"') or not any(mark in text for mark in marks):
            continue
        record = json.loads(text)
        logged = datetime.strptime(record["timestamp"], "%Y-%m-%d %H:%M:%S,%f%z").timestamp()
        request = record["function_request_id"]
        found[request] = Invocation(function.rsplit("-", 1)[-1], logged, durations.get(request), record)
    return sorted(found.values(), key=lambda i: i.logged)


@dataclass(frozen=True)
class Stage:
    what: str
    seconds: float
    function_seconds: float | None = None  # the REPORT duration of the function that ends the stage


#: The chain from upload to stored sentiment: (function, what selects its invocation, the stage it ends).
_CHAIN: tuple[tuple[str, tuple[str, str] | None, str], ...] = (
    ("uploadLanded", None, "S3 event notification of the upload -> uploadLanded"),
    ("startTranscode", None, "VideoUploaded via EventBridge -> startTranscode (CreateJob)"),
    (
        "relayTranscoderEvents",
        ("status", "COMPLETE"),
        "MediaConvert job (S3 download, transcode, upload) + its COMPLETE event -> relayTranscoderEvents",
    ),
    ("startTranscription", None, "TranscoderCompleted via EventBridge -> startTranscription"),
    ("transcriptionCompleted", None, "Transcribe job + its state change event -> transcriptionCompleted"),
    ("analyzeSentiment", None, "TranscriptReady via EventBridge -> analyzeSentiment (S3, Comprehend, DynamoDB)"),
    ("projectAnswers", ("detail_type", "SentimentDetected"), "SentimentDetected via EventBridge -> projectAnswers"),
)


def chain_invocation(invocations: list[Invocation], function: str, selector: tuple[str, str] | None) -> Invocation:
    for invocation in invocations:
        if invocation.function == function and (selector is None or invocation.fields.get(selector[0]) == selector[1]):
            return invocation
    raise RuntimeError(f"no {function} invocation of this answer in functions.log")


def analyzed_at(invocations: list[Invocation]) -> float:
    """When the answer became ANALYZED: the projector's line for its SentimentDetected (the read model's write)."""
    return chain_invocation(invocations, "projectAnswers", ("detail_type", "SentimentDetected")).logged


def breakdown(timed: Timed, invocations: list[Invocation], transcribe_job: tuple[float, float] | None) -> list[Stage]:
    """The stages from the start of the upload until the answer is stored ANALYZED; they add up to the whole.
    Each ends at a chain function's outcome log line, so a stage is its event's delivery (S3 notification or
    EventBridge rule and target, the runtime's dispatch to a warm worker), the function's work and any job it
    waits for. ``transcribe_job`` (start, completion) takes the Transcribe job out of its stages."""
    milestones: list[Stage] = [Stage("upload: presigned POST to S3 (client)", timed.upload_done)]
    for function, selector, what in _CHAIN:
        invocation = chain_invocation(invocations, function, selector)
        if function == "startTranscription" and transcribe_job is not None:
            # It logs after starting the job: the job, not its log line, is the next step of the chain.
            milestones.append(Stage(f"{what}, until the Transcribe job starts", transcribe_job[0]))
            milestones.append(
                Stage("Transcribe job (S3 download, decode, speech to text, transcript upload)", transcribe_job[1])
            )
            continue
        if function == "transcriptionCompleted" and transcribe_job is not None:
            label = "Transcribe job state change event -> transcriptionCompleted"  # the job has its own stage
        else:
            label = what
        milestones.append(Stage(f"{label}, to its log line", invocation.logged, invocation.duration))
    stages, at = [], timed.upload_started
    for milestone in milestones:
        stages.append(Stage(milestone.what, milestone.seconds - at, milestone.function_seconds))
        at = milestone.seconds
    return stages


def transcribe_job_span(aws_url: str, invocations: list[Invocation]) -> tuple[float, float] | None:
    """(StartTime, CompletionTime) of the answer's Transcribe job, from the local Transcribe."""
    import boto3  # noqa: PLC0415

    name = next((i.fields["job_name"] for i in invocations if "job_name" in i.fields), None)
    if name is None:
        return None
    env = aws_environment(aws_url)
    client = boto3.client(
        "transcribe",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    job = client.get_transcription_job(TranscriptionJobName=name)["TranscriptionJob"]
    return job["StartTime"].timestamp(), job["CompletionTime"].timestamp()


# -- inside the jobs -------------------------------------------------------------------------------------------
#: The job stand-ins' services in the jobs.log, as the table names them.
_JOB_SERVICES = {"mediaconvert": "MediaConvert job", "transcribe": "Transcribe job"}


def job_phase_medians(job_log: list[str], windows: list[tuple[float, float]]) -> dict[str, dict[str, float]]:
    """Per job service and phase, the median seconds over the warm answers: each window (upload start,
    ANALYZED) holds the jobs of its answer only, since the warm answers run one after the other. ``job_log`` is
    the stack's jobs.log (one JSON line per finished MediaConvert or Transcribe job, with its phases)."""
    jobs = [json.loads(line) for line in job_log if line.strip()]
    found: dict[str, dict[str, list[float]]] = {}
    for begin, end in windows:
        for job in jobs:
            if begin <= job["finished"] <= end:
                phases = found.setdefault(job["service"], {})
                for phase, seconds in job["seconds"].items():
                    phases.setdefault(phase, []).append(seconds)
    return {
        service: {phase: statistics.median(values) for phase, values in phases.items()}
        for service, phases in found.items()
    }


# -- the engines alone -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EngineRun:
    transcode: float
    stt: float
    sentiment: float
    cpu: float  # CPU seconds of the process over the three (all threads): the work, less moved by other load
    transcript: str

    @property
    def total(self) -> float:
        return self.transcode + self.stt + self.sentiment


def pipeline_mp3() -> dict[str, int]:
    """The MP3 settings of the pipeline's MediaConvert job (sample rate, channels, bitrate)."""
    template = json.loads(JOB_TEMPLATE.read_text())
    output = template["Settings"]["OutputGroups"][0]["Outputs"][0]
    mp3 = output["AudioDescriptions"][0]["CodecSettings"]["Mp3Settings"]
    return {"sample_rate": mp3["SampleRate"], "channels": mp3["Channels"], "bitrate": mp3["Bitrate"]}


def run_engines(source: Path, speech: SpeechToText, sentiment: SentimentEngine, workdir: Path) -> EngineRun:
    """What the pipeline computes for one answer: MediaConvert's transcode to the job's MP3, Transcribe's decode
    and speech to text of that MP3, Comprehend's sentiment of the transcript. The transcode's settings are those
    named as the speech settings (before tuning, tuned)."""
    from vidsense_local.engines.transcode import (  # noqa: PLC0415 - heavy
        BASELINE_TRANSCODE,
        TUNED_TRANSCODE,
        transcode_to_mp3,
    )

    transcode = {s.name: s for s in (BASELINE_TRANSCODE, TUNED_TRANSCODE)}[speech.settings.name]
    mp3 = workdir / "answer.mp3"
    cpu, started = time.process_time(), time.perf_counter()
    transcode_to_mp3(source, mp3, **pipeline_mp3(), settings=transcode)
    transcoded = time.perf_counter()
    transcript = speech.transcribe_file(mp3).transcript
    transcribed = time.perf_counter()
    sentiment.analyse(transcript)
    return EngineRun(
        transcoded - started,
        transcribed - transcoded,
        time.perf_counter() - transcribed,
        time.process_time() - cpu,
        transcript,
    )


def speech_samples() -> list[dict[str, Any]]:
    """The speech clips of tests/fixtures/media/manifest.json with their spoken text."""
    return [f for f in json.loads((MEDIA / "manifest.json").read_text())["files"] if f["kind"] == "speech"]


def samples_wer(
    speech: SpeechToText, sentiment: SentimentEngine, workdir: Path, samples: list[dict[str, Any]]
) -> float:
    """The engines' WER over these manifest samples (all edits over all reference words)."""
    pairs = [(s["text"], run_engines(MEDIA / s["file"], speech, sentiment, workdir).transcript) for s in samples]
    return corpus_word_error_rate(pairs)


class EngineComparison:
    """The engines alone on the benchmark clip, settings before tuning and tuned, in pairs (the order alternating),
    and each settings' WER on the samples. ``prepare`` loads both models (the WER pass also warms the libraries,
    as the warm stack has them); ``pair`` runs one pair. The bench runs a pair before each warm answer, with the
    stack up and idle, so both sides of the pipeline / engines ratio meet the same load of a shared machine."""

    def __init__(self, workdir: Path) -> None:
        from vidsense_local.engines.sentiment import SentimentEngine  # noqa: PLC0415 - heavy
        from vidsense_local.engines.speech import BASELINE_SETTINGS, TUNED_SETTINGS, SpeechToText  # noqa: PLC0415

        self._workdir = workdir
        self._engines = [SpeechToText(settings=settings) for settings in (BASELINE_SETTINGS, TUNED_SETTINGS)]
        self._sentiment = SentimentEngine()
        self.timings: dict[str, list[EngineRun]] = {e.settings.name: [] for e in self._engines}
        self.wer: dict[str, float] = {}

    def prepare(self) -> None:
        for engine in self._engines:
            self.wer[engine.settings.name] = samples_wer(engine, self._sentiment, self._workdir, speech_samples())

    def pair(self) -> None:
        engines = self._engines if len(self.timings[self._engines[0].settings.name]) % 2 == 0 else self._engines[::-1]
        for engine in engines:
            self.timings[engine.settings.name].append(run_engines(SAMPLE, engine, self._sentiment, self._workdir))


def run_burst(endpoints: Any, project: str, video: bytes, burst: int, results: Results) -> None:
    """``burst`` answers uploaded at once: how many are stored, in how long."""
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(burst) as pool:
        futures = [pool.submit(one_answer, endpoints, project, str(i), video) for i in range(burst)]
        outcomes: list[tuple[float, dict[str, Any]]] = []
        for future in futures:
            # A refused request (e.g. the API function timing out) is counted, not allowed to end the run.
            try:
                timed = future.result()
                outcomes.append((timed.seconds, timed.answer))
            except Exception as exc:
                outcomes.append((float("nan"), {"status": f"error: {type(exc).__name__}"}))
    results.burst_total_s = time.monotonic() - started
    results.burst_latencies_s = [seconds for seconds, _ in outcomes if not math.isnan(seconds)] or [float("nan")]
    for _, answer in outcomes:
        results.burst_statuses[answer["status"]] = results.burst_statuses.get(answer["status"], 0) + 1
    results.burst_stored = results.burst_statuses.get("ANALYZED", 0)
    print(f"    {results.burst_stored}/{burst} stored in {results.burst_total_s:.1f} s", flush=True)


def warm_answers(
    endpoints: Any, project: str, video: bytes, runs: int, *, engines: EngineComparison, engine_pairs: int
) -> list[Timed]:
    """The warm answers, one after the other; an engine pair right before each (while pairs are left), so both
    meet the machine's load of the moment."""
    warm: list[Timed] = []
    for index in range(runs):
        if index < engine_pairs:
            engines.pair()
        timed = one_answer(endpoints, project, str(index + 1), video)
        if timed.answer["status"] != "ANALYZED":
            raise RuntimeError(f"run {index} ended {timed.answer}")
        warm.append(timed)
        print(f"    warm run {index + 1}/{runs}: seen ANALYZED after {timed.seconds:.2f} s", flush=True)
    return warm


def analyse_warm_answers(state: Path, aws_url: str, project: str, warm: list[Timed], results: Results) -> None:
    """Each warm answer's time to ANALYZED, the median one's stages and the jobs' phases, from the stack's logs."""
    runs = len(warm)
    log_lines = (state / "functions.log").read_text(errors="replace").splitlines()
    chains = [answer_invocations(log_lines, project, str(index + 1)) for index in range(runs)]
    results.warm_runs_s = [analyzed_at(chain) - t.upload_started for chain, t in zip(chains, warm, strict=True)]
    results.warm_seen_s = [t.seconds for t in warm]
    # The answer whose time is the median, stage by stage.
    median_run = sorted(range(runs), key=lambda i: results.warm_runs_s[i])[runs // 2]
    job = transcribe_job_span(aws_url, chains[median_run])
    results.breakdown = breakdown(warm[median_run], chains[median_run], job)
    job_log = state / "jobs.log"
    windows = [(t.upload_started, t.upload_started + s) for t, s in zip(warm, results.warm_runs_s, strict=True)]
    if job_log.exists():
        results.job_phases = job_phase_medians(job_log.read_text().splitlines(), windows)


def run(runs: int, burst: int, engine_pairs: int) -> Results:
    results = Results(load_before=os.getloadavg())
    state = tempfile.mkdtemp(prefix="vidsense-bench-")
    engines = EngineComparison(Path(tempfile.mkdtemp(prefix="vidsense-bench-engines-")))
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
        project = f"bench-{uuid.uuid4().hex[:6]}"
        print(f"    ready in {results.startup_s:.1f} s; 2/4 first answer (cold functions, model load)...", flush=True)
        first = one_answer(endpoints, project, "0", video)
        if first.answer["status"] != "ANALYZED":
            raise RuntimeError(f"the warm-up answer ended {first.answer}")
        results.first_run_s = first.seconds
        print("    the engines alone: WER pass (loads both settings' models)...", flush=True)
        engines.prepare()
        warm = warm_answers(endpoints, project, video, runs, engines=engines, engine_pairs=engine_pairs)
        analyse_warm_answers(Path(state), endpoints.aws_url, project, warm, results)

        print(f"3/4 {burst} answers at once...", flush=True)
        run_burst(endpoints, f"burst-{project}", video, burst, results)
    finally:
        print("    stopping the stack (SIGTERM twice)...", flush=True)
        results.shutdown_s, results.ports_free_after_stop = stop_make_up(proc, ports)

    print("4/4 the rest of the engine pairs, the stack stopped...", flush=True)
    while len(engines.timings[next(iter(engines.timings))]) < engine_pairs:
        engines.pair()
    results.engine_runs, results.engine_wer = engines.timings, engines.wer
    results.engine_pairs_beside = min(runs, engine_pairs)
    results.load_after = os.getloadavg()
    return results


def _median_run(runs: list[EngineRun]) -> EngineRun:
    """Each part's median (the parts of one settings' runs, taken apart)."""
    return EngineRun(
        statistics.median(r.transcode for r in runs),
        statistics.median(r.stt for r in runs),
        statistics.median(r.sentiment for r in runs),
        statistics.median(r.cpu for r in runs),
        runs[0].transcript,
    )


def _load(load: tuple[float, float, float]) -> str:
    return " ".join(f"{value:.2f}" for value in load)


def render(results: Results, runs: int, burst: int) -> str:
    from vidsense_local.engines.speech import BASELINE_SETTINGS, TUNED_SETTINGS  # noqa: PLC0415 - heavy
    from vidsense_local.engines.transcode import BASELINE_TRANSCODE, TUNED_TRANSCODE  # noqa: PLC0415

    transcodes = {s.name: s for s in (BASELINE_TRANSCODE, TUNED_TRANSCODE)}

    warm = statistics.median(results.warm_runs_s)
    engines = {name: _median_run(r) for name, r in results.engine_runs.items()}
    baseline, tuned = engines[BASELINE_SETTINGS.name], engines[TUNED_SETTINGS.name]
    pairs = len(results.engine_runs[TUNED_SETTINGS.name])
    beside = results.engine_pairs_beside or pairs
    # The pipeline against the engine runs made beside the warm answers (the same moments of a shared machine).
    tuned_beside = _median_run(results.engine_runs[TUNED_SETTINGS.name][:beside])
    ratio = warm / tuned_beside.total
    phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in results.startup_phases.items())
    statuses = ", ".join(f"{k} {v}" for k, v in results.burst_statuses.items())
    latencies = results.burst_latencies_s

    def engine_row(settings: Any) -> tuple[str, str]:
        run = engines[settings.name]
        return (
            f"engines alone, settings {settings.name} (speech: beam {settings.beam_size}, VAD "
            f"{'on' if settings.vad_filter else 'off'}, {settings.cpu_threads} threads; MP3 encoder quality "
            f"{transcodes[settings.name].mp3_quality or 'default'}), median of {pairs}: "
            "transcode + speech-to-text + sentiment (CPU seconds); WER on the speech samples",
            f"{run.total:.2f} s ({run.transcode:.2f} + {run.stt:.2f} + {run.sentiment:.3f}; CPU {run.cpu:.2f} s); "
            f"**WER {results.engine_wer[settings.name]:.1%}**",
        )

    rows = [
        (f"`make up` to `{READY_LINE}` (venv built, npm packages installed)", f"{results.startup_s:.1f} s"),
        ("of which (the stack's own timings)", phases),
        ("first answer after start (cold functions, speech model load)", f"{results.first_run_s:.2f} s"),
        (
            f"upload -> answer stored ANALYZED, 10-second sample, stack warm (tuned engines), median of {runs}",
            f"**{warm:.2f} s** (min {min(results.warm_runs_s):.2f}, max {max(results.warm_runs_s):.2f}; "
            f"seen by the bench's poll every {POLL_SECONDS} s: median {statistics.median(results.warm_seen_s):.2f} s)",
        ),
        engine_row(BASELINE_SETTINGS),
        engine_row(TUNED_SETTINGS),
        (
            "ratio engines tuned / before tuning (goal: at most 0.8)",
            f"**{tuned.total / baseline.total:.2f}** (CPU seconds: {tuned.cpu / baseline.cpu:.2f})",
        ),
        (
            f"ratio pipeline / tuned engines (goal: at most 1.5), the engines' median over the {beside} tuned runs "
            "made right before the warm answers",
            f"**{ratio:.2f}** ({warm:.2f} s / {tuned_beside.total:.2f} s)",
        ),
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
    total = sum(stage.seconds for stage in results.breakdown)
    stages = "\n".join(
        f"| {stage.what} | {stage.seconds * 1000:.0f} | {stage.seconds / total:.0%} | "
        f"{'' if stage.function_seconds is None else f'{stage.function_seconds * 1000:.0f}'} |"
        for stage in results.breakdown
    )
    tuned_stt = results.engine_runs[TUNED_SETTINGS.name][:beside]
    alone = {
        "transcode (engine)": statistics.median(r.transcode for r in tuned_stt),
        "speech to text (engine call)": statistics.median(r.stt for r in tuned_stt),
    }
    job_rows = "\n".join(
        f"| {_JOB_SERVICES.get(service, service)}: {phase} | {seconds * 1000:.0f} | "
        f"{f'{alone[phase] * 1000:.0f}' if phase in alone else ''} |"
        for service, phases in results.job_phases.items()
        for phase, seconds in phases.items()
    )
    when = datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""# Local stack performance

Measured by `make bench-local`
(`python -m vidsense_bench.local --runs {runs} --burst {burst} --engine-pairs {pairs}`, {when}) on
{_machine()}; load average (1, 5, 15 min) {_load(results.load_before)} before and {_load(results.load_after)}
after. Rerun it to refresh this page; numbers move with the machine and its load, the ratios within one run are
what compare.

| what | result |
|---|---|
{table}

## Where one warm answer's time goes

The warm answer whose time was the median ({total:.2f} s), from the timestamps of the stack's functions.log (the
outcome line each function of the chain logs after its work) and the Transcribe job's start and completion times
(GetTranscriptionJob). Each stage ends at one of these; it holds the delivery of the event that started the
function (S3 notification, EventBridge rule and target, the runtime's dispatch to a warm worker process), the
function's work and the job it waits for. The last column is that function's own duration (its REPORT line).

| stage | ms | share | function's duration, ms |
|---|---|---|---|
{stages}

Inside the two jobs, phase by phase: the median over the {runs} warm answers of what the stand-ins log per job
(`.local/jobs.log`), against the same engine alone (tuned settings, median of the {beside} runs beside the warm
answers).
The engine call is the stand-in's `transcribe_file`: the engine's decode of the MP3 and the model's seconds.

| job: phase | ms in the stack | ms alone |
|---|---|---|
{job_rows}

How it is measured:
- Startup: a real `make up` subprocess on free ports with its own state folder; the clock runs from the
  `make` call to the ready line on its output (moto, stand-ins, function runtime, SSM seed,
  `serverless deploy --stage local` of the three services, route discovery, HTTP API).
- Upload -> ANALYZED: from the start of the presigned POST to the projector's functions.log line for the answer's
  SentimentDetected (the read model's write that makes it `ANALYZED`); the bench's `GET /answers/...` (every
  {POLL_SECONDS} s) waits for it to show. Each run is a new person (new answer); the warm-up answer is not counted.
- Engines alone: `vidsense_local.engines` called directly in the benchmark process on the same file: one pair
  (both settings) right before each warm answer, with the stack up and idle (which does not slow them: speech to
  text 0.59 s beside an idle stack, 0.58 s without one), so the pipeline and the engines it is compared with meet
  the same load of a shared machine;
  the remaining pairs after the stack has stopped. PyAV transcode to the MP3 of the pipeline's
  MediaConvert job, PyAV decode of that MP3 to 16 kHz mono and faster-whisper tiny.en int8 (word timestamps),
  VADER. The settings before tuning (`BASELINE_SETTINGS` in `vidsense_local/engines/speech.py`,
  `BASELINE_TRANSCODE` in `vidsense_local/engines/transcode.py`) and the tuned ones the stack uses (`TUNED_SETTINGS`,
  `TUNED_TRANSCODE`) run in pairs, interleaved, the order alternating.
  Wall-clock seconds are what the goals compare; CPU seconds (the process's, all threads) show the work itself,
  which other processes on a loaded machine move less.
- WER: all word edits over all reference words of the speech samples in `tests/fixtures/media/manifest.json`
  (the four e2e samples and the benchmark clip), through the same engines.
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
    parser.add_argument("--runs", type=int, default=5, help="warm runs of the stack for the median")
    parser.add_argument(
        "--engine-pairs", type=int, default=10, help="engine runs per speech settings (paired) for the medians"
    )
    parser.add_argument("--burst", type=int, default=10, help="answers uploaded at once")
    parser.add_argument("--output", type=Path, default=REPORT)
    args = parser.parse_args()
    results = run(args.runs, args.burst, args.engine_pairs)
    report = render(results, args.runs, args.burst)
    args.output.write_text(keep_marked_sections(report, args.output))
    print(report)
    ok = results.burst_stored == args.burst and results.ports_free_after_stop
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
