"""The nlp domain stays pure: importing it loads no AWS SDK and reads no environment."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

_PROBE = """
import json, os, sys
os.environ.clear()
import nlp.domain.analysis, nlp.domain.chunking, nlp.domain.language, nlp.domain.record
import nlp.domain.scoring, nlp.domain.transcript
domain_only = [m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')]
import nlp.handlers.analyze
print(json.dumps({"sdk_after_domain": domain_only, "handler_imported": "nlp.handlers.analyze" in sys.modules}))
"""


def test_domain_imports_no_aws_sdk_and_handler_imports_without_environment():
    # Given a clean interpreter with no environment, When the domain modules and then the handler are imported
    result = subprocess.run(
        [sys.executable, "-c", _PROBE],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": f"{ROOT / 'shared'}:{ROOT / 'services/nlp/src'}"},
    )
    # Then the domain loaded neither boto3 nor botocore, and the handler module imported with no environment
    # at all (adapters are built on first use)
    assert json.loads(result.stdout) == {"sdk_after_domain": [], "handler_imported": True}
