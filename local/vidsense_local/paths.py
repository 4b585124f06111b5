"""Where the local stack finds the repository and keeps its state (key pair, user-key secret, logs): an ignored
folder at the repo root."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def state_dir() -> Path:
    """``.local/`` at the repo root, or ``VIDSENSE_LOCAL_DIR`` (tests use a temporary folder)."""
    configured = os.environ.get("VIDSENSE_LOCAL_DIR")
    path = Path(configured) if configured else REPO_ROOT / ".local"
    path.mkdir(parents=True, exist_ok=True)
    return path
