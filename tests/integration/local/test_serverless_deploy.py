"""Given `serverless deploy --stage local` into the edge, the runtime discovers the 8 functions of the
architecture contract with their deployed environments, triggers and HTTP routes, and wires what moto's
CloudFormation skipped. Skipped when the npm packages are not installed (make setup installs them)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.integration.local.conftest import ACCOUNT, REGION, Stack

REPO = Path(__file__).resolve().parents[3]
SERVERLESS = REPO / "node_modules" / ".bin" / "serverless"
MEDIA = f"vidsense-local-media-{ACCOUNT}"
ON_COMPLETE = f"arn:aws:sns:{REGION}:{ACCOUNT}:vidsense-local-on-complete"

# docs/architecture.md: function -> (handler, settings it must be deployed with, trigger)
EXPECTED = {
    "vidsense-ingest-local-api": (
        "ingest.handlers.api.handler",
        {"MEDIA_BUCKET", "ANSWERS_TABLE", "USER_KEY_PARAMETER", "MAX_UPLOAD_BYTES", "PRESIGN_EXPIRES_SECONDS"},
        "http GET /presignedurl/{project}/{step}",
    ),
    "vidsense-ingest-local-uploadLanded": (
        "ingest.handlers.upload_landed.handler",
        {"MEDIA_BUCKET", "ANSWERS_TABLE", "EVENT_BUS_NAME", "MAX_UPLOAD_BYTES"},
        f"s3 {MEDIA} s3:ObjectCreated:*",
    ),
    "vidsense-ingest-local-projectAnswers": (
        "ingest.handlers.projector.handler",
        {"ANSWERS_TABLE"},
        "rule vidsense-local-bus/",
    ),
    "vidsense-transcode-local-startTranscode": (
        "transcode.handlers.start_transcode.handler",
        {"JOBS_TABLE", "WORK_BUCKET", "MEDIACONVERT_ROLE_ARN", "EVENT_BUS_NAME"},
        "rule vidsense-local-bus/",
    ),
    "vidsense-transcode-local-relayTranscoderEvents": (
        "transcode.handlers.relay.handler",
        {"EVENT_BUS_NAME"},
        f"sns {ON_COMPLETE}",
    ),
    "vidsense-transcode-local-startTranscription": (
        "transcode.handlers.start_transcription.handler",
        {"WORK_BUCKET", "TRANSCRIBE_LANGUAGE", "EVENT_BUS_NAME"},
        "rule vidsense-local-bus/",
    ),
    "vidsense-transcode-local-transcriptionCompleted": (
        "transcode.handlers.transcription_completed.handler",
        {"WORK_BUCKET", "EVENT_BUS_NAME"},
        "rule default/",
    ),
    "vidsense-nlp-local-analyzeSentiment": (
        "nlp.handlers.analyze.handler",
        {"METADATA_TABLE", "EVENT_BUS_NAME"},
        "rule vidsense-local-bus/",
    ),
}


@pytest.fixture(scope="module")
def deployed(stack: Stack) -> float:
    if not SERVERLESS.exists():
        pytest.skip("node_modules/.bin/serverless missing: run make setup")
    stack.client("ssm").put_parameter(
        Name="/vidsense/local/user-key-secret", Value="k" * 64, Type="SecureString", Overwrite=True
    )
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": stack.url,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "PATH": f"{SERVERLESS.parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    started = time.monotonic()
    done = subprocess.run(
        [str(SERVERLESS), "deploy", "--stage", "local"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    elapsed = time.monotonic() - started
    stack.runtime.refresh()
    return elapsed


def test_runtime_discovers_the_eight_functions_with_their_deployed_environment(stack: Stack, deployed: float) -> None:
    specs = {f.name: f for f in stack.runtime.functions() if f.name.startswith("vidsense-")}
    assert set(specs) == set(EXPECTED)
    lam = stack.client("lambda")
    for name, (handler, settings, _) in EXPECTED.items():
        spec = specs[name]
        assert spec.handler == handler
        assert spec.environment == lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
        assert settings | {"STAGE", "POWERTOOLS_SERVICE_NAME", "LOG_LEVEL"} <= set(spec.environment)
        assert spec.environment["STAGE"] == "local"
        assert spec.stack_name is not None
        env = stack.runtime.worker_environment(spec)
        assert env["AWS_ENDPOINT_URL"] == stack.url
        assert env["_HANDLER"] == handler
    # Failure paths: every event-driven function keeps failed events (destination or DLQ).
    for name in set(EXPECTED) - {"vidsense-ingest-local-api"}:
        assert specs[name].on_failure_destination or specs[name].dead_letter_target, name


def test_triggers_and_routes_come_from_the_deployed_templates(stack: Stack, deployed: float) -> None:
    deployment = stack.runtime.deployment
    for name, (_, _, trigger) in EXPECTED.items():
        triggers = deployment.triggers_of(name)
        assert any(t.startswith(trigger) for t in triggers), (name, triggers)
    routes = {r.route_key: r for r in stack.runtime.http_routes()}
    assert {
        "GET /presignedurl/{project}/{step}",
        "GET /answers/{project}/{step}",
        "GET /projects/{project}/steps/{step}/answers",
    } <= set(routes)
    for route in routes.values():
        assert route.function_name == "vidsense-ingest-local-api"
        assert route.authorizer is not None
        assert route.authorizer.issuer.startswith("http://127.0.0.1:")
        assert route.authorizer.audience == ("vidsense-local",)


def test_skipped_resources_are_wired_in_moto(stack: Stack, deployed: float) -> None:
    subs = stack.client("sns").list_subscriptions_by_topic(TopicArn=ON_COMPLETE)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"].rsplit(":", 1)[-1]) for s in subs] == [
        ("lambda", "vidsense-transcode-local-relayTranscoderEvents")
    ]
    notes = stack.client("s3").get_bucket_notification_configuration(Bucket=MEDIA)["LambdaFunctionConfigurations"]
    assert [n["LambdaFunctionArn"].rsplit(":", 1)[-1] for n in notes] == ["vidsense-ingest-local-uploadLanded"]
    print(f"serverless deploy --stage local took {deployed:.1f} s")
