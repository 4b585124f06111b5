"""The local user pool (the stand-in for Cognito) through the local HTTP API: discovery, authorize with PKCE, the
sign-in form, token, refresh, sign-out, and the API accepting what it issues."""

from __future__ import annotations

import html
import json
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from werkzeug.test import Client, TestResponse

from tests.integration.apigw.test_http_api import TEMPLATE, FakeRuntime
from tests.local_endpoint import routes_from_template
from vidsense_local.apigw import HttpApiApp
from vidsense_local.auth import DEFAULT_AUDIENCE, DEFAULT_ISSUER, SigningKey, issue_token, load_or_create_key
from vidsense_local.auth.userpool import LocalUserPool, OAuthError, local_app_client, s256

CALLBACK = "http://127.0.0.1:5173/callback"
WEB_ORIGIN = "http://127.0.0.1:5173"


@pytest.fixture(autouse=True)
def _default_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("VIDSENSE_API_PORT", "VIDSENSE_JWT_ISSUER", "VIDSENSE_WEB_PORT"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> SigningKey:
    return load_or_create_key(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def runtime() -> FakeRuntime:
    return FakeRuntime()


@pytest.fixture
def client(key: SigningKey, runtime: FakeRuntime) -> Client:
    table = routes_from_template(TEMPLATE, api_id="abc123")
    app = HttpApiApp(lambda: table, runtime.invoke, key, account_id="123456789012", issuer_url=DEFAULT_ISSUER)
    return Client(app, use_cookies=False)


def _verifier() -> str:
    return secrets.token_urlsafe(48)


def _authorize_query(verifier: str, **overrides: str | None) -> str:
    query: dict[str, str | None] = {
        "response_type": "code",
        "client_id": DEFAULT_AUDIENCE,
        "redirect_uri": CALLBACK,
        "state": "st-42",
        "scope": "openid email profile",
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
        **overrides,
    }
    return urlencode({k: v for k, v in query.items() if v is not None})


def _sign_in(client: Client, verifier: str, email: str, *, reviewer: bool) -> str:
    """authorize -> the form -> its post; returns the code the callback got."""
    authorize = client.get(f"/oauth2/authorize?{_authorize_query(verifier)}")
    assert authorize.status_code == 302, authorize.get_data(as_text=True)
    form_page = client.get(authorize.headers["Location"])
    assert form_page.status_code == 200
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form_page.get_data(as_text=True)))
    fields = {**hidden, "email": email, **({"reviewer": "yes"} if reviewer else {})}
    posted = client.post("/login", data=fields)
    assert posted.status_code == 302, posted.get_data(as_text=True)
    target = urlsplit(posted.headers["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == CALLBACK
    query = parse_qs(target.query)
    assert query["state"] == ["st-42"]
    return query["code"][0]


def _token(client: Client, code: str, verifier: str, **overrides: str) -> TestResponse:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "client_id": DEFAULT_AUDIENCE,
        "code_verifier": verifier,
        **overrides,
    }
    return client.post("/oauth2/token", data=form, headers={"Origin": WEB_ORIGIN})


def _fields(query: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(query).items()}


def _error(response: TestResponse) -> dict[str, Any]:
    body: dict[str, Any] = response.get_json()
    assert set(body) == {"error", "error_description"}
    return body


def test_discovery_names_the_endpoints_at_the_issuer(client: Client) -> None:
    response = client.get("/.well-known/openid-configuration", headers={"Origin": WEB_ORIGIN})
    document = response.get_json()
    assert document["issuer"] == DEFAULT_ISSUER
    assert document["authorization_endpoint"] == f"{DEFAULT_ISSUER}/oauth2/authorize"
    assert document["token_endpoint"] == f"{DEFAULT_ISSUER}/oauth2/token"
    assert document["jwks_uri"] == f"{DEFAULT_ISSUER}/.well-known/jwks.json"
    assert document["end_session_endpoint"] == f"{DEFAULT_ISSUER}/logout"
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert response.headers["Access-Control-Allow-Origin"] == WEB_ORIGIN


def test_the_sign_in_form_asks_for_email_and_reviewer(client: Client) -> None:
    authorize = client.get(f"/oauth2/authorize?{_authorize_query(_verifier())}")
    page = client.get(authorize.headers["Location"])
    text = page.get_data(as_text=True)
    assert page.mimetype == "text/html"
    assert re.search(r'<label for="email">Email</label>\s*<input type="email" id="email" name="email"', text)
    assert re.search(
        r'<input type="checkbox" id="reviewer" name="reviewer"[^>]*>\s*<label for="reviewer">Reviewer</label>', text
    )
    assert '<button type="submit">Sign in</button>' in text


def test_code_flow_with_pkce_gives_a_cognito_shaped_id_token_the_api_accepts(
    client: Client, key: SigningKey, runtime: FakeRuntime
) -> None:
    # Given a reviewer signed in through the form
    verifier = _verifier()
    code = _sign_in(client, verifier, "Rita@Example.com", reviewer=True)
    # When the web client redeems the code with its verifier, from its own origin
    response = _token(client, code, verifier)
    # Then it gets ID, access and refresh tokens, never cached, readable by the web client's scripts
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Access-Control-Allow-Origin"] == WEB_ORIGIN
    tokens = response.get_json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
    # And the ID token verifies against the published key set, with Cognito's claims
    jwks = client.get("/.well-known/jwks.json").get_json()
    signing = jwt.PyJWKSet.from_dict(jwks)[jwt.get_unverified_header(tokens["id_token"])["kid"]].key
    claims = jwt.decode(
        tokens["id_token"], signing, algorithms=["RS256"], audience=DEFAULT_AUDIENCE, issuer=DEFAULT_ISSUER
    )
    assert claims["token_use"] == "id"
    assert claims["email"] == "Rita@Example.com" and claims["email_verified"] is True
    assert claims["cognito:groups"] == ["reviewers"]
    assert claims["auth_time"] <= claims["iat"] < claims["exp"]
    # And the subject is the one `vidsense token` gives the same address
    cli_token = issue_token(key, "rita@example.com")
    assert claims["sub"] == jwt.decode(cli_token, options={"verify_signature": False})["sub"]
    # And the access token is Cognito's shape too
    access = jwt.decode(tokens["access_token"], signing, algorithms=["RS256"], issuer=DEFAULT_ISSUER)
    assert access["token_use"] == "access" and access["client_id"] == DEFAULT_AUDIENCE and "aud" not in access
    assert access["sub"] == claims["sub"] and access["scope"] == "openid email profile"
    # And the HTTP API's JWT authorizer accepts the ID token and passes its claims on
    answer = client.get("/answers/demo/1", headers={"Authorization": f"Bearer {tokens['id_token']}"})
    assert answer.status_code == 200
    passed = runtime.calls[-1][1]["requestContext"]["authorizer"]["jwt"]["claims"]
    assert passed["email"] == "Rita@Example.com" and passed["cognito:groups"] == "[reviewers]"


def test_a_person_who_is_not_a_reviewer_has_no_groups(client: Client) -> None:
    verifier = _verifier()
    tokens = _token(client, _sign_in(client, verifier, "pat@example.com", reviewer=False), verifier).get_json()
    assert "cognito:groups" not in jwt.decode(tokens["id_token"], options={"verify_signature": False})


def test_wrong_verifier_is_refused_and_the_code_is_spent(client: Client) -> None:
    verifier = _verifier()
    code = _sign_in(client, verifier, "ana@example.com", reviewer=False)
    wrong = _token(client, code, _verifier())
    assert wrong.status_code == 400
    assert _error(wrong) == {
        "error": "invalid_grant",
        "error_description": "code_verifier does not match the code_challenge (PKCE)",
    }
    again = _token(client, code, verifier)
    assert again.status_code == 400 and "already used" in _error(again)["error_description"]


def test_a_code_is_redeemed_once(client: Client) -> None:
    verifier = _verifier()
    code = _sign_in(client, verifier, "ana@example.com", reviewer=False)
    assert _token(client, code, verifier).status_code == 200
    reused = _token(client, code, verifier)
    assert reused.status_code == 400
    assert _error(reused)["error"] == "invalid_grant" and "already used" in _error(reused)["error_description"]


def test_token_request_must_match_the_authorize_request(client: Client) -> None:
    verifier = _verifier()
    moved = _token(client, _sign_in(client, verifier, "a@example.com", reviewer=False), verifier, redirect_uri="x")
    assert moved.status_code == 400 and "redirect_uri" in _error(moved)["error_description"]
    missing = _token(client, "some-code", "")
    assert missing.status_code == 400 and _error(missing)["error_description"].startswith("code_verifier is required")
    as_json = client.post(
        "/oauth2/token", data=json.dumps({"grant_type": "authorization_code"}), content_type="application/json"
    )
    assert as_json.status_code == 400 and "x-www-form-urlencoded" in _error(as_json)["error_description"]


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"redirect_uri": "https://evil.example/callback"}, "is not one of the client's callback URLs"),
        ({"client_id": "someone-else"}, "unknown client_id"),
        ({"code_challenge": None, "code_challenge_method": None}, "PKCE is required"),
        ({"code_challenge_method": "plain"}, "must be S256 (plain is not accepted)"),
        ({"code_challenge_method": None}, "must be S256"),
        ({"response_type": "token"}, "response_type must be code"),
        ({"scope": "openid admin"}, "scope admin is not allowed"),
    ],
)
def test_bad_authorize_requests_get_a_clear_400_and_no_redirect(
    client: Client, overrides: dict[str, str | None], says: str
) -> None:
    response = client.get(f"/oauth2/authorize?{_authorize_query(_verifier(), **overrides)}")
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert says in html.unescape(response.get_data(as_text=True))


