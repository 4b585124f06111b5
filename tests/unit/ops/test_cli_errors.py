"""The operator CLI reaches the local stack with no environment, and says what is wrong in one line (exit 2).

Cases: no region, no credentials, endpoint unreachable, access denied, unknown stage; ``AWS_REGION`` honoured.
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from vidsense_local.cli import main as cli_main
from vidsense_ops import clients, commands
from vidsense_ops.clients import StageAws
from vidsense_shared.resources import LOCAL_STAGE, StageResources

VIDSENSE = Path(sys.executable).parent / "vidsense"  # the console script pyproject.toml installs


@pytest.fixture
def no_aws_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No AWS variable, config file or instance metadata: only what each test sets."""
    for name in list(os.environ):
        if name.startswith("AWS_") or name == "VIDSENSE_AWS_PORT":
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def fake_credentials(no_aws_config: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


def _with_archive(region: str, stage: str) -> None:
    events = boto3.client("events", region)
    names = StageResources(stage)
    bus_arn = events.create_event_bus(Name=names.bus)["EventBusArn"]
    events.create_archive(ArchiveName=names.archive, EventSourceArn=bus_arn)


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    assert "Traceback" not in err
    return lines[0]


# -- in process, through the CLI's main ---------------------------------------------------------------------------


def test_no_region_is_one_line_exit_2(fake_credentials: None, capsys: pytest.CaptureFixture[str]) -> None:
    # Given credentials but no region anywhere
    # When listing a real stage's replays
    code = cli_main(["replays", "--stage", "prod"])

    # Then one line names the variable to set
    line = _one_line(capsys.readouterr().err)
    assert code == 2
    assert line.startswith("vidsense replays: no AWS region") and "AWS_REGION" in line


def test_no_credentials_is_one_line_exit_2(
    no_aws_config: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    code = cli_main(["dlq", "list", "--stage", "prod"])
    line = _one_line(capsys.readouterr().err)
    assert code == 2
    assert "no AWS credentials" in line and "AWS_PROFILE" in line


def test_aws_region_alone_sets_the_region(
    fake_credentials: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given only AWS_REGION (what the AWS CLI v2 and Lambda use; boto3 reads AWS_DEFAULT_REGION)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    with mock_aws():
        _with_archive("eu-west-1", "prod")

        # When listing the stage's replays
        code = cli_main(["replays", "--stage", "prod"])

    # Then the stage was found in eu-west-1
    assert (code, capsys.readouterr().err) == (0, "")  # in any other region: no stage prod
    assert clients.stage_aws("prod").region == "eu-west-1"


def test_aws_default_region_still_wins_as_in_boto3(fake_credentials: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    assert clients.stage_aws("prod").region == "eu-central-1"


def test_unknown_stage_is_one_line_exit_2(
    fake_credentials: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a region whose account has stage prod but not stage prdo
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    with mock_aws():
        _with_archive("us-east-1", "prod")

        # When replaying a mistyped stage
        code = cli_main(["replay", "--stage", "prdo", "--from", "-1h"])

    # Then one line says the stage is not there and where we looked
    line = _one_line(capsys.readouterr().err)
    assert code == 2
    assert "no stage 'prdo' in region us-east-1" in line and "vidsense-prdo-bus" in line


def test_any_other_aws_error_is_one_line_exit_1(
    fake_credentials: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a stage whose bus exists but whose archive does not
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    with mock_aws():
        boto3.client("events", "us-east-1").create_event_bus(Name=StageResources("half").bus)
        code = cli_main(["replays", "--stage", "half"])
    line = _one_line(capsys.readouterr().err)
    assert code == 1
    assert "DescribeArchive failed: ResourceNotFoundException" in line


# -- access denied: stubbed clients behind the same boundary --------------------------------------------------------


class StubbedSession:
    """Hands out one stubbed client per service (the boundary asks a StageAws, which asks its session)."""

    region_name = "eu-west-1"

    def __init__(self) -> None:
        self.stubs: dict[str, Stubber] = {}
        self._clients: dict[str, object] = {}

    def stub(self, service: str) -> Stubber:
        client = boto3.client(service, region_name=self.region_name, aws_access_key_id="x", aws_secret_access_key="x")
        self._clients[service] = client
        self.stubs[service] = Stubber(client)
        self.stubs[service].activate()
        return self.stubs[service]

    def client(self, service: str, **_: object) -> object:
        return self._clients[service]


def _replays(session: StubbedSession) -> tuple[int, str]:
    err = io.StringIO()
    args = argparse.Namespace(command="replays", stage="prod")
    code = commands.run_guarded(
        args,
        lambda a, aws: commands.run_replays(a, out=io.StringIO(), client=aws.client),
        connect=lambda stage: StageAws(stage, session),
        err=err,
    )
    return code, err.getvalue()


@pytest.mark.parametrize("code", ["AccessDenied", "AccessDeniedException"])
def test_access_denied_is_one_line_exit_2(code: str) -> None:
    # Given an identity that may neither describe the stage's bus nor its archive
    session = StubbedSession()
    events = session.stub("events")
    events.add_client_error("describe_event_bus", service_error_code=code, http_status_code=403)
    events.add_client_error("describe_archive", service_error_code=code, http_status_code=403)

    # When listing replays
    exit_code, err = _replays(session)

    # Then the denied call (not the stage check, which it may skip) is named in one line
    line = _one_line(err)
    assert exit_code == 2
    assert line.startswith("vidsense replays: access denied") and "DescribeArchive" in line


@pytest.mark.parametrize("code", ["UnrecognizedClientException", "InvalidClientTokenId", "ExpiredTokenException"])
def test_rejected_credentials_are_one_line_exit_2(code: str) -> None:
    session = StubbedSession()
    session.stub("events").add_client_error("describe_event_bus", service_error_code=code, http_status_code=403)
    exit_code, err = _replays(session)
    line = _one_line(err)
    assert exit_code == 2
    assert "did not accept your credentials" in line and code in line


def test_a_denied_stage_check_does_not_stop_a_command_that_is_allowed() -> None:
    # Given an identity that may list replays but not describe buses
    session = StubbedSession()
    events = session.stub("events")
    events.add_client_error("describe_event_bus", service_error_code="AccessDeniedException", http_status_code=400)
    archive = StageResources("prod").archive
    arn = f"arn:aws:events:eu-west-1:123456789012:archive/{archive}"
    events.add_response("describe_archive", {"ArchiveArn": arn}, {"ArchiveName": archive})
    events.add_response("list_replays", {"Replays": []}, {"EventSourceArn": arn})

    # When listing replays, then it works
    assert _replays(session) == (0, "")


# -- the local stack: its endpoint, region and credentials, from no environment at all -----------------------------


def test_local_constants_are_the_stacks() -> None:
    from vidsense_local.stack import StackConfig  # noqa: PLC0415 - heavy: only this test needs it

    stack = StackConfig()
    assert (stack.region, stack.aws_port) == (clients.LOCAL_REGION, clients.LOCAL_DEFAULT_PORT)


def test_local_stage_ignores_the_environments_region_and_keys() -> None:
    aws = clients.stage_aws(
        "local",
        {"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKIAREAL"},
    )
    credentials = aws.session.get_credentials()
    assert (aws.region, aws.endpoint_url, credentials.access_key) == ("us-east-1", "http://127.0.0.1:4566", "test")
    assert clients.stage_aws("local", {"VIDSENSE_AWS_PORT": "4600"}).endpoint_url == "http://127.0.0.1:4600"


def _bare_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """What a plain shell has: no AWS variable and no AWS config (HOME is empty)."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), **extra}


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VIDSENSE), *args], env=env, capture_output=True, text=True, timeout=120, check=False, cwd=env["HOME"]
    )


def _moto_client(port: int, service: str, region: str) -> object:
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id="any",
        aws_secret_access_key="any",
    )


def test_local_stage_reaches_the_stack_with_no_environment(moto_server: int, tmp_path: Path) -> None:
    # Given a stack on VIDSENSE_AWS_PORT whose bus, archive and a replay exist in us-east-1 only
    events = _moto_client(moto_server, "events", "us-east-1")
    local = StageResources(LOCAL_STAGE)
    bus_arn = events.create_event_bus(Name=local.bus)["EventBusArn"]  # type: ignore[attr-defined]
    archive_arn = events.create_archive(  # type: ignore[attr-defined]
        ArchiveName=local.archive, EventSourceArn=bus_arn
    )["ArchiveArn"]
    events.start_replay(  # type: ignore[attr-defined]
        ReplayName="from-the-test",
        EventSourceArn=archive_arn,
        EventStartTime=1_700_000_000,
        EventEndTime=1_700_000_600,
        Destination={"Arn": bus_arn},
    )

    # When the real command runs with only PATH, HOME and the port in its environment
    result = _run(_bare_env(tmp_path, VIDSENSE_AWS_PORT=str(moto_server)), "replays", "--stage", "local")

    # Then it listed the stack's replay (found at 127.0.0.1:<port>, in us-east-1, with made-up credentials)
    assert (result.returncode, result.stderr) == (0, "")
    assert "from-the-test" in result.stdout


def test_local_stage_without_the_deployed_bus_is_an_unknown_stage(moto_server: int, tmp_path: Path) -> None:
    # Given something answering on the port, with no vidsense-local-bus (not deployed yet, or another tool)
    _moto_client(moto_server, "events", "eu-west-1").create_event_bus(  # type: ignore[attr-defined]
        Name=StageResources(LOCAL_STAGE).bus
    )  # a bus of that name in another region does not count
    result = _run(_bare_env(tmp_path, VIDSENSE_AWS_PORT=str(moto_server)), "dlq", "list", "--stage", "local")
    line = _one_line(result.stderr)
    assert result.returncode == 2
    assert f"the local stack at http://127.0.0.1:{moto_server} has no vidsense-local-bus" in line


def test_local_stack_down_is_one_line_exit_2(tmp_path: Path) -> None:
    # Given a port that is bound but not listening: connections to it are refused, and nobody else can take it
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]

        # When the real command runs against it
        result = _run(_bare_env(tmp_path, VIDSENSE_AWS_PORT=str(port)), "replay", "--stage", "local", "--from", "-1h")

    # Then one line says the stack is not reachable and how to start it: no traceback
    line = _one_line(result.stderr)
    assert result.returncode == 2
    assert line == (
        f"vidsense replay: cannot reach the local stack at http://127.0.0.1:{port}: start it with `make up`,"
        " or set VIDSENSE_AWS_PORT to the port it runs on"
    )
    assert result.stdout == ""


def test_ctrl_c_while_following_a_replay_is_one_line() -> None:
    def interrupted(args: argparse.Namespace, aws: object) -> int:
        raise KeyboardInterrupt

    err = io.StringIO()
    args = argparse.Namespace(command="replay", stage="prod")
    code = commands.run_guarded(args, interrupted, connect=lambda stage: StageAws(stage, StubbedSession()), err=err)
    assert (code, err.getvalue()) == (130, "vidsense replay: interrupted\n")
