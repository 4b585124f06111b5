"""`vidsense smoke --stage local` signs in at the local stand-in for Cognito as the web client does (authorize with
PKCE, the sign-in form, the code for tokens): its ID token is the stand-in's, for the throw-away person."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

import jwt
import pytest
from werkzeug.test import Client

from tests.integration.apigw.test_http_api import TEMPLATE, FakeRuntime
from tests.local_endpoint import routes_from_template
from vidsense_local.apigw import HttpApiApp
from vidsense_local.auth import DEFAULT_AUDIENCE, DEFAULT_ISSUER, load_or_create_key
from vidsense_ops import smoke


@pytest.fixture(autouse=True)
def _default_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("VIDSENSE_API_PORT", "VIDSENSE_JWT_ISSUER", "VIDSENSE_WEB_PORT"):
        monkeypatch.delenv(name, raising=False)


def _over(client: Client) -> smoke.Http:
    """The smoke test's HTTP calls, answered in process by the local HTTP API app (the issuer's origin)."""

    def http(
        method: str, url: str, *, headers: Mapping[str, str] | None = None, body: bytes | None = None
    ) -> smoke.Response:
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}" == DEFAULT_ISSUER, url
        reply = client.open(
            parts.path + (f"?{parts.query}" if parts.query else ""),
            method=method,
            headers=dict(headers or {}),
            data=body,
        )
        return smoke.Response(reply.status_code, dict(reply.headers), reply.get_data())

    return http


def test_the_local_sign_in_gives_the_stand_ins_id_token_for_the_person(tmp_path) -> None:
    # Given the local HTTP API with its user pool stand-in at the issuer
    key = load_or_create_key(tmp_path)
    table = routes_from_template(TEMPLATE, api_id="abc123")
    app = HttpApiApp(lambda: table, FakeRuntime().invoke, key, account_id="123456789012", issuer_url=DEFAULT_ISSUER)
    # When the smoke test signs its throw-away person in
    token = smoke.local_id_token(_over(Client(app, use_cookies=False)), DEFAULT_ISSUER, "vidsense-smoke-x@example.com")
    # Then it holds an ID token the stand-in signed, for that person and the web client, in no group
    claims = jwt.decode(
        token, key.private_key.public_key(), algorithms=["RS256"], audience=DEFAULT_AUDIENCE, issuer=DEFAULT_ISSUER
    )
    assert claims["token_use"] == "id" and claims["email"] == "vidsense-smoke-x@example.com"
    assert claims.get("cognito:groups", []) == []


def test_a_refused_sign_in_names_the_step_and_the_answer(tmp_path) -> None:
    # Given an issuer that is not the stand-in (no discovery document there)
    key = load_or_create_key(tmp_path)
    app = HttpApiApp(
        lambda: routes_from_template(TEMPLATE, api_id="abc123"),
        FakeRuntime().invoke,
        key,
        account_id="123456789012",
        issuer_url=DEFAULT_ISSUER,
    )
    with pytest.raises(smoke.SmokeFailure) as failure:
        smoke.local_id_token(_over(Client(app, use_cookies=False)), DEFAULT_ISSUER + "/elsewhere", "a@example.com")
    assert failure.value.step == "sign in"
    assert "OpenID discovery answered 404" in failure.value.saw
