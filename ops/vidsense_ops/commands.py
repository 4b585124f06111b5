"""``vidsense replay|replays|dlq|status|smoke``: argument parsing and output; the work is in the sibling modules."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from vidsense_ops import dlq, replay, smoke, status
from vidsense_ops.clients import CheckedStage, OperatorError, StageAws, explain, stage_aws
from vidsense_ops.timeparse import TimeFormatError, is_relative, parse_time
from vidsense_shared.answers import StepRefError, check_step_ref
from vidsense_shared.aws_errors import error_code, error_message
from vidsense_shared.events import EVENTS_BY_DETAIL_TYPE

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130
ClientFactory = Callable[[str], Any]
# A subcommand's work, given the stage's clients; ``run_guarded`` wraps it.
OperatorCommand = Callable[[argparse.Namespace, CheckedStage], int]


TIME_OPTIONS = ("--from", "--to")


def attach_relative_times(argv: list[str]) -> list[str]:
    """``--from -2h`` as ``--from=-2h``: argparse takes a value starting with ``-`` for an option of its own."""
    joined: list[str] = []
    for arg in argv:
        if joined and joined[-1] in TIME_OPTIONS and is_relative(arg):
            joined[-1] = f"{joined[-1]}={arg}"
        else:
            joined.append(arg)
    return joined


def register(subparsers: Any) -> None:
    rp = subparsers.add_parser("replay", help="replay the stage's bus archive to selected rules")
    rp.add_argument("--stage", required=True)
    rp.add_argument("--from", dest="start", required=True, help="ISO 8601 with a zone, or relative like -2h")
    rp.add_argument("--to", dest="end", default="now", help="ISO 8601 with a zone, relative, or now (default)")
    rp.add_argument("--consumer", action="append", choices=replay.SERVICES, default=[])
    rp.add_argument("--event", action="append", default=[], metavar="DETAIL_TYPE")
    rp.add_argument("--name", help="replay name (default: vidsense-<stage>-<time>)")
    rp.add_argument("--wait", action="store_true", help="follow the replay until it ends")
    rp.set_defaults(run=_guarded(lambda args, aws: run_replay(args, client=aws.client)))

    rl = subparsers.add_parser("replays", help="list the stage's replays and their states")
    rl.add_argument("--stage", required=True)
    rl.set_defaults(run=_guarded(lambda args, aws: run_replays(args, client=aws.client)))

    dq = subparsers.add_parser("dlq", help="inspect and redrive dead-letter queues")
    dq.add_argument("action", choices=["list", "show", "redrive"])
    dq.add_argument("--stage", required=True)
    dq.add_argument("--service", choices=replay.SERVICES)
    dq.add_argument("--queue", help="one queue name (show/redrive); default: every matching queue")
    dq.add_argument("--max", type=int, default=100, help="messages at most (default 100)")
    dq.set_defaults(run=_guarded(lambda args, aws: run_dlq(args, client=aws.client)))

    st = subparsers.add_parser("status", help="an answer's state and event trail")
    st.add_argument("--stage", required=True)
    st.add_argument("project")
    st.add_argument("step")
    st.add_argument(
        "person",
        metavar="PERSON",
        help="the person's subject (their token's sub), or their email, looked up in the stage's user pool",
    )
    st.add_argument("--issuer", help="the stage's token issuer (default: the ingest stack's Issuer output)")
    st.add_argument("--user-key-parameter", help="SSM name of the user-key secret (default /vidsense/<stage>/...)")
    st.set_defaults(run=_guarded(lambda args, aws: run_status(args, client=aws.client)))

    sm = subparsers.add_parser(
        "smoke", help="record the sample answer on a deployed stage, wait for its analysis and erase it"
    )
    sm.add_argument("--stage", required=True)
    sm.add_argument(
        "--timeout",
        type=float,
        help=f"seconds to wait for the analysis, then for the erasure (default ${smoke.TIMEOUT_VARIABLE}, else"
        f" {smoke.DEFAULT_TIMEOUT:.0f})",
    )
    sm.add_argument("--sample", type=Path, default=smoke.SAMPLE, help="the answer to record (default: the bundled one)")
    sm.set_defaults(run=_guarded(lambda args, aws: run_smoke(args, client=aws.client)))


def _guarded(command: OperatorCommand) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        return run_guarded(args, command)

    return run


def run_guarded(
    args: argparse.Namespace,
    command: OperatorCommand,
    *,
    connect: Callable[[str], StageAws] = stage_aws,
    err: TextIO | None = None,
) -> int:
    """The error boundary of every operator command: AWS failures become one line on stderr, never a traceback.

    Failures the operator can fix (region, credentials, endpoint, permissions, stage) exit 2; any other AWS error
    exits 1.
    """
    label = f"vidsense {args.command}"
    err = err or sys.stderr  # looked up now: tests and callers may have replaced it
    aws: StageAws | None = None
    try:
        aws = connect(args.stage)
        return command(args, CheckedStage(aws))
    except KeyboardInterrupt:
        print(f"{label}: interrupted", file=err)
        return EXIT_INTERRUPTED
    except (BotoCoreError, ClientError, OperatorError) as exc:
        return report_failure(label, exc, aws, err)


def report_failure(label: str, exc: BaseException, aws: StageAws | None, err: TextIO) -> int:
    """One line on stderr for a failed command, and its exit code: 2 for what the operator can fix, else 1."""
    fixable = explain(exc, aws)
    if fixable is not None:
        print(f"{label}: {fixable}", file=err)
        return EXIT_USAGE
    print(f"{label}: {_aws_failure(exc)}", file=err)
    return EXIT_FAILED


def _aws_failure(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return f"AWS {exc.operation_name} failed: {error_code(exc)}: {error_message(exc)}"
    return f"AWS call failed: {exc}"


def run_replay(args: argparse.Namespace, *, out: TextIO = sys.stdout, client: ClientFactory) -> int:
    now = datetime.now(UTC)
    try:
        start, end = parse_time(args.start, now=now), parse_time(args.end, now=now)
    except TimeFormatError as exc:
        print(f"vidsense replay: {exc}", file=sys.stderr)
        return EXIT_USAGE
    unknown = [e for e in args.event if e not in EVENTS_BY_DETAIL_TYPE]
    if unknown:
        known = ", ".join(sorted(EVENTS_BY_DETAIL_TYPE))
        print(f"vidsense replay: unknown --event {', '.join(unknown)} (known: {known})", file=sys.stderr)
        return EXIT_USAGE
    events = client("events")
    request = replay.ReplayRequest(
        stage=args.stage,
        start=start,
        end=end,
        consumers=tuple(args.consumer),
        detail_types=tuple(args.event),
        name=args.name,
    )
    try:
        name, rules = replay.start_replay(events, request, now=now)
    except replay.ReplayError as exc:
        print(f"vidsense replay: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"started replay {name} of {start.isoformat()} .. {end.isoformat()} to {len(rules)} rule(s)", file=out)
    if not args.wait:
        return EXIT_OK
    description = replay.wait_for_replay(events, name, out=out)
    print(replay.summary(description, rules), file=out)
    return EXIT_OK if description["State"] == "COMPLETED" else EXIT_FAILED


def run_replays(args: argparse.Namespace, *, out: TextIO = sys.stdout, client: ClientFactory) -> int:
    rows = replay.list_replays(client("events"), args.stage)
    if not rows:
        print("no replays", file=out)
    for row in rows:
        print(
            f"{row['ReplayName']:<40} {row['State']:<10} "
            f"{replay._as_datetime(row.get('EventStartTime'))} .. {replay._as_datetime(row.get('EventEndTime'))}",
            file=out,
        )
    return EXIT_OK


def run_dlq(args: argparse.Namespace, *, out: TextIO = sys.stdout, client: ClientFactory) -> int:
    sqs = client("sqs")
    queues = [q for q in dlq.list_queues(sqs, args.stage, args.service) if not args.queue or q.name == args.queue]
    if args.queue and not queues:
        print(f"vidsense dlq: no dead-letter queue named {args.queue} in stage {args.stage}", file=sys.stderr)
        return EXIT_USAGE
    if args.action == "list":
        for q in queues:
            print(f"{q.name:<60} visible={q.visible:<5} in_flight={q.in_flight}", file=out)
        return EXIT_OK
    if args.action == "show":
        for q in queues:
            for message in dlq.peek(sqs, q, args.max):
                print(f"--- {q.name} {message['MessageId']}", file=out)
                for name, value in sorted(message.get("MessageAttributes", {}).items()):
                    print(f"  {name}: {value.get('StringValue')}", file=out)
                print(f"  {message['Body'][:2000]}", file=out)
        return EXIT_OK
    lambda_client, sns = client("lambda"), client("sns")
    failed = 0
    for q in queues:
        outcome, errors = dlq.redrive_queue(sqs, lambda_client, sns, q, max_messages=args.max)
        print(f"{q.name}: redriven {outcome.redriven}, failed {outcome.failed}", file=out)
        for error in errors:
            print(f"  {error}", file=out)
        failed += outcome.failed
    return EXIT_FAILED if failed else EXIT_OK


def run_status(
    args: argparse.Namespace,
    *,
    out: TextIO = sys.stdout,
    client: ClientFactory,
) -> int:
    try:
        # Arguments first: a wrong one costs no AWS call.
        check_step_ref(args.project, args.step)
        status.check_person(args.person)
        person = status.find_person(args.person, stage=args.stage, client=client, issuer=args.issuer)
        answer = status.read_status(
            client("ssm"),
            client("dynamodb"),
            stage=args.stage,
            project=args.project,
            step=args.step,
            person=person,
            parameter=args.user_key_parameter,
        )
    except (status.AnswerNotFoundError, status.PersonNotFoundError) as exc:
        print(str(exc), file=out)
        return EXIT_FAILED
    except StepRefError as exc:
        print(f"vidsense status: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(status.render(answer), file=out)
    return EXIT_OK


def smoke_timeout(args: argparse.Namespace, environ: Mapping[str, str]) -> float:
    """``--timeout``, else ``VIDSENSE_SMOKE_TIMEOUT``, else the default; OperatorError when not a positive number."""
    text = environ.get(smoke.TIMEOUT_VARIABLE)
    if args.timeout is not None:
        value, source = float(args.timeout), "--timeout"
    elif text:
        try:
            value, source = float(text), smoke.TIMEOUT_VARIABLE
        except ValueError:
            raise OperatorError(f"{smoke.TIMEOUT_VARIABLE}={text} is not a number of seconds") from None
    else:
        return smoke.DEFAULT_TIMEOUT
    if not value > 0 or value == float("inf"):
        raise OperatorError(f"{source} must be a positive number of seconds, not {value:g}")
    return value


def run_smoke(
    args: argparse.Namespace,
    *,
    out: TextIO = sys.stdout,
    client: ClientFactory,
    environ: Mapping[str, str] | None = None,
    http: smoke.Http = smoke.urllib_http,
    clock: smoke.Clock | None = None,
) -> int:
    env = os.environ if environ is None else environ
    timeout = smoke_timeout(args, env)
    if not Path(args.sample).is_file():
        raise OperatorError(f"no sample answer at {args.sample}: pass --sample with a WebM recording")
    options = smoke.SmokeOptions(
        stage=args.stage, timeout=timeout, sample=Path(args.sample), token=env.get(smoke.TOKEN_VARIABLE) or None
    )
    began = time.monotonic()
    try:
        smoke.run_smoke(options, client, out=out, http=http, clock=clock)
    except smoke.SmokeFailure as exc:
        print(f"vidsense smoke: stage {args.stage} failed at step '{exc.step}': {exc.saw}", file=sys.stderr)
        return EXIT_FAILED
    print(f"smoke test of stage {args.stage} passed in {time.monotonic() - began:.1f} s", file=out)
    return EXIT_OK
