"""AWS clients of the operator commands for one stage, and what their failures mean to the person who ran them.

``--stage local`` is the embedded local stack: its endpoint on 127.0.0.1, fake credentials and its region, with no
environment variable needed. Every other stage uses the standard AWS credential chain (``AWS_PROFILE``, access keys,
SSO...) and honours ``AWS_REGION`` as well as ``AWS_DEFAULT_REGION`` (boto3 reads only the latter).

Only boto3/botocore here (no moto, no local-stack import): the operator package installs on its own
(docs/operations.md).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    TokenRetrievalError,
)

from vidsense_shared.aws_errors import error_code
from vidsense_shared.resources import LOCAL_STAGE, StageResources

# The local stack's own constants (vidsense_local.stack.REGION, StackConfig.aws_port): a test keeps them equal.
LOCAL_REGION = "us-east-1"
LOCAL_DEFAULT_PORT = 4566
LOCAL_PORT_VARIABLE = "VIDSENSE_AWS_PORT"
# The stack accepts any credentials; explicit ones keep real keys from the environment away from it.
LOCAL_ACCESS_KEY = LOCAL_SECRET_KEY = "test"  # noqa: S105 - fake, the local stack accepts any
# A stopped stack refuses the connection at once; a loaded one may be slow to accept it.
LOCAL_CONFIG = Config(connect_timeout=5, retries={"mode": "standard", "total_max_attempts": 3})

# The caller's credentials are fine but may not do this.
PERMISSION_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError", "Forbidden"}
)
# AWS does not accept the credentials themselves (unknown, expired, wrong secret).
CREDENTIAL_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidAccessKeyId",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "AuthFailure",
        "InvalidToken",
    }
)


class OperatorError(Exception):
    """Something the operator can fix, said in one line: what is wrong and what to do."""


@dataclass(frozen=True)
class StageAws:
    """Where one stage's AWS resources are reached, and how."""

    stage: str
    session: Any
    endpoint_url: str | None = None
    config: Config | None = None

    @property
    def is_local(self) -> bool:
        return self.stage == LOCAL_STAGE

    @property
    def region(self) -> str | None:
        region: str | None = self.session.region_name
        return region

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.endpoint_url, config=self.config)


def local_endpoint(environ: Mapping[str, str]) -> str:
    """``AWS_ENDPOINT_URL`` when set (what the stack prints), else the stack's port on 127.0.0.1."""
    if environ.get("AWS_ENDPOINT_URL"):
        return environ["AWS_ENDPOINT_URL"]
    text = environ.get(LOCAL_PORT_VARIABLE) or str(LOCAL_DEFAULT_PORT)
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise OperatorError(
            f"{LOCAL_PORT_VARIABLE}={text} is not the local stack's port: set it to the port of the"
            " 'local AWS endpoint' that `make up` printed"
        )
    return f"http://127.0.0.1:{int(text)}"


def stage_aws(stage: str, environ: Mapping[str, str] | None = None) -> StageAws:
    env = os.environ if environ is None else environ
    if stage == LOCAL_STAGE:
        session = boto3.session.Session(
            aws_access_key_id=LOCAL_ACCESS_KEY, aws_secret_access_key=LOCAL_SECRET_KEY, region_name=LOCAL_REGION
        )
        return StageAws(stage, session, endpoint_url=local_endpoint(env), config=LOCAL_CONFIG)
    # boto3 reads AWS_DEFAULT_REGION and the profile's region, not AWS_REGION (the CLI v2 and Lambda set it).
    region = None if env.get("AWS_DEFAULT_REGION") else env.get("AWS_REGION") or None
    return StageAws(stage, boto3.session.Session(region_name=region))


def require_stage(aws: StageAws) -> None:
    """Fail with one line when the stage does not exist where we look: its event bus is missing.

    Run before a command, it is also the first call that meets a missing region, missing credentials or an
    unreachable endpoint. A caller who may not describe the bus is let through: the command's own calls tell.
    """
    try:
        aws.client("events").describe_event_bus(Name=StageResources(aws.stage).bus)
    except ClientError as exc:
        code = error_code(exc)
        if code == "ResourceNotFoundException":
            raise OperatorError(_unknown_stage(aws)) from exc
        if code not in PERMISSION_CODES:
            raise


