"""The nlp handler module imports with no environment at all: adapters and settings are built on first use.

Which modules may import which (no AWS SDK in any domain, no service importing another) is declared as import-linter
contracts in pyproject.toml and checked by `make lint`; this test covers what a static import graph cannot see.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

_PROBE = """
import json, os, sys
os.environ.clear()
import nlp.handlers.analyze
print(json.dumps({"handler_imported": "nlp.handlers.analyze" in sys.modules}))
"""


def test_handler_imports_without_environment():
    # Given a clean interpreter with no environment, When the handler module is imported
    result = subprocess.run(
        [sys.executable, "-c", _PROBE],
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": f"{ROOT / 'shared'}:{ROOT / 'services/nlp/src'}"},
    )
    # Then it imported (no settings or clients read at import time)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"handler_imported": True}
