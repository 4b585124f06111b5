"""The model's inputs from files: prices (YAML), packaged CloudFormation templates, the measurements (JSON)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import statistics
import subprocess
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]  # PyYAML ships no stubs (installed with moto)

from vidsense_bench.cost.model import FunctionMeasure, FunctionSettings, Measured, Prices, StackSettings
from vidsense_local.deployer import stage_deploy_tree
from vidsense_shared.transcripts import parse_transcribe_output

REPO = Path(__file__).resolve().parents[3]
SERVICES = ("ingest", "transcode", "nlp")
PRICES = REPO / "deploy" / "cost" / "prices-us-east-1.yml"
MEASURED = REPO / "deploy" / "cost" / "measured.json"
MEDIACONVERT_JOB = REPO / "services" / "transcode" / "src" / "transcode" / "adapters" / "mediaconvert_job.json"
TEMPLATE = "cloudformation-template-update-stack.json"
PACKAGE_ROOT = REPO / "build" / "cost"
MINUTES_PER_MONTH = 30 * 24 * 60


class CostInputError(Exception):
    """An input file is missing or malformed: the message says which and what to do."""


# --- prices ---


def load_prices(path: Path = PRICES) -> tuple[Prices, dict[str, Any]]:
    """The prices and the file's header (region, as_of, retrieved)."""
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise CostInputError(f"cannot read the price file {path}: {exc}") from exc
    entries = document.get("prices") if isinstance(document, dict) else None
    if not isinstance(entries, dict):
        raise CostInputError(f"{path} has no `prices:` mapping")
    wanted = {f.name: f.type for f in dataclasses.fields(Prices)}
    missing = sorted(set(wanted) - set(entries))
    if missing:
        raise CostInputError(f"{path} lacks the price(s) {', '.join(missing)}")
    values: dict[str, Any] = {}
    for name in wanted:
        entry = entries[name]
        if not isinstance(entry, dict) or "usd" not in entry or "source" not in entry:
            raise CostInputError(f"{path}: price {name} needs `usd:` and `source:`")
        values[name] = entry["usd"]
    header = {k: v for k, v in document.items() if k != "prices"}
    return Prices(**values), header


# --- packaged templates ---


def _package_inputs() -> list[Path]:
    files = [REPO / "serverless-compose.yml", REPO / "package.json", REPO / "package-lock.json"]
    for folder in (REPO / "deploy" / "serverless", REPO / "deploy" / "plugins"):
        files += sorted(p for p in folder.rglob("*") if p.is_file() and "node_modules" not in p.parts)
    for service in SERVICES:
        files.append(REPO / "services" / service / "serverless.yml")
    return [f for f in files if f.exists()]


