"""make bench-cold's processes: the builders are found beforehand, the measured one only imports and builds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from vidsense_bench.cold import BARE, FIND_BUILDERS, INIT

REPO = Path(__file__).resolve().parents[3]
ENV = {
    "PATH": os.environ.get("PATH", ""),
    "PYTHONPATH": os.pathsep.join(
        [str(REPO / "shared")] + [str(REPO / "services" / s / "src") for s in ("ingest", "transcode", "nlp")]
    ),
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "STAGE": "prod",
    "METADATA_TABLE": "vidsense-prod-metadata",
    "EVENT_BUS_NAME": "vidsense-prod-bus",
    "TRANSCRIPT_RETENTION_DAYS": "30",
}


def _python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=ENV, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_pre_pass_names_the_builders_and_the_measured_process_runs_them():
    # Given the analyze handler, whose module calls composition.analyzer()
    # When the pre-pass looks for its builders
    found = _python(FIND_BUILDERS, "nlp.handlers.analyze", "handler")
    # Then it names them as module:name
    assert found.returncode == 0, found.stderr[-2000:]
    assert found.stdout.split() == ["nlp.composition:analyzer"]
    # And the measured process, which reads no source, imports the handler and builds its use case once
    assert "inspect" not in INIT
    report = "import sys\nprint(sys.modules['nlp.composition'].analyzer.cache_info().currsize)\nsys.stdout.flush()\n"
    init = _python(
        INIT.replace("os._exit(0)", report + "os._exit(0)"), "nlp.handlers.analyze", "handler", *found.stdout.split()
    )
    assert init.returncode == 0, init.stderr[-2000:]
    assert init.stdout.split() == ["1"]


def test_the_bare_handler_creates_its_client_and_exits_without_the_teardown():
    bare = _python(BARE + "raise SystemExit(3)\n")
    assert bare.returncode == 0, bare.stderr[-2000:]
