"""``vidsense smoke``: the steps against a fake HTTP API, the stage's outputs stubbed, and the throw-away user in a
moto user pool. Each failure names its step (exit 1); a stage that cannot be found or signed in to is one line
(exit 2); whatever the run created is removed either way."""

from __future__ import annotations

import argparse
import io
import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import redirect_stderr
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import jwt
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from pipelines.definition import SMOKE_COGNITO_ACTIONS
from vidsense_local.paths import REPO_ROOT
from vidsense_ops import commands, smoke
from vidsense_ops.clients import StageAws
from vidsense_ops.smoke import STEPS, Response
from vidsense_shared.resources import StageResources

REGION = "eu-west-1"
STAGE = "dev"
NAMES = StageResources(STAGE)
API = "https://api.example.test"
UPLOAD_URL = "https://media.example.test/"
SAMPLE = b"\x1aE\xdf\xa3 a webm answer"
ANALYZED = {
    "status": "ANALYZED",
    "transcript": "I painted the hallway and fixed the tiles",
    "sentiment": "POSITIVE",
    "sentiment_score": {"Positive": 0.9, "Negative": 0.02, "Neutral": 0.07, "Mixed": 0.01},
    "error": None,
    "updated_at": "2026-12-01T18:00:00Z",
}
STEP_LINE = re.compile(r"^(ok  |FAIL) (?P<step>.+?) +\d+\.\d s")


@dataclass
class FakeClock:
    now: float = 0.0
    sleeps: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def as_clock(self) -> smoke.Clock:
        return smoke.Clock(monotonic=self.monotonic, sleep=self.sleep)


@dataclass
class FakeStageApi:
    """The stage's HTTP API and the media bucket's form POST, as scripted answers; records every request."""

    views: list[tuple[int, dict[str, Any]]] = field(default_factory=lambda: [(404, {}), (200, ANALYZED)])
    presign_status: int = 200
    upload_status: int = 204
    delete_status: int = 202
    gone_after: int = 1  # GETs after the DELETE that still find the answer
    requests: list[tuple[str, str, Mapping[str, str], bytes | None]] = field(default_factory=list)
    erased: bool = False

    def __call__(
        self, method: str, url: str, *, headers: Mapping[str, str] | None = None, body: bytes | None = None
    ) -> Response:
        self.requests.append((method, url, dict(headers or {}), body))
        if url == UPLOAD_URL:
            return Response(self.upload_status, {}, b"")
        path = url.removeprefix(API)
        if path.startswith("/presignedurl/"):
            project = path.split("/")[2]
            form = {
                "key": f"{project}/1/{'a' * 64}.webm",
                "expires_in": 600,
                "upload": {"url": UPLOAD_URL, "fields": {"key": "k", "policy": "p"}, "method": "POST"},
            }
            return _json(self.presign_status, form if self.presign_status == 200 else {"message": "Forbidden"})
        if method == "DELETE":
            self.erased = self.delete_status == 202
            return _json(self.delete_status, {"message": "erasing"})
        if self.erased:
            if self.gone_after <= 0:
                return _json(404, {"message": "Not Found"})
            self.gone_after -= 1
            return _json(200, {**ANALYZED, "status": "DELETING"})
        status, view = self.views.pop(0) if len(self.views) > 1 else self.views[0]
        return _json(status, view)

    def bearer_tokens(self) -> set[str]:
        return {h["Authorization"] for _, url, h, _ in self.requests if url.startswith(API)}

    def calls(self, method: str) -> list[str]:
        return [url for m, url, _, _ in self.requests if m == method]


def _json(status: int, body: Any) -> Response:
    return Response(status, {"Content-Type": "application/json"}, json.dumps(body).encode())


def _outputs(**extra: str) -> dict[str, Any]:
    outputs = {"HttpApiUrl": API, "IdentityProvider": "cognito", "Issuer": "https://issuer.example.test/x", **extra}
    return {
        "Stacks": [
            {
                "StackName": NAMES.stack("ingest"),
                "CreationTime": "2026-12-01T00:00:00Z",
                "StackStatus": "UPDATE_COMPLETE",
                "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
            }
        ]
    }


