"""``python -m vidsense_ops``: the operator CLI without its console script."""

from vidsense_ops.cli import main

raise SystemExit(main())
