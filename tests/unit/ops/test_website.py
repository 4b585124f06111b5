"""Publishing the web client to a stage (vidsense_ops.website): the site stack's parameters and config.json come
from the ingest stack's outputs; nothing else decides which origins the CSP allows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from vidsense_ops import website
from vidsense_ops.clients import OperatorError
from vidsense_ops.website import WEB, media_origin, site_config, site_files, site_parameters

REPO_ROOT = Path(__file__).resolve().parents[3]

OUTPUTS = {
    "HttpApiUrl": "https://abc123.execute-api.eu-west-1.amazonaws.com",
    "Issuer": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC",
    "SignInDomain": "https://vidsense-dev-123456789012.auth.eu-west-1.amazoncognito.com",
    "UserPoolClientId": "client123",
    "MediaBucketName": "vidsense-dev-media-123456789012",
}


def test_the_csp_origins_are_the_stages_api_issuer_sign_in_and_media_bucket() -> None:
    params = site_parameters(OUTPUTS, stage="dev", region="eu-west-1")
    assert params == {
        "Stage": "dev",
        "ApiOrigin": "https://abc123.execute-api.eu-west-1.amazonaws.com",
        "IssuerOrigin": "https://cognito-idp.eu-west-1.amazonaws.com",
        "SignInOrigin": "https://vidsense-dev-123456789012.auth.eu-west-1.amazoncognito.com",
        "MediaOrigin": "https://vidsense-dev-media-123456789012.s3.eu-west-1.amazonaws.com",
        "DomainName": "",
        "CertificateArn": "-",
    }


def test_an_external_provider_signs_in_at_its_issuer_and_needs_a_client_id() -> None:
    outputs = {k: v for k, v in OUTPUTS.items() if k not in ("SignInDomain", "UserPoolClientId")}
    assert site_parameters(outputs, stage="dev", region="eu-west-1")["SignInOrigin"] == (
        "https://cognito-idp.eu-west-1.amazonaws.com"
    )
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


def test_a_domain_needs_its_certificate_and_outputs_must_exist() -> None:
    with pytest.raises(OperatorError, match="together"):
        site_parameters(OUTPUTS, stage="dev", region="eu-west-1", domain="dev.vidsense.example.com")
    with pytest.raises(OperatorError, match="HttpApiUrl"):
        site_parameters({k: v for k, v in OUTPUTS.items() if k != "HttpApiUrl"}, stage="dev", region="eu-west-1")


def test_the_media_origin_is_the_one_boto3_presigns_for() -> None:
    assert media_origin("b", "us-east-1") == "https://b.s3.amazonaws.com"
    assert media_origin("b", "eu-west-1") == "https://b.s3.eu-west-1.amazonaws.com"


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
    assert line.startswith("vidsense web publish: no web/ and deploy/web/site.yml under ")
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
def test_a_failed_describe_is_not_a_missing_stack(code: str, message: str) -> None:
    # Given DescribeStacks refused for a reason other than the stack's absence
    cloudformation = _cloudformation()
    with Stubber(cloudformation) as stubber:
        stubber.add_client_error("describe_stacks", service_error_code=code, service_message=message)
        # When deploying the site stack, Then the error stands and no stack is created (no create_stack stubbed)
        with pytest.raises(ClientError, match=code):
            website._deploy_stack(cloudformation, "vidsense-web-dev", {"Stage": "dev"}, website.TEMPLATE)
        stubber.assert_no_pending_responses()


def test_a_stack_that_does_not_exist_is_created() -> None:
    cloudformation = _cloudformation()
    outputs = [{"OutputKey": "SiteUrl", "OutputValue": "https://d111.cloudfront.net"}]
    stack = {"StackName": "vidsense-web-dev", "CreationTime": "2026-12-01T00:00:00Z", "Outputs": outputs}
    with Stubber(cloudformation) as stubber:
        stubber.add_client_error(
            "describe_stacks",
            service_error_code="ValidationError",
            service_message="Stack with id vidsense-web-dev does not exist",
        )
        stubber.add_response("create_stack", {"StackId": "arn:stack"})
        complete = {**stack, "StackStatus": "CREATE_COMPLETE"}
        stubber.add_response("describe_stacks", {"Stacks": [complete]})  # the waiter
        stubber.add_response("describe_stacks", {"Stacks": [complete]})
        assert website._deploy_stack(cloudformation, "vidsense-web-dev", {"Stage": "dev"}, website.TEMPLATE) == {
            "SiteUrl": "https://d111.cloudfront.net"
        }
        stubber.assert_no_pending_responses()


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