class FakeSession:
    """What StageAws asks a session for: the test's clients."""

    region_name = REGION

    def __init__(self, clients: dict[str, Any]) -> None:
        self.clients = clients

    def client(self, service: str, **_: Any) -> Any:
        return self.clients[service]


@dataclass
class Stage:
    """A dev stage: the ingest stack's outputs (stubbed), its bus, and its user pool in moto."""

    pool: str
    client_id: str
    cognito: Any
    cloudformation: Any
    stubber: Stubber
    events: Any
    cognito_actions: list[str] = field(default_factory=list)

    def describe(self, response: dict[str, Any]) -> None:
        self.stubber.add_response("describe_stacks", response, {"StackName": NAMES.stack("ingest")})

    def with_outputs(self, identity: str = "cognito") -> None:
        if identity == "cognito":
            self.describe(_outputs(IdentityProvider="cognito", UserPoolId=self.pool, UserPoolClientId=self.client_id))
        else:
            self.describe(_outputs(IdentityProvider="external"))

    def connect(self, stage: str) -> StageAws:
        assert stage == STAGE
        clients = {"cloudformation": self.cloudformation, "cognito-idp": self.cognito, "events": self.events}
        return StageAws(stage, FakeSession(clients))

    def users(self) -> list[str]:
        return [
            a["Value"]
            for u in self.cognito.list_users(UserPoolId=self.pool)["Users"]
            for a in u["Attributes"]
            if a["Name"] == "email"
        ]


@pytest.fixture
def stage(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stage]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        cognito = boto3.client("cognito-idp", REGION)
        pool = cognito.create_user_pool(
            PoolName="vidsense-dev-users",
            UsernameAttributes=["email"],
            Policies={"PasswordPolicy": {"MinimumLength": 12, "RequireUppercase": True, "RequireNumbers": True}},
        )["UserPool"]["Id"]
        client_id = cognito.create_user_pool_client(
            UserPoolId=pool,
            ClientName="vidsense-dev-web",
            GenerateSecret=False,
            ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
        events = boto3.client("events", REGION)
        events.create_event_bus(Name=NAMES.bus)
        cloudformation = boto3.client("cloudformation", REGION)
        stubber = Stubber(cloudformation)
        stubber.activate()
        found = Stage(pool, client_id, cognito, cloudformation, stubber, events)

        def record(event_name: str, **_: Any) -> None:
            found.cognito_actions.append("cognito-idp:" + event_name.rsplit(".", 1)[1])

        cognito.meta.events.register("before-call.cognito-idp", record)
        yield found
        stubber.deactivate()


def _smoke(
    stage: Stage,
    api: FakeStageApi,
    *,
    argv: tuple[str, ...] = (),
    environ: Mapping[str, str] | None = None,
    clock: FakeClock | None = None,
    sample: Path | None = None,
) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser()
    commands.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["smoke", "--stage", STAGE, *argv])
    if sample is not None:
        args.sample = sample
    out, err = io.StringIO(), io.StringIO()
    the_clock = (clock or FakeClock()).as_clock()
    stage.cognito_actions.clear()

    def command(args: argparse.Namespace, aws: Any) -> int:
        return commands.run_smoke(args, out=out, client=aws.client, environ=environ or {}, http=api, clock=the_clock)

    with redirect_stderr(err):
        code = commands.run_guarded(args, command, connect=stage.connect, err=err)
    return code, out.getvalue(), err.getvalue()


def _steps(out: str) -> list[str]:
    return [m.group("step") for m in map(STEP_LINE.match, out.splitlines()) if m]


# -- the whole run -------------------------------------------------------------------------------------------------


