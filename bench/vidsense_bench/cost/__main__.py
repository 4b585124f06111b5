"""`make cost`: the AWS cost of one answer-minute and of a month at a stated volume (docs/cost.md).

python -m vidsense_bench.cost [--answers 10000] [--minutes 1] [--stage prod] [--output docs/cost.md]
python -m vidsense_bench.cost measure --functions-log .local/functions.log   # refresh deploy/cost/measured.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vidsense_bench.cost.flow import answer_flow, pipeline_seconds
from vidsense_bench.cost.inputs import (
    MEASURED,
    PRICES,
    REPO,
    CostInputError,
    load_job_template,
    load_measured,
    load_prices,
    measure_functions,
    measure_media,
    packaged_templates,
    read_settings,
)
from vidsense_bench.cost.model import Assumptions, Estimate, estimate

GOAL_RATIO = 1.15
START = "<!-- cost:start -->"
END = "<!-- cost:end -->"
REPORT = REPO / "docs" / "cost.md"


def _usd(value: float) -> str:
    return f"${value:.7f}" if abs(value) < 1 else f"${value:,.2f}"


def render(
    result: Estimate,
    *,
    stage: str,
    price_header: dict[str, Any],
    measured_doc: dict[str, Any],
    template_line: str,
    assumptions: Assumptions,
    command: str,
) -> str:
    minutes = result.audio_seconds / 60
    total = result.per_answer
    lines = [
        f"Computed by `{command}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC for the **{stage}** stage: answers of "
        f"{minutes:g} minute(s), {result.answers_per_month:,.0f} answers per month.",
        f"Prices: `{PRICES.relative_to(REPO)}` (us-east-1, as of {price_header.get('as_of')}, "
        f"{price_header.get('retrieved')}).",
        f"Settings: {template_line}. Measurements: `{MEASURED.relative_to(REPO)}` ({measured_doc.get('source', '?')}).",
        "",
        "### One answer",
        "",
        "| item | per answer-minute | share of total | basis |",
        "|---|---|---|---|",
    ]
    for item in sorted(result.items, key=lambda i: -i.usd):
        share = item.usd / total if total else 0.0
        lines.append(f"| {item.name} | {_usd(result.per_answer_minute(item.usd))} | {share:.1%} | {item.basis} |")
    lines += [
        f"| **total** | **{_usd(result.per_answer_minute(total))}** | 100% | |",
        "",
        f"**Ratio to the Transcribe price alone for the same minute: {result.ratio:.3f}x** "
        f"(goal: at most {GOAL_RATIO}x; {'met' if result.ratio <= GOAL_RATIO else 'NOT met'}).",
    ]
    if result.ratio > GOAL_RATIO:
        largest = result.largest_above_transcribe()
        without = (total - largest.usd) / result.transcribe
        lines.append(
            f"Largest item above Transcribe: {largest.name}, "
            f"{largest.usd / result.transcribe:.1%} of the Transcribe price; without it the ratio would be "
            f'{without:.3f}x (see "Cuts" below).'
        )
    lines += [
        "",
        f"### A month: {result.answers_per_month:,.0f} answers of {minutes:g} minute(s)",
        "",
        "| item | per month |",
        "|---|---|",
        f"| answers ({result.answers_per_month:,.0f} x {_usd(total)}) | {_usd(total * result.answers_per_month)} |",
    ]
    lines += [f"| {item.name} (fixed: {item.basis}) | {_usd(item.usd)} |" for item in result.fixed]
    lines += [f"| **total** | **{_usd(result.per_month)}** |"]
    minutes_total = result.answers_per_month * minutes
    if minutes_total:
        lines.append(
            f"\nWith the fixed costs spread over the month's {minutes_total:,.0f} answer-minutes: "
            f"{_usd(result.per_month / minutes_total)} per answer-minute, "
            f"{result.per_month / (result.transcribe * result.answers_per_month):.3f}x Transcribe."
        )
    lines += [
        "",
        "### Assumptions (not in the templates or the measurements)",
        "",
        f"- The browser polls `GET /answers` every {assumptions.poll_interval_seconds:g} s (web/record.js default) "
        f"while the answer is in the pipeline, {pipeline_seconds(result.audio_seconds, assumptions):.0f} s for this "
        f"length ({assumptions.pipeline_seconds_fixed:g} s + {assumptions.pipeline_seconds_per_audio_second:g} s per "
        "second of answer: MediaConvert and Transcribe job start-up and run time in AWS, not measured here).",
        f"- {assumptions.cold_start_fraction:.0%} of invocations are cold and pay the measured init (billed for "
        "managed runtimes since 2025-08-01).",
        f"- X-Ray records {assumptions.xray_sampled_fraction:.0%} of traces (one per invocation): at this volume the "
        "default rule's reservoir of 1 per second takes them all.",
        f"- Each object is stored for {assumptions.storage_months:g} month(s) per answer, or less where a lifecycle "
        "rule expires it sooner; the video's current version never expires, so storage grows by that much every "
        "month the answers are kept.",
        f"- CloudWatch stores logs compressed to {assumptions.logs_compression:.0%} of the ingested bytes, for the "
        "retention in the templates; an HTTP API access log line is "
        f"{assumptions.http_access_log_bytes} bytes; an archived event {assumptions.event_bytes} bytes.",
        f"- KMS: {assumptions.kms_requests_per_sns_message} requests per message of the encrypted onComplete topic; "
        "DynamoDB and S3 use AWS owned or managed keys (S3 Bucket Keys).",
        "- Not counted: free tiers, Cognito (monthly active users), data transfer out to the browser, the "
        "deployment buckets, DynamoDB storage and its point-in-time backups (under 2 KiB per answer), retries "
        "and failed answers.",
    ]
    return "\n".join(lines)


def keep_hand_written(generated: str, path: Path) -> str:
    """The file with the marked section replaced; text outside the markers stays as written."""
    section = f"{START}\n{generated}\n{END}"
    if not path.exists():
        return f"# AWS cost per answer\n\n{section}\n"
    text = path.read_text()
    if START in text and END in text:
        before, rest = text.split(START, 1)
        after = rest.split(END, 1)[1]
        return f"{before}{section}{after}"
    return f"{text.rstrip()}\n\n{section}\n"


def _report(args: argparse.Namespace) -> int:
    assumptions = Assumptions(poll_interval_seconds=args.poll_seconds, storage_months=args.storage_months)
    prices, price_header = load_prices(args.prices)
    measured, measured_doc = load_measured(args.measured)
    if args.video_kbps is not None:  # a real camera instead of the synthetic samples
        measured = dataclasses.replace(measured, video_bytes_per_second=args.video_kbps * 1000 / 8)
        measured_doc = {**measured_doc, "source": f"{measured_doc.get('source')}; video at {args.video_kbps:g} kb/s"}
    templates, template_line = packaged_templates(args.stage, refresh=args.refresh_package)
    settings = read_settings(templates, load_job_template())
    seconds = args.minutes * 60
    flow = answer_flow(seconds, measured.transcript_characters_per_second, assumptions)
    missing = sorted(set(flow.invocations) - set(measured.functions))
    if missing:
        raise CostInputError(f"{args.measured} has no measurement of {', '.join(missing)}: run the measure command")
    result = estimate(
        seconds, args.answers, flow=flow, settings=settings, measured=measured, prices=prices, assumptions=assumptions
    )
    shown = [a for a in args.argv if a != "--no-write"]
    command = f"make cost COST_ARGS='{' '.join(shown)}'" if shown else "make cost"
    text = render(
        result,
        stage=args.stage,
        price_header=price_header,
        measured_doc=measured_doc,
        template_line=template_line,
        assumptions=assumptions,
        command=command,
    )
    print(text)
    if args.output is not None:
        args.output.write_text(keep_hand_written(text, args.output))
        print(f"\nwritten: {args.output}")
    return 0


def _measure(args: argparse.Namespace) -> int:
    with args.functions_log.open(encoding="utf-8", errors="replace") as log:
        functions = measure_functions(log)
    if not functions:
        raise CostInputError(f"{args.functions_log} has no REPORT line of a vidsense function")
    document = {
        "source": (
            f"`python -m vidsense_bench.cost measure --functions-log <{args.functions_log.name}>` on "
            f"{datetime.now(UTC):%Y-%m-%d}: function durations and log bytes from a local stack's functions.log "
            "(moto and the stand-ins, 2-core machine); media from tests/fixtures/media"
        ),
        "functions": functions,
        "media": measure_media(args.media),
    }
    args.output.write_text(json.dumps(document, indent=2) + "\n")
    print(f"written: {args.output} ({len(functions)} functions)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vidsense_bench.cost", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    parser.add_argument("--answers", type=float, default=10000, help="answers per month (default 10000)")
    parser.add_argument("--minutes", type=float, default=1.0, help="length of one answer in minutes (default 1)")
    parser.add_argument("--stage", default="prod", help="stage whose packaged templates are read (default prod)")
    parser.add_argument("--poll-seconds", type=float, default=1.5, help="browser poll interval (default 1.5)")
    parser.add_argument("--storage-months", type=float, default=1.0, help="months of storage per answer (default 1)")
    parser.add_argument("--video-kbps", type=float, help="video bitrate instead of the samples' (a camera: 2500)")
    parser.add_argument("--prices", type=Path, default=PRICES)
    parser.add_argument("--measured", type=Path, default=MEASURED)
    parser.add_argument("--output", type=Path, default=REPORT, help="Markdown report (default docs/cost.md)")
    parser.add_argument("--no-write", dest="output", action="store_const", const=None, help="print only")
    parser.add_argument("--refresh-package", action="store_true", help="package even if the inputs are unchanged")
    measure = sub.add_parser("measure", help="refresh deploy/cost/measured.json")
    measure.add_argument("--functions-log", type=Path, required=True, help="a local stack's functions.log")
    measure.add_argument("--media", type=Path, default=REPO / "tests" / "fixtures" / "media")
    measure.add_argument("--output", type=Path, default=MEASURED)
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if args.command == "measure":
            return _measure(args)
        if args.minutes <= 0 or args.answers < 0:
            parser.error("--minutes must be positive and --answers not negative")
        return _report(args)
    except (CostInputError, ValueError) as exc:
        print(f"make cost: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
