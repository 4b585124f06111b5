"""Cold init (issue 14, item 3): one botocore data load per process, only botocore patched for tracing.

Each botocore session loads the endpoint and model data anew; the X-Ray SDK creates two clients of its own when
imported. Run in a fresh process with Lambda's variables (the Tracer is on there), as a cold start is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
SERVICES = ("ingest", "transcode", "nlp")
HANDLER_MODULES = sorted(
    f"{service}.handlers.{path.stem}"
    for service in SERVICES
    for path in (REPO / "services" / service / "src" / service / "handlers").glob("*.py")
    if path.stem != "__init__"
)

COLD_START = """
import json
import botocore.loaders

loaders = []
original = botocore.loaders.Loader.__init__

def counted(self, *args, **kwargs):
    loaders.append(self)
    original(self, *args, **kwargs)

botocore.loaders.Loader.__init__ = counted

from aws_xray_sdk.core import patcher
from vidsense_shared import aws, observability

observability.tracer()  # as a handler module's decorators create it, where tracing is on
for service in ("dynamodb", "s3", "ssm", "events"):
    aws.client(service)
print(json.dumps({
    "loaders": len(loaders),
    "tracing": not observability.tracer().disabled,
    "patched": sorted(patcher._PATCHED_MODULES),
}))
"""


def test_a_cold_start_loads_botocore_data_once_and_patches_only_botocore():
    # Given a fresh process with Lambda's environment (tracing on)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO / "shared"),
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_LAMBDA_FUNCTION_NAME": "vidsense-test-cold",
        "LAMBDA_TASK_ROOT": str(REPO),
        "POWERTOOLS_SERVICE_NAME": "test",
    }
    # When the observability module is imported and four clients are created
    proc = subprocess.run(
        [sys.executable, "-c", COLD_START], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    outcome = json.loads(proc.stdout.strip().splitlines()[-1])
    # Then the X-Ray SDK and every client share one botocore session's data, and only botocore is patched
    assert outcome == {"loaders": 1, "tracing": True, "patched": ["botocore"]}


def test_where_tracing_is_off_no_handler_imports_the_xray_sdk():
    # Given a fresh process outside Lambda (tracing off, as in the local stack and the tests)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(REPO / "shared")] + [str(REPO / "services" / s / "src") for s in SERVICES]),
    }
    code = "import importlib, sys\n" + "".join(f"importlib.import_module({m!r})\n" for m in HANDLER_MODULES)
    code += "print(sorted(m for m in sys.modules if m.startswith('aws_xray_sdk')))"
    # When every handler module is imported (its decorator stack built)
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    # Then the X-Ray SDK was never imported
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "[]"


FROZEN_AFTER_INIT = """
import gc, importlib, json
importlib.import_module("nlp.handlers.analyze")
importlib.import_module("nlp.composition").analyzer()  # its settings and four clients, as the first invocation
print(json.dumps({"frozen": gc.get_freeze_count(), "tracked": len(gc.get_objects())}))
"""


def _init_objects(env: dict[str, str]) -> dict[str, int]:
    env = {
        **env,
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(REPO / "shared")] + [str(REPO / "services" / s / "src") for s in SERVICES]),
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "STAGE": "prod",
        "METADATA_TABLE": "vidsense-prod-metadata",
        "EVENT_BUS_NAME": "vidsense-prod-bus",
        "TRANSCRIPT_RETENTION_DAYS": "30",
    }
    proc = subprocess.run(
        [sys.executable, "-c", FROZEN_AFTER_INIT], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    counts: dict[str, int] = json.loads(proc.stdout.strip().splitlines()[-1])
    return counts


def test_in_lambda_what_the_init_built_is_frozen_out_of_the_collectors_scans():
    # Given a fresh process with Lambda's environment
    # When a handler module is imported and its use case built (settings, clients)
    counts = _init_objects({"LAMBDA_TASK_ROOT": str(REPO), "AWS_LAMBDA_FUNCTION_NAME": "vidsense-test-cold"})
    # Then nearly every object the init left is in the permanent generation: no collection scans it again
    assert counts["frozen"] >= 0.9 * (counts["frozen"] + counts["tracked"]), counts


def test_outside_lambda_nothing_is_frozen():
    # Given a fresh process outside Lambda (tests, the local stack's workers)
    counts = _init_objects({})
    # Then the init's objects stay with the collector (a garbage cycle among them can still be collected)
    assert counts["frozen"] < 0.1 * counts["tracked"], counts


# A function's handler module and its builder, and modules of the service's other functions it must not load.
OWN_PATH_ONLY = {
    ("transcode.handlers.erase", "answer_eraser"): (
        "transcode.domain.start_transcode",
        "transcode.domain.start_transcription",
        "transcode.domain.reconcile",
        "transcode.adapters.mediaconvert",
    ),
    ("nlp.handlers.erase", "answer_eraser"): ("nlp.domain.analysis", "nlp.adapters.comprehend"),
    ("ingest.handlers.upload_landed", "upload_recorder"): (
        "ingest.domain.answer_api",
        "ingest.adapters.secrets",
        "ingest.adapters.recording_limits",
    ),
}


def test_a_functions_init_loads_its_own_use_case_not_the_other_functions():
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(REPO / "shared")] + [str(REPO / "services" / s / "src") for s in SERVICES]),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "STAGE": "prod",
        "METADATA_TABLE": "vidsense-prod-metadata",
        "ANSWERS_TABLE": "vidsense-prod-answers",
        "JOBS_TABLE": "vidsense-prod-jobs",
        "WORK_BUCKET": "vidsense-prod-work",
        "MEDIA_BUCKET": "vidsense-prod-media",
        "EVENT_BUS_NAME": "vidsense-prod-bus",
    }
    for (handler_module, builder), others in OWN_PATH_ONLY.items():
        # Given a fresh process
        # When the handler module is imported and its use case built, as its first invocation does
        composition = handler_module.split(".")[0] + ".composition"
        code = (
            f"import importlib, sys\nimportlib.import_module({handler_module!r})\n"
            f"getattr(importlib.import_module({composition!r}), {builder!r})()\n"
            f"print(sorted(m for m in {others!r} if m in sys.modules))"
        )
        proc = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=False
        )
        # Then none of the service's other functions' use cases or adapters was loaded
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert proc.stdout.strip().splitlines()[-1] == "[]", handler_module