def test_cognito_stage_passes_every_step_as_a_throwaway_user_that_is_removed_afterwards(stage: Stage) -> None:
    # Given a deployed dev stage with its user pool, and an API that analyzes the answer
    stage.with_outputs()
    api = FakeStageApi()
    # When the smoke test runs
    code, out, err = _smoke(stage, api)
    # Then every step passed, one timed line each, in order, and the run says so
    assert code == 0, out + err
    assert _steps(out) == list(STEPS)
    assert all(line.startswith("ok ") for line in out.splitlines()[:-1]), out
    assert out.splitlines()[-1].startswith(f"smoke test of stage {STAGE} passed in")
    # And the API was called with an ID token of the pool's throw-away user, for a project of this run only
    (bearer,) = api.bearer_tokens()
    claims = jwt.decode(bearer.removeprefix("Bearer "), options={"verify_signature": False})
    assert claims["token_use"] == "id" and claims["aud"] == stage.client_id
    assert re.fullmatch(r"vidsense-smoke-\d{8}t\d{6}-[0-9a-f]{6}@example\.com", claims["email"])
    project = claims["email"].removeprefix("vidsense-").removesuffix("@example.com")
    assert api.calls("DELETE") == [f"{API}/answers/{project}/1"]
    # And the user is gone from the pool
    assert stage.users() == []


def test_the_upload_is_the_presigned_form_fields_then_the_sample(stage: Stage, tmp_path: Path) -> None:
    stage.with_outputs()
    sample = tmp_path / "answer.webm"
    sample.write_bytes(SAMPLE)
    api = FakeStageApi()
    code, out, err = _smoke(stage, api, sample=sample)
    assert code == 0, out + err
    ((_, _, headers, body),) = [r for r in api.requests if r[1] == UPLOAD_URL]
    assert body is not None and headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert body.index(b'name="key"') < body.index(b'name="policy"') < body.index(b'name="file"') < body.index(SAMPLE)


def test_the_cognito_calls_are_those_the_pipelines_smoke_role_may_make(stage: Stage) -> None:
    stage.with_outputs()
    code, out, err = _smoke(stage, FakeStageApi())
    assert code == 0, out + err
    assert set(stage.cognito_actions) <= set(SMOKE_COGNITO_ACTIONS), stage.cognito_actions


def test_runs_never_share_a_project_or_a_person(stage: Stage) -> None:
    projects = set()
    for _ in range(3):
        stage.with_outputs()
        api = FakeStageApi()
        assert _smoke(stage, api)[0] == 0
        projects |= {url.split("/")[4] for url in api.calls("DELETE")}
    assert len(projects) == 3


# -- a failing step: exit 1, its name and what it saw; the answer erased and the user removed anyway ---------------


def _stalled() -> FakeStageApi:
    return FakeStageApi(views=[(200, {**ANALYZED, "status": "TRANSCODED", "sentiment": None})])


FAILURES: dict[str, tuple[str, Callable[[], FakeStageApi], str]] = {
    "presign refused": ("presign", lambda: FakeStageApi(presign_status=403), "403"),
    "upload refused": ("upload", lambda: FakeStageApi(upload_status=403), "answered 403"),
    "analysis failed": (
        "wait for ANALYZED",
        lambda: FakeStageApi(views=[(200, {**ANALYZED, "status": "FAILED", "error": "TRANSCODE_FAILED: bad"})]),
        "status FAILED (error TRANSCODE_FAILED: bad)",
    ),
    "analysis too slow": ("wait for ANALYZED", _stalled, "last seen: status TRANSCODED"),
    "answer forbidden": ("wait for ANALYZED", lambda: FakeStageApi(views=[(401, {})]), "answered 401"),
    "no transcript": (
        "check transcript",
        lambda: FakeStageApi(views=[(200, {**ANALYZED, "transcript": " "})]),
        "no transcript",
    ),
    "no sentiment label": (
        "check sentiment",
        lambda: FakeStageApi(views=[(200, {**ANALYZED, "sentiment": "HAPPY"})]),
        "'HAPPY'",
    ),
    "three scores": (
        "check sentiment",
        lambda: FakeStageApi(views=[(200, {**ANALYZED, "sentiment_score": {"Positive": 1, "Negative": 0}})]),
        "four scores",
    ),
    "erasure refused": ("erase", lambda: FakeStageApi(delete_status=409), "409"),
    "never erased": ("wait until erased", lambda: FakeStageApi(gone_after=10_000), "still there after"),
}


