"""Publishing the web client to a stage (vidsense_ops.website): config.json comes from the ingest stack's outputs,
the bucket and distribution from the site stack's (deployed after ingest: deploy/web, serverless-compose.yml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from vidsense_ops import website
from vidsense_ops.clients import OperatorError
from vidsense_ops.website import WEB, site_config, site_files, site_url

REPO_ROOT = Path(__file__).resolve().parents[3]

OUTPUTS = {
    "HttpApiUrl": "https://abc123.execute-api.eu-west-1.amazonaws.com",
    "Issuer": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC",
    "SignInDomain": "https://vidsense-dev-123456789012.auth.eu-west-1.amazoncognito.com",
    "UserPoolClientId": "client123",
    "MediaBucketName": "vidsense-dev-media-123456789012",
}


def test_an_external_provider_needs_a_client_id_and_names_its_own_sign_out() -> None:
    outputs = {k: v for k, v in OUTPUTS.items() if k not in ("SignInDomain", "UserPoolClientId")}
    with pytest.raises(OperatorError, match="--client-id"):
        site_config(outputs, stage="dev")
    config = site_config(outputs, stage="dev", client_id="web")
    assert config["clientId"] == "web"
    assert "logoutUrl" not in config  # an OpenID provider names its own end_session_endpoint


def test_config_json_holds_the_stages_settings() -> None:
    assert site_config(OUTPUTS, stage="dev", max_recording_seconds=90) == {
        "apiUrl": "https://abc123.execute-api.eu-west-1.amazonaws.com",
        "issuer": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC",
        "clientId": "client123",
        "scope": "openid email profile",
        "maxRecordingSeconds": 90,
        "pollIntervalMs": 2000,
        "logoutUrl": "https://vidsense-dev-123456789012.auth.eu-west-1.amazoncognito.com/logout",
    }


def test_the_ingest_outputs_must_exist() -> None:
    with pytest.raises(OperatorError, match="HttpApiUrl"):
        site_config({k: v for k, v in OUTPUTS.items() if k != "HttpApiUrl"}, stage="dev")


def test_every_client_file_is_uploaded_with_its_type_but_no_settings_file() -> None:
    files = {key: kind for _, key, kind in site_files(WEB)}
    assert files["index.html"] == "text/html"
    assert files["app.js"] == "text/javascript"
    assert "config.json" not in files and "config.example.json" not in files


# -- where the client and the template come from, and the stack's existence -------------------------------------


def _no_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As after ``pip install ./shared ./ops``: the module lives in site-packages, with no web/ beside it."""
    installed = tmp_path / "site-packages"
    installed.mkdir()
    monkeypatch.setattr(website, "REPO", installed)
    monkeypatch.chdir(installed)


def test_publishing_outside_a_checkout_is_one_line_exit_2_before_any_aws_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an installed vidsense_ops run away from the repository
    _no_checkout(tmp_path, monkeypatch)

    def no_aws(*_: object, **__: object) -> None:
        raise AssertionError("no AWS call without the client to publish")

    monkeypatch.setattr("boto3.session.Session", no_aws)
    # When publishing
    code = website.main(["--stage", "dev"])
    # Then one line says what to do, and it exits 2
    (line,) = capsys.readouterr().err.splitlines()
    assert code == 2
    assert line.startswith("vidsense web publish: no web/ under ")
    assert line.endswith("run make deploy-web from a checkout of the repository, or pass --repo CHECKOUT")


