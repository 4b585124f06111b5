"""Publishing the web client to a stage (vidsense_ops.website): the site stack's parameters and config.json come
from the ingest stack's outputs; nothing else decides which origins the CSP allows."""

from __future__ import annotations

import pytest

from vidsense_ops.clients import OperatorError
from vidsense_ops.website import WEB, media_origin, site_config, site_files, site_parameters

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