@pytest.mark.parametrize("case", FAILURES)
def test_a_failing_step_exits_1_naming_it_and_what_it_saw(stage: Stage, case: str) -> None:
    step, make_api, saw = FAILURES[case]
    stage.with_outputs()
    api = make_api()
    clock = FakeClock()
    # When the smoke test meets the failure
    code, out, err = _smoke(stage, api, argv=("--timeout", "60"), clock=clock)
    # Then it exits 1, its last line on stderr names the step and what it saw
    assert code == 1, out + err
    assert err.strip().splitlines()[-1].startswith(f"vidsense smoke: stage {STAGE} failed at step '{step}': ")
    assert saw in err, err
    assert re.search(rf"^FAIL {re.escape(step)} ", out, re.MULTILINE), out
    # And the steps before it passed, the ones after it did not run
    failed_at = STEPS.index(step)
    assert _steps(out) == [*STEPS[: failed_at + 1], "remove user"]
    # And an answer that may have been uploaded was erased, and the throw-away user removed, whatever failed
    uploaded = failed_at >= STEPS.index("upload")
    assert len(api.calls("DELETE")) == (1 if uploaded else 0)
    assert stage.users() == []
    # And no wait outlasted the bound (two waits at most: the analysis, then the erasure)
    assert clock.now <= 2 * 60


@dataclass
class DroppedUploadApi(FakeStageApi):
    """S3 stores the object, then the connection drops before its answer reaches the smoke test."""

    def __call__(
        self, method: str, url: str, *, headers: Mapping[str, str] | None = None, body: bytes | None = None
    ) -> Response:
        answer = super().__call__(method, url, headers=headers, body=body)
        if url == UPLOAD_URL:
            raise ConnectionResetError("connection reset by peer")
        return answer


def test_an_upload_whose_answer_is_lost_is_still_erased(stage: Stage) -> None:
    # Given an upload POST that S3 stored but whose answer never arrived (an OSError)
    stage.with_outputs()
    api = DroppedUploadApi(delete_status=404)
    # When the smoke test runs
    code, out, err = _smoke(stage, api)
    # Then it fails at the upload step naming what it saw
    assert code == 1, out + err
    assert "failed at step 'upload': request failed: connection reset by peer" in err
    # And the clean-up still asked for the answer's erasure (its 404, had nothing landed, is only reported)
    (deleted,) = api.calls("DELETE")
    assert deleted.startswith(f"{API}/answers/smoke-") and deleted.endswith("/1")
    assert "cleanup: DELETE" in out and "answered 404" in out
    assert stage.users() == []


def test_waiting_backs_off_and_stops_at_the_timeout() -> None:
    clock = FakeClock()
    api = smoke.Api(_stalled(), API, "token")
    with pytest.raises(smoke.SmokeFailure) as failure:
        smoke.wait_for_analysis(api, "/answers/p/1", 100.0, clock.as_clock())
    assert failure.value.step == "wait for ANALYZED"
    assert clock.now == pytest.approx(100.0)
    assert clock.sleeps[:3] == [1.0, 1.5, 2.25] and max(clock.sleeps) == smoke.MAX_INTERVAL


def test_sign_in_refused_by_the_pool_names_the_step_and_still_removes_the_user(stage: Stage) -> None:
    # Given a pool whose client refuses the admin password flow (AdminInitiateAuth fails)
    stage.with_outputs()

    def refuse(**_: Any) -> None:
        raise stage.cognito.exceptions.InvalidParameterException(
            {"Error": {"Code": "InvalidParameterException", "Message": "Auth flow not enabled for this client"}},
            "AdminInitiateAuth",
        )

    stage.cognito.meta.events.register("before-call.cognito-idp.AdminInitiateAuth", refuse)
    api = FakeStageApi()
    code, out, err = _smoke(stage, api)
    assert code == 1
    assert "failed at step 'sign in': AdminInitiateAuth: InvalidParameterException: Auth flow not enabled" in err
    assert _steps(out) == ["find stage", "create user", "sign in", "remove user"]
    assert api.requests == [] and stage.users() == []


# -- the environment: one line, exit 2 -----------------------------------------------------------------------------


def test_a_stage_without_its_ingest_stack_is_one_line_exit_2(stage: Stage) -> None:
    stage.stubber.add_client_error(
        "describe_stacks", "ValidationError", "Stack with id vidsense-ingest-dev does not exist"
    )
    code, _, err = _smoke(stage, FakeStageApi())
    assert code == 2
    assert err.strip() == (
        f"vidsense smoke: stage {STAGE} has no stack vidsense-ingest-{STAGE}: deploy the ingest service to it"
        " (docs/deploy.md), or check --stage and the region and account of your credentials"
    )


