"""The operator ``vidsense`` command: ``replay``, ``replays``, ``dlq``, ``status``, ``smoke``.

This is the whole CLI of the standalone install (``pip install ./shared ./ops``: boto3 and vidsense_shared only).
The repository's ``.venv`` runs ``vidsense_local.cli`` instead, which registers the local stack's commands
(``token``, ``up``, ``demo``) on this same parser through ``extend``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Collection
from typing import Any

# Adds subcommands to the parser's subparsers; each sets ``run`` (args -> exit code) as its default.
Extension = Callable[[Any], None]
DESCRIPTION = "vidsense operator tools: archive replays, dead-letter queues, answer status, smoke test"


def build_parser(
    extend: Extension | None = None, *, with_ops: bool = True, description: str = DESCRIPTION
) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vidsense", description=description)
    commands = parser.add_subparsers(dest="command", required=True)
    if extend is not None:
        extend(commands)
    if with_ops:
        # The operator commands import boto3 and the event models (seconds): an extension's own commands skip them.
        from vidsense_ops import commands as ops_commands  # noqa: PLC0415

        ops_commands.register(commands)
    return parser


def main(
    argv: list[str] | None = None,
    *,
    extend: Extension | None = None,
    own_commands: Collection[str] = (),
    description: str = DESCRIPTION,
) -> int:
    """Parse and run one command; ``own_commands`` are the extension's, run without loading the operator ones."""
    arguments = argv if argv is not None else sys.argv[1:]
    with_ops = not (arguments and arguments[0] in own_commands)
    parser = build_parser(extend, with_ops=with_ops, description=description)
    if with_ops:
        from vidsense_ops.commands import attach_relative_times  # noqa: PLC0415 - loaded by build_parser

        arguments = attach_relative_times(arguments)
    args = parser.parse_args(arguments)
    run = getattr(args, "run", None)
    if run is None:
        parser.error(f"unknown command {args.command}")
    return int(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
