"""The ``vidsense`` command line."""

from __future__ import annotations

import argparse
import sys

OWN_COMMANDS = ("token", "up", "demo")


def build_parser(*, with_ops: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vidsense", description="vidsense local stack and operator tools")
    commands = parser.add_subparsers(dest="command", required=True)

    token = commands.add_parser("token", help="print a JWT the local stack's authorizer accepts")
    token.add_argument("email")
    token.add_argument("--groups", default="", help="comma-separated cognito:groups, e.g. reviewers")
    token.add_argument("--expires-in", type=int, default=3600, metavar="SECONDS")

    commands.add_parser("up", help="run the local stack in the foreground (what make up runs)")
    commands.add_parser("demo", help="run the demo against a running stack, or one started for the run")
    if with_ops:
        # Operator commands (replay, replays, dlq, status) register themselves and set ``run``; their imports
        # (boto3, the event models) take seconds, so `token`/`up`/`demo` skip them.
        from vidsense_local.ops import commands as ops_commands  # noqa: PLC0415

        ops_commands.register(commands)
    return parser


def _token(args: argparse.Namespace) -> int:
    # Works without the stack: the key pair lives in .local/ and is made here if missing.
    from vidsense_local.auth import issue_token, load_or_create_key  # noqa: PLC0415 - keep `token` fast

    groups = [g.strip() for g in str(args.groups).split(",") if g.strip()]
    if args.expires_in <= 0:
        print("--expires-in must be positive", file=sys.stderr)
        return 2
    print(issue_token(load_or_create_key(), args.email, groups=groups, expires_in=args.expires_in))
    return 0


def main(argv: list[str] | None = None) -> int:
    arguments = argv if argv is not None else sys.argv[1:]
    with_ops = not (arguments and arguments[0] in OWN_COMMANDS)
    parser = build_parser(with_ops=with_ops)
    if with_ops:
        from vidsense_local.ops.commands import attach_relative_times  # noqa: PLC0415 - loaded by build_parser

        arguments = attach_relative_times(arguments)
    args = parser.parse_args(arguments)
    if args.command == "token":
        return _token(args)
    if args.command == "up":
        from vidsense_local.stack import exit_now  # noqa: PLC0415 - heavy: moto, engines
        from vidsense_local.stack import main as stack_main  # noqa: PLC0415

        exit_now(stack_main())
    if args.command == "demo":
        from vidsense_local.demo import main as demo_main  # noqa: PLC0415
        from vidsense_local.stack import exit_now  # noqa: PLC0415

        exit_now(demo_main())
    run = getattr(args, "run", None)
    if run is not None:
        return int(run(args))
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