def test_a_stack_missing_an_output_is_one_line_exit_2(stage: Stage) -> None:
    stage.describe(_outputs(IdentityProvider="cognito", UserPoolClientId=stage.client_id))
    code, _, err = _smoke(stage, FakeStageApi())
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "has no UserPoolId output" in err


def test_external_identity_without_a_token_is_one_line_exit_2_and_calls_nothing(stage: Stage) -> None:
    stage.with_outputs("external")
    api = FakeStageApi()
    code, _, err = _smoke(stage, api)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "set VIDSENSE_SMOKE_TOKEN" in err
    assert api.requests == [] and stage.cognito_actions == []


def test_external_identity_calls_the_api_with_the_given_token_and_creates_no_user(stage: Stage) -> None:
    stage.with_outputs("external")
    api = FakeStageApi()
    code, out, err = _smoke(stage, api, environ={"VIDSENSE_SMOKE_TOKEN": "a.test.token"})
    assert code == 0, out + err
    assert api.bearer_tokens() == {"Bearer a.test.token"}
    assert _steps(out) == [s for s in STEPS if s not in ("create user", "remove user")]
    assert stage.cognito_actions == []


@pytest.mark.parametrize(
    ("argv", "environ", "message"),
    [
        (("--timeout", "0"), {}, "--timeout must be a positive number of seconds"),
        ((), {"VIDSENSE_SMOKE_TIMEOUT": "soon"}, "VIDSENSE_SMOKE_TIMEOUT=soon is not a number"),
        ((), {"VIDSENSE_SMOKE_TIMEOUT": "-5"}, "VIDSENSE_SMOKE_TIMEOUT must be a positive number"),
        (("--sample", "/nonexistent/answer.webm"), {}, "no sample answer at /nonexistent/answer.webm"),
    ],
)
def test_bad_options_are_one_line_exit_2_before_any_call(
    stage: Stage, argv: tuple[str, ...], environ: dict[str, str], message: str
) -> None:
    api = FakeStageApi()
    code, _, err = _smoke(stage, api, argv=argv, environ=environ)
    assert code == 2
    assert err.strip().startswith(f"vidsense smoke: {message}"), err
    assert api.requests == []


def test_the_timeout_comes_from_the_option_then_the_environment_then_the_default() -> None:
    def timeout(argv: list[str], environ: dict[str, str]) -> float:
        parser = argparse.ArgumentParser()
        commands.register(parser.add_subparsers(dest="command"))
        return commands.smoke_timeout(parser.parse_args(["smoke", "--stage", "x", *argv]), environ)

    assert timeout(["--timeout", "12"], {"VIDSENSE_SMOKE_TIMEOUT": "34"}) == 12
    assert timeout([], {"VIDSENSE_SMOKE_TIMEOUT": "34"}) == 34
    assert timeout([], {}) == smoke.DEFAULT_TIMEOUT == 300


# -- names the deployment decides ----------------------------------------------------------------------------------


def test_the_bundled_sample_is_the_operator_packages_data_and_the_demos() -> None:
    # The standalone install ships it (ops/pyproject.toml package-data); the demo reads it through local/samples.
    assert smoke.SAMPLE == REPO_ROOT / "ops" / "vidsense_ops" / "samples" / "answer.webm"
    assert smoke.SAMPLE.read_bytes()[:4] == b"\x1aE\xdf\xa3"  # EBML magic
    assert (REPO_ROOT / "local" / "samples" / "answer.webm").resolve() == smoke.SAMPLE
    assert "samples/answer.webm" in (REPO_ROOT / "ops" / "pyproject.toml").read_text()


def test_the_outputs_it_reads_are_the_ingest_stacks() -> None:
    text = (REPO_ROOT / "services" / "ingest" / "serverless.yml").read_text()
    declared = text[text.index("\n  Outputs:\n") :]
    for output in (smoke.IDENTITY_OUTPUT, smoke.ISSUER_OUTPUT, smoke.USER_POOL_OUTPUT, smoke.CLIENT_OUTPUT):
        assert f"\n    {output}:\n" in declared, output