class CheckedStage:
    """A stage's clients, handed out once the stage was found: checked at the first client a command asks for.

    So a command checks its arguments before any AWS call, and makes none when they are wrong.
    """

    def __init__(self, aws: StageAws) -> None:
        self.aws = aws
        self._checked = False

    def _check(self) -> None:
        if not self._checked:
            require_stage(self.aws)
            self._checked = True

    def client(self, service: str) -> Any:
        self._check()
        return self.aws.client(service)


def stack_outputs(cloudformation: Any, name: str, *, missing: str) -> dict[str, str]:
    """The outputs of the stack ``name``; OperatorError(``missing``) when CloudFormation says it does not exist.

    Any other error stands, for the operator error boundary to report (credentials, permissions, throttling).
    """
    try:
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        if error_code(exc) == "ValidationError" and "does not exist" in str(exc):
            raise OperatorError(missing) from exc
        raise
    return {o["OutputKey"]: o["OutputValue"] for stack in stacks for o in stack.get("Outputs", [])}


def ingest_outputs(cloudformation: Any, stage: str, *, otherwise: str) -> dict[str, str]:
    """The outputs of ``stage``'s ingest stack (its API and sign-in); ``otherwise`` is what the operator may do
    instead of deploying it."""
    name = StageResources(stage).stack("ingest")
    missing = f"stage {stage} has no stack {name}: deploy the ingest service to it (docs/deploy.md), or {otherwise}"
    return stack_outputs(cloudformation, name, missing=missing)


def _unknown_stage(aws: StageAws) -> str:
    bus = StageResources(aws.stage).bus
    if aws.is_local:
        return (
            f"the local stack at {aws.endpoint_url} has no {bus}: wait for 'vidsense local stack ready' from"
            " `make up`, or point VIDSENSE_AWS_PORT at the port it printed"
        )
    return (
        f"no stage {aws.stage!r} in region {aws.region} (event bus {bus} not found): check --stage, and the"
        " region and account of your credentials (AWS_REGION, AWS_PROFILE)"
    )


def explain(exc: BaseException, aws: StageAws | None) -> OperatorError | None:
    """The one line for a failure the operator can fix, or None for any other failure."""
    if isinstance(exc, OperatorError):
        return exc
    if isinstance(exc, NoRegionError):
        return OperatorError(
            "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION, or a region in your AWS profile) to the"
            " stage's region"
        )
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return OperatorError(
            "no AWS credentials found: set AWS_PROFILE (after `aws sso login` if it uses SSO) or"
            " AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    if isinstance(exc, CredentialRetrievalError | TokenRetrievalError):
        return OperatorError(f"AWS credentials could not be loaded ({exc}): refresh them (`aws sso login`)")
    if isinstance(exc, ProfileNotFound):
        return OperatorError(f"{exc}: set AWS_PROFILE to a profile of your AWS config, or unset it")
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError | ConnectionClosedError):
        return OperatorError(_unreachable(exc, aws))
    if isinstance(exc, ClientError):
        code = error_code(exc)
        operation = exc.operation_name
        if code in CREDENTIAL_CODES:
            return OperatorError(
                f"AWS did not accept your credentials ({code} on {operation}): refresh them, or set AWS_PROFILE"
                " to a profile of the stage's account"
            )
        if code in PERMISSION_CODES:
            return OperatorError(
                f"access denied: your AWS identity may not call {operation} ({code}): use a role or profile that"
                " may operate the stage (AWS_PROFILE)"
            )
    return None


def _unreachable(exc: BotoCoreError, aws: StageAws | None) -> str:
    endpoint = getattr(exc, "kwargs", {}).get("endpoint_url") or (aws.endpoint_url if aws else None)
    if aws is not None and aws.is_local:
        return (
            f"cannot reach the local stack at {aws.endpoint_url}: start it with `make up`, or set"
            f" {LOCAL_PORT_VARIABLE} to the port it runs on"
        )
    return f"cannot reach {endpoint}: check your network, the region, and AWS_ENDPOINT_URL if you set it"