def test_repo_names_the_checkout_to_publish_from(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _no_checkout(tmp_path, monkeypatch)
    assert website.checkout(REPO_ROOT) == REPO_ROOT
    with pytest.raises(OperatorError, match="pass --repo CHECKOUT"):
        website.checkout(tmp_path)


def test_the_checkout_is_found_from_the_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _no_checkout(tmp_path, monkeypatch)
    monkeypatch.chdir(REPO_ROOT)
    assert website.checkout() == REPO_ROOT


def _cloudformation() -> Any:
    return boto3.client("cloudformation", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("ExpiredToken", "The security token included in the request is expired"),
        ("AccessDenied", "User is not authorized to perform: cloudformation:DescribeStacks"),
        ("Throttling", "Rate exceeded"),
    ],
)
def test_a_failed_describe_is_not_a_missing_site_stack(code: str, message: str) -> None:
    # Given DescribeStacks refused for a reason other than the stack's absence
    cloudformation = _cloudformation()
    with Stubber(cloudformation) as stubber:
        stubber.add_client_error("describe_stacks", service_error_code=code, service_message=message)
        # When reading the site stack, Then the error stands (the operator boundary reports it as it is)
        with pytest.raises(ClientError, match=code):
            website.site_outputs(cloudformation, "dev")


def test_a_site_stack_never_deployed_says_how_to_deploy_it() -> None:
    cloudformation = _cloudformation()
    with Stubber(cloudformation) as stubber:
        stubber.add_client_error(
            "describe_stacks",
            service_error_code="ValidationError",
            service_message="Stack with id vidsense-web-dev does not exist",
        )
        with pytest.raises(OperatorError, match=r"no site stack vidsense-web-dev: .*make deploy-web STAGE=dev"):
            website.site_outputs(cloudformation, "dev")


def test_the_site_is_its_domain_or_else_the_distributions_own_name() -> None:
    # Given a site with its own name, Then that is its address (no CloudFront call)
    assert site_url({"SiteUrl": "https://dev.vidsense.example.com", "DistributionId": "E1"}, None) == (
        "https://dev.vidsense.example.com"
    )
    # Given a stage without webDomain, Then the distribution's cloudfront.net name
    cloudfront = boto3.client("cloudfront", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    with Stubber(cloudfront) as stubber:
        stubber.add_response(
            "get_distribution",
            {"Distribution": _distribution("E1", "d111.cloudfront.net")},
            {"Id": "E1"},
        )
        assert site_url({"DistributionId": "E1"}, cloudfront) == "https://d111.cloudfront.net"


def _distribution(identifier: str, domain: str) -> dict[str, Any]:
    origins = {"Quantity": 1, "Items": [{"Id": "site", "DomainName": "b.s3.amazonaws.com"}]}
    behavior = {"TargetOriginId": "site", "ViewerProtocolPolicy": "redirect-to-https"}
    config = {
        "CallerReference": "r",
        "Origins": origins,
        "DefaultCacheBehavior": behavior,
        "Comment": "",
        "Enabled": True,
    }
    return {
        "Id": identifier,
        "ARN": f"arn:aws:cloudfront::123456789012:distribution/{identifier}",
        "Status": "Deployed",
        "LastModifiedTime": "2026-12-01T00:00:00Z",
        "InProgressInvalidationBatches": 0,
        "DomainName": domain,
        "DistributionConfig": config,
    }


def test_expired_credentials_are_the_operator_boundarys_one_line_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def expired(_: object) -> str:
        error = {"Error": {"Code": "ExpiredToken", "Message": "The security token included in the request is expired"}}
        raise ClientError(error, "DescribeStacks")  # type: ignore[arg-type]

    monkeypatch.setattr(website, "publish", expired)
    assert website.main(["--stage", "dev"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("vidsense web publish: AWS did not accept your credentials (ExpiredToken on DescribeStacks)")


def test_the_region_comes_from_aws_region_as_for_every_operator_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given only AWS_REGION names the region (the CLI v2's variable, which plain boto3 ignores)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    asked: list[str] = []

    def outputs(cloudformation: Any, stage: str, otherwise: str) -> dict[str, str]:
        asked.append(cloudformation.meta.region_name)
        raise OperatorError("stopped before any AWS call")

    monkeypatch.setattr(website, "ingest_outputs", outputs)
    # When publishing
    code = website.main(["--stage", "dev"])
    # Then the stage's stacks are read in that region, not refused for want of one
    assert asked == ["eu-west-1"]
    assert (code, capsys.readouterr().err.strip()) == (2, "vidsense web publish: stopped before any AWS call")