def package_key(stage: str) -> str:
    """Everything that changes a template (not the code: the templates carry no code, only its S3 key)."""
    digest = hashlib.sha256(stage.encode())
    for path in _package_inputs():
        digest.update(str(path.relative_to(REPO)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def offline_sls_env(**extra: str) -> dict[str, str]:
    """The environment of an offline osls run: no real AWS profile, credentials or endpoint leak in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "VIDSENSE_"))}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 - offline packaging needs some credentials, never real ones
        AWS_REGION="us-east-1",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
        SLS_TELEMETRY_DISABLED="1",
        SLS_NOTIFICATIONS_MODE="off",
    )
    env.update(extra)
    return env


def packaged_templates(stage: str = "prod", *, refresh: bool = False) -> tuple[dict[str, dict[str, Any]], str]:
    """The three services' templates for ``stage``, packaged offline once per content of the deploy inputs.

    Returns the templates and a line saying whether they were packaged now or reused."""
    root = PACKAGE_ROOT / stage
    stamp = root / "package-key"
    key = package_key(stage)
    paths = {s: root / "services" / s / ".serverless" / TEMPLATE for s in SERVICES}
    reused = not refresh and stamp.exists() and stamp.read_text() == key and all(p.exists() for p in paths.values())
    if not reused:
        binary = REPO / "node_modules" / ".bin" / "serverless"
        if not binary.exists():
            raise CostInputError("node_modules is missing: run `make node_modules` (make cost does)")
        stage_deploy_tree(root)
        env = offline_sls_env(PATH=f"{binary.parent}{os.pathsep}{os.environ.get('PATH', '')}")
        proc = subprocess.run(
            [str(binary), "package", "--stage", stage],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if proc.returncode != 0:
            tail = (proc.stdout + proc.stderr)[-2000:]
            raise CostInputError(f"`serverless package --stage {stage}` failed ({proc.returncode}):\n{tail}")
        stamp.write_text(key)
    templates = {s: json.loads(p.read_text()) for s, p in paths.items()}
    how = "reused (deploy inputs unchanged)" if reused else "packaged now"
    return templates, f"{stage} templates {how}: {root.relative_to(REPO)}/services/*/.serverless/{TEMPLATE}"


def _resources(template: Mapping[str, Any], kind: str) -> Iterable[tuple[str, dict[str, Any]]]:
    for name, resource in template.get("Resources", {}).items():
        if resource.get("Type") == kind:
            yield name, resource.get("Properties", {})


def read_functions(service: str, template: Mapping[str, Any]) -> dict[str, FunctionSettings]:
    """Memory, architecture, tracing and log retention of each function, keyed ``service/function``."""
    retention: dict[str, int | None] = {}
    for _, props in _resources(template, "AWS::Logs::LogGroup"):
        group = props.get("LogGroupName")
        if isinstance(group, str):
            retention[group] = props.get("RetentionInDays")
    functions: dict[str, FunctionSettings] = {}
    for logical, props in _resources(template, "AWS::Lambda::Function"):
        physical = props.get("FunctionName")
        if not isinstance(physical, str):
            raise CostInputError(f"{service}: function {logical} has no literal FunctionName")
        short = physical.rsplit("-", 1)[-1]  # vidsense-{service}-{stage}-{function}
        architectures = props.get("Architectures", ["x86_64"])  # Lambda's default
        functions[f"{service}/{short}"] = FunctionSettings(
            memory_mb=int(props.get("MemorySize", 128)),  # Lambda's default
            architecture=str(architectures[0]),
            tracing_active=props.get("TracingConfig", {}).get("Mode") == "Active",
            log_retention_days=retention.get(f"/aws/lambda/{physical}"),
        )
    return functions


def _expiration(template: Mapping[str, Any], bucket: str, prefix_part: str | None) -> int | None:
    """Days after which the bucket's lifecycle expires current objects under a prefix containing ``prefix_part``
    (None: never), or noncurrent versions when ``prefix_part`` is None."""
    for logical, props in _resources(template, "AWS::S3::Bucket"):
        if logical != bucket:
            continue
        for rule in props.get("LifecycleConfiguration", {}).get("Rules", []):
            if rule.get("Status") != "Enabled":
                continue
            if prefix_part is None and "NoncurrentVersionExpiration" in rule:
                return int(rule["NoncurrentVersionExpiration"]["NoncurrentDays"])
            if prefix_part is not None and "ExpirationInDays" in rule and prefix_part in str(rule.get("Prefix", "")):
                return int(rule["ExpirationInDays"])
    return None


_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_RATE_MINUTES = {"minute": 1, "minutes": 1, "hour": 60, "hours": 60, "day": 1440, "days": 1440}


def _schedules(service: str, template: Mapping[str, Any], functions: Mapping[str, str]) -> dict[str, float]:
    runs: dict[str, float] = {}
    for _, props in _resources(template, "AWS::Events::Rule"):
        match = _RATE.fullmatch(str(props.get("ScheduleExpression", "")))
        if not match or props.get("State", "ENABLED") != "ENABLED":
            continue
        per_month = MINUTES_PER_MONTH / (int(match.group(1)) * _RATE_MINUTES[match.group(2)])
        for target in props.get("Targets", []):
            logical = target.get("Arn", {}).get("Fn::GetAtt", [None])[0]
            if logical in functions:
                key = f"{service}/{functions[logical]}"
                runs[key] = runs.get(key, 0.0) + per_month
    return runs


def mp3_bitrate(job: Mapping[str, Any]) -> int:
    """The audio-only output's bitrate from the MediaConvert CreateJob template."""
    for group in job["Settings"]["OutputGroups"]:
        for output in group["Outputs"]:
            for audio in output.get("AudioDescriptions", []):
                settings = audio["CodecSettings"]
                for codec_key, codec in settings.items():
                    if codec_key != "Codec" and isinstance(codec, dict) and "Bitrate" in codec:
                        return int(codec["Bitrate"])
    raise CostInputError("the MediaConvert job template has no audio output with a Bitrate")


def read_settings(templates: Mapping[str, Mapping[str, Any]], job: Mapping[str, Any]) -> StackSettings:
    functions: dict[str, FunctionSettings] = {}
    schedules: dict[str, float] = {}
    pitr = kms = alarms = 0
    for service, template in templates.items():
        functions.update(read_functions(service, template))
        logical_to_short = {
            logical: str(props.get("FunctionName", "")).rsplit("-", 1)[-1]
            for logical, props in _resources(template, "AWS::Lambda::Function")
        }
        schedules.update(_schedules(service, template, logical_to_short))
        pitr += sum(
            1
            for _, p in _resources(template, "AWS::DynamoDB::Table")
            if p.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled")
        )
        kms += sum(1 for _ in _resources(template, "AWS::KMS::Key"))
        alarms += sum(1 for _ in _resources(template, "AWS::CloudWatch::Alarm"))
    transcode = templates.get("transcode", {})
    ingest = templates.get("ingest", {})
    return StackSettings(
        functions=functions,
        mp3_bitrate_bps=mp3_bitrate(job),
        audio_expiration_days=_expiration(transcode, "WorkBucket", "/audio/"),
        transcript_expiration_days=_expiration(transcode, "WorkBucket", "/transcripts/"),
        video_noncurrent_days=_expiration(ingest, "MediaBucket", None),
        pitr_tables=pitr,
        kms_keys=kms,
        alarms=alarms,
        schedule_invocations_per_month=schedules,
    )


def load_job_template(path: Path = MEDIACONVERT_JOB) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


# --- measurements ---


def load_measured(path: Path = MEASURED) -> tuple[Measured, dict[str, Any]]:
    try:
        document = json.loads(path.read_text())
        functions = {
            name: FunctionMeasure(
                warm_ms=float(f["warm_ms"]), init_ms=float(f["init_ms"]), log_bytes=float(f["log_bytes"])
            )
            for name, f in document["functions"].items()
        }
        media = document["media"]
        measured = Measured(
            functions=functions,
            video_bytes_per_second=float(media["video_bytes_per_second"]),
            transcript_json_bytes_per_second=float(media["transcript_json_bytes_per_second"]),
            transcript_characters_per_second=float(media["transcript_characters_per_second"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CostInputError(
            f"cannot read the measurements {path}: {exc} (rebuild them: python -m vidsense_bench.cost measure "
            "--functions-log <a local stack's functions.log>)"
        ) from exc
    return measured, document


_LINE = re.compile(r"^vidsense-(?P<service>[a-z]+)-[a-z0-9]+-(?P<function>[A-Za-z]+) (?P<text>.*)$")
_REPORT = re.compile(r"REPORT RequestId: \S+\tDuration: (?P<ms>[\d.]+) ms")
_PLATFORM = re.compile(r"^(START|END|REPORT) RequestId")
_DEBUG = '"level":"DEBUG"'
# In AWS, REPORT carries Billed Duration, Max Memory Used, Init Duration and the X-Ray trace id beside Duration.
AWS_REPORT_EXTRA_BYTES = 160


def measure_functions(log: Iterable[str]) -> dict[str, dict[str, float]]:
    """Per function from a local stack's functions.log: median warm duration, median cold duration minus the warm
    median (the init), and log bytes per invocation at LOG_LEVEL INFO (DEBUG lines, which the local stage adds,
    left out)."""
    durations: dict[str, list[float]] = defaultdict(list)
    colds: dict[str, list[float]] = defaultdict(list)
    log_bytes: dict[str, int] = defaultdict(int)
    seen: set[str] = set()
    for raw in log:
        match = _LINE.match(raw.rstrip("\n"))
        if not match:
            continue
        name = f"{match['service']}/{match['function']}"
        text = match["text"]
        if _DEBUG in text:
            continue
        log_bytes[name] += len(text.encode()) + 1
        report = _REPORT.match(text)
        if report:
            log_bytes[name] += AWS_REPORT_EXTRA_BYTES
            # The first invocation of each function in the log is its cold start.
            (durations if name in seen else colds)[name].append(float(report["ms"]))
            seen.add(name)
    result: dict[str, dict[str, float]] = {}
    for name in sorted(seen):
        warm = durations[name] or colds[name]
        warm_ms = statistics.median(warm)
        init_ms = max(statistics.median(colds[name]) - warm_ms, 0.0) if colds[name] else 0.0
        count = len(durations[name]) + len(colds[name])
        result[name] = {
            "warm_ms": round(warm_ms, 1),
            "init_ms": round(init_ms, 1),
            "log_bytes": round(log_bytes[name] / count, 1),
            "invocations": count,
        }
    return result


def measure_media(media_folder: Path) -> dict[str, Any]:
    """Bytes per second of the speech samples (video as recorded) and of the transcript JSON Transcribe would write
    for them (vidsense_local's Transcribe-format writer on the manifest's text, words spread evenly: no model run)."""
    from vidsense_local.engines.speech import SpeechResult, Word, transcribe_output  # noqa: PLC0415 - numpy

    manifest = json.loads((media_folder / "manifest.json").read_text())
    speech = [f for f in manifest["files"] if f["kind"] == "speech"]
    if not speech:
        raise CostInputError(f"{media_folder}/manifest.json lists no speech sample")
    seconds = sum(float(f["duration_s"]) for f in speech)
    video_bytes = sum((media_folder / f["file"]).stat().st_size for f in speech)
    json_bytes = 0
    characters = 0
    for sample in speech:
        tokens = sample["text"].split()
        step = float(sample["duration_s"]) / len(tokens)
        words = []
        for i, token in enumerate(tokens):
            core = token.rstrip(".,?!;:")
            words.append(Word(i * step, (i + 1) * step, core, 0.987, "", token[len(core) :]))
        result = SpeechResult(tuple(words), float(sample["duration_s"]), 0.0, 0.0)
        job = f"vidsense.prod.project-0001.1.{'0' * 64}.1"
        document = transcribe_output(job, "123456789012", result, "en-US")
        json_bytes += len(json.dumps(document).encode())
        characters += len(parse_transcribe_output(document).text)  # read as ingest and nlp read it
    return {
        "video_bytes_per_second": round(video_bytes / seconds, 1),
        "transcript_json_bytes_per_second": round(json_bytes / seconds, 1),
        "transcript_characters_per_second": round(characters / seconds, 2),
        "samples": [f["file"] for f in speech],
        "sample_seconds": round(seconds, 2),
    }
