"""Given `serverless deploy --stage local` of each service into the edge (as make up runs it), the runtime
discovers the 8 functions of the architecture contract with their deployed environments, triggers and HTTP routes,
and wires what moto's CloudFormation skipped. Skipped when the npm packages are not installed (make setup installs
them)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.integration.local.conftest import ACCOUNT, REGION, Stack
from vidsense_local.deploy_cache import DeployCache, DeployFailed, default_cache_dir, deploy_stage
from vidsense_local.deployer import LOCAL_MONITORING_FREQUENCY_MS, stage_deploy_tree
from vidsense_shared.resources import LOCAL_STAGE, StageResources

REPO = Path(__file__).resolve().parents[3]
SERVERLESS_IN_TREE = Path("node_modules") / ".bin" / "serverless"
SERVERLESS = REPO / SERVERLESS_IN_TREE
LOCAL = StageResources(LOCAL_STAGE)
API = LOCAL.function("ingest", "api")
MEDIA = LOCAL.media_bucket(ACCOUNT)
ON_COMPLETE = f"arn:aws:sns:{REGION}:{ACCOUNT}:vidsense-local-on-complete"


def _contract() -> dict[str, tuple[str, set[str], str]]:
    """docs/architecture.md's function table and settings: name -> (handler, required settings, trigger text)."""
    doc = (REPO / "docs" / "architecture.md").read_text()
    functions = re.findall(r"^\| (\w+) \| `(\w+)` \| `([\w.]+)` \| (.+) \|$", doc, flags=re.MULTILINE)
    settings_text = doc.split("## Settings", 1)[1].split("\n## ", 1)[0]
    bullets = re.split(r"\n- ", settings_text.replace("\n  ", " "))
    settings: dict[tuple[str, str], set[str]] = {}
    for bullet in bullets:
        head = re.match(r"(\w+) `(\w+)`: (.*)", bullet.split("\n", 1)[0])
        if head:
            names = re.findall(r"`([A-Z][A-Z_]+)`(\s*\((?:optional|default|stage param))?", head.group(3))
            settings[(head.group(1), head.group(2))] = {n for n, marked in names if not marked}
    return {
        LOCAL.function(svc, fn): (handler, settings.get((svc, fn), set()), trigger)
        for svc, fn, handler, trigger in functions
    }


EXPECTED = _contract()


def _expected_trigger_prefixes(trigger: str) -> list[str]:
    if trigger.startswith("HTTP API"):
        return [f"http {route}" for route in re.findall(r"`(GET [^`]+)`", trigger)]
    if trigger.startswith("S3"):
        return [f"s3 {MEDIA} s3:ObjectCreated:*"]
    if trigger.startswith("SNS"):
        return [f"sns {ON_COMPLETE}"]
    if trigger.startswith("schedule"):
        return [f"schedule {re.search(r'rate\([^)]+\)', trigger).group(0)}"]  # type: ignore[union-attr]
    if trigger.startswith("default-bus rule"):
        return ["rule default/"]
    if trigger.startswith("bus rule"):
        return [f"rule {LOCAL.bus}/"]
    raise AssertionError(f"unknown trigger kind in the contract: {trigger}")


@pytest.fixture(scope="module")
def deployed(stack: Stack) -> float:
    if not SERVERLESS.exists():
        pytest.skip("node_modules/.bin/serverless missing: run make setup")
    stack.client("ssm").put_parameter(
        Name=LOCAL.user_key_parameter, Value="k" * 64, Type="SecureString", Overwrite=True
    )
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": stack.url,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "PATH": f"{SERVERLESS.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        # As make up: the edge completes a stack change within its request, no need to wait 5 s between polls.
        "SLS_AWS_MONITORING_FREQUENCY": LOCAL_MONITORING_FREQUENCY_MS,
    }
    outputs: list[str] = []

    def run(command: list[str], cwd: Path) -> int:
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=1200, check=False)
        outputs.append(done.stdout[-3000:] + done.stderr[-3000:])
        return done.returncode

    # As make up deploys: from a private copy of the tree, service by service in compose order, reusing the
    # package of an earlier deploy whose inputs were the same (the clone's deploy cache).
    started = time.monotonic()
    tree = stage_deploy_tree()
    try:
        deploy_stage(
            tree, LOCAL_STAGE, env, run, DeployCache(default_cache_dir(REPO)), serverless=tree / SERVERLESS_IN_TREE
        )
    except DeployFailed as failed:
        pytest.fail(f"{failed}:\n{outputs[-1]}")
    finally:
        shutil.rmtree(tree, ignore_errors=True)
    elapsed = time.monotonic() - started
    stack.runtime.refresh()
    return elapsed


def test_contract_is_parsed() -> None:
    assert len(EXPECTED) >= 8
    assert EXPECTED[API][0] == "ingest.handlers.api.handler"
    assert {"MEDIA_BUCKET", "USER_KEY_PARAMETER"} <= EXPECTED[API][1]
    assert "MEDIACONVERT_ENDPOINT" not in EXPECTED[LOCAL.function("transcode", "startTranscode")][1]


def test_runtime_discovers_every_contract_function_with_its_deployed_environment(stack: Stack, deployed: float) -> None:
    specs = {f.name: f for f in stack.runtime.functions() if f.name.startswith("vidsense-")}
    assert set(specs) == set(EXPECTED), "deployed functions differ from docs/architecture.md"
    lam = stack.client("lambda")
    for name, (handler, settings, _) in EXPECTED.items():
        spec = specs[name]
        assert spec.handler == handler
        assert spec.environment == lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
        assert settings | {"STAGE", "POWERTOOLS_SERVICE_NAME", "LOG_LEVEL"} <= set(spec.environment)
        assert spec.environment["STAGE"] == LOCAL_STAGE
        assert spec.stack_name is not None
        env = stack.runtime.worker_environment(spec)
        assert env["AWS_ENDPOINT_URL"] == stack.url
        assert env["_HANDLER"] == handler
    # Failure paths: every event-driven function keeps failed events (destination or DLQ).
    for name in set(EXPECTED) - {API}:
        assert specs[name].on_failure_destination or specs[name].dead_letter_target, name


def test_triggers_and_routes_come_from_the_deployed_templates(stack: Stack, deployed: float) -> None:
    deployment = stack.runtime.deployment
    for name, (_, _, trigger) in EXPECTED.items():
        triggers = deployment.triggers_of(name)
        for prefix in _expected_trigger_prefixes(trigger):
            assert any(t.startswith(prefix) for t in triggers), (name, prefix, triggers)
    routes = {r.route_key: r for r in stack.runtime.http_routes() if r.stack_name == LOCAL.stack("ingest")}
    assert len(routes) >= 3
    for route in routes.values():
        assert route.function == API
        assert route.authorizer is not None
        assert route.authorizer.issuer.startswith("http://127.0.0.1:")
        assert route.authorizer.audiences == ("vidsense-local",)


def test_skipped_resources_are_wired_in_moto(stack: Stack, deployed: float) -> None:
    subs = stack.client("sns").list_subscriptions_by_topic(TopicArn=ON_COMPLETE)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"].rsplit(":", 1)[-1]) for s in subs] == [
        ("lambda", LOCAL.function("transcode", "relayTranscoderEvents"))
    ]
    notes = stack.client("s3").get_bucket_notification_configuration(Bucket=MEDIA)["LambdaFunctionConfigurations"]
    assert [n["LambdaFunctionArn"].rsplit(":", 1)[-1] for n in notes] == [LOCAL.function("ingest", "uploadLanded")]
    print(f"serverless deploy --stage local took {deployed:.1f} s")