def test_a_missing_email_shows_the_form_again_with_the_reason(client: Client) -> None:
    verifier = _verifier()
    response = client.post("/login", data={**_fields(_authorize_query(verifier)), "email": "not an address"})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert 'role="alert">enter an e-mail address' in text and '<button type="submit">Sign in</button>' in text


def test_an_expired_code_is_refused(key: SigningKey) -> None:
    now = [1_000_000.0]
    pool = LocalUserPool(key, DEFAULT_ISSUER, local_app_client(), clock=lambda: now[0])
    verifier = _verifier()
    request = pool.check_authorize(_fields(_authorize_query(verifier)))
    code = parse_qs(urlsplit(pool.sign_in(request, "ana@example.com", reviewer=False)).query)["code"][0]
    now[0] += 301
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    with pytest.raises(OAuthError, match="expired"):
        pool.token({**form, "client_id": DEFAULT_AUDIENCE, "code_verifier": verifier})


def test_refresh_token_gives_new_tokens_until_revoked(client: Client) -> None:
    verifier = _verifier()
    tokens = _token(client, _sign_in(client, verifier, "ana@example.com", reviewer=True), verifier).get_json()
    form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": DEFAULT_AUDIENCE}
    refreshed = client.post("/oauth2/token", data=form)
    assert refreshed.status_code == 200
    claims = jwt.decode(refreshed.get_json()["id_token"], options={"verify_signature": False})
    assert claims["cognito:groups"] == ["reviewers"] and "refresh_token" not in refreshed.get_json()
    assert client.post("/oauth2/revoke", data={"token": tokens["refresh_token"]}).status_code == 200
    revoked = client.post("/oauth2/token", data=form)
    assert revoked.status_code == 400 and _error(revoked)["error"] == "invalid_grant"


