"""The ``vidsense`` command of the repository's ``.venv``: the operator CLI (vidsense_ops) plus the local stack's
own commands, ``token``, ``up`` and ``demo``, registered on the same parser."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from vidsense_ops import cli as ops_cli

OWN_COMMANDS = ("token", "up", "demo")
DESCRIPTION = "vidsense local stack and operator tools"


def register(commands: Any) -> None:
    """The local stack's subcommands; each sets ``run`` like the operator commands do."""
    token = commands.add_parser("token", help="print a JWT the local stack's authorizer accepts")
    token.add_argument("email")
    token.add_argument("--groups", default="", help="comma-separated cognito:groups, e.g. reviewers")
    token.add_argument("--expires-in", type=int, default=3600, metavar="SECONDS")
    token.set_defaults(run=_token)

    up = commands.add_parser("up", help="run the local stack in the foreground (what make up runs)")
    up.set_defaults(run=_up)
    demo = commands.add_parser("demo", help="run the demo against a running stack, or one started for the run")
    demo.set_defaults(run=_demo)


def build_parser(*, with_ops: bool = True) -> argparse.ArgumentParser:
    return ops_cli.build_parser(register, with_ops=with_ops, description=DESCRIPTION)


def _token(args: argparse.Namespace) -> int:
    # Works without the stack: the key pair lives in .local/ and is made here if missing.
    from vidsense_local.auth import issue_token, load_or_create_key  # noqa: PLC0415 - keep `token` fast

    groups = [g.strip() for g in str(args.groups).split(",") if g.strip()]
    if args.expires_in <= 0:
        print("--expires-in must be positive", file=sys.stderr)
        return 2
    print(issue_token(load_or_create_key(), args.email, groups=groups, expires_in=args.expires_in))
    return 0


def _up(_: argparse.Namespace) -> int:
    from vidsense_local.stack import exit_now  # noqa: PLC0415 - heavy: moto, engines
    from vidsense_local.stack import main as stack_main  # noqa: PLC0415

    exit_now(stack_main())


def _demo(_: argparse.Namespace) -> int:
    from vidsense_local.demo import main as demo_main  # noqa: PLC0415
    from vidsense_local.stack import exit_now  # noqa: PLC0415

    exit_now(demo_main())


def main(argv: list[str] | None = None) -> int:
    return ops_cli.main(argv, extend=register, own_commands=OWN_COMMANDS, description=DESCRIPTION)


if __name__ == "__main__":
    raise SystemExit(main())