def test_token_endpoint_cors_admits_only_the_web_client(client: Client) -> None:
    def preflight(origin: str) -> TestResponse:
        headers = {"Origin": origin, "Access-Control-Request-Method": "POST"}
        return client.options("/oauth2/token", headers=headers)

    allowed = preflight("http://localhost:5173")
    assert allowed.status_code == 204 and allowed.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert "content-type" in allowed.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Origin" not in preflight("http://evil.example").headers


def test_the_web_port_setting_moves_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDSENSE_WEB_PORT", "8123")
    app_client = local_app_client()
    # The stack's web client first; 5173 (a dev server, as the deployed stages list localhost:5173) stays.
    assert app_client.callback_urls == (
        "http://127.0.0.1:8123/callback",
        "http://localhost:8123/callback",
        "http://127.0.0.1:5173/callback",
        "http://localhost:5173/callback",
    )
    assert app_client.web_origins[:2] == ("http://127.0.0.1:8123", "http://localhost:8123")
    assert app_client.logout_urls[:2] == ("http://127.0.0.1:8123/", "http://localhost:8123/")


def test_sign_out_follows_only_a_registered_logout_uri(client: Client) -> None:
    query = urlencode({"client_id": DEFAULT_AUDIENCE, "logout_uri": "http://127.0.0.1:5173/"})
    out = client.get(f"/logout?{query}")
    assert out.status_code == 302 and out.headers["Location"] == "http://127.0.0.1:5173/"
    query = urlencode({"client_id": DEFAULT_AUDIENCE, "logout_uri": "https://evil.example/"})
    refused = client.get(f"/logout?{query}")
    assert refused.status_code == 400 and "not one of the client's sign-out URLs" in html.unescape(
        refused.get_data(as_text=True)
    )
