"""The local identity provider and the API Gateway-like JWT authorizer."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from vidsense_local import cli
from vidsense_local.auth import (
    DEFAULT_AUDIENCE,
    DEFAULT_ISSUER,
    Forbidden,
    JwtAuthorizer,
    SigningKey,
    Unauthorized,
    default_issuer,
    flatten_claims,
    issue_token,
    load_or_create_key,
    local_subject,
)
from vidsense_local.auth.keys import KEY_FILE


@pytest.fixture(autouse=True)
def _default_local_issuer(monkeypatch):
    # Tokens default to the local issuer of the default API port.
    monkeypatch.delenv("VIDSENSE_API_PORT", raising=False)
    monkeypatch.delenv("VIDSENSE_JWT_ISSUER", raising=False)


@pytest.fixture(scope="module")
def key(tmp_path_factory) -> SigningKey:
    return load_or_create_key(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def authorizer(key: SigningKey) -> JwtAuthorizer:
    return JwtAuthorizer(DEFAULT_ISSUER, [DEFAULT_AUDIENCE], key.jwks)


def test_key_pair_is_made_once_and_kept(tmp_path):
    # Given no key yet, When it is loaded twice, Then the same key (and kid) comes back from the file.
    first = load_or_create_key(tmp_path)
    second = load_or_create_key(tmp_path)
    assert (tmp_path / KEY_FILE).exists()
    assert (tmp_path / KEY_FILE).stat().st_mode & 0o077 == 0
    assert first.kid == second.kid
    assert first.public_jwk["n"] == second.public_jwk["n"]


def test_jwks_publishes_only_the_public_key(key):
    jwk = key.jwks()["keys"][0]
    assert jwk["kid"] == key.kid and jwk["kty"] == "RSA" and jwk["alg"] == "RS256" and jwk["use"] == "sig"
    assert "d" not in jwk and "p" not in jwk


def test_token_has_the_local_claims(key):
    token = issue_token(key, "Ana@Example.com", groups=["reviewers"], expires_in=120)
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, key.private_key.public_key(), algorithms=["RS256"], audience=DEFAULT_AUDIENCE)
    assert header["alg"] == "RS256" and header["kid"] == key.kid
    assert claims["iss"] == DEFAULT_ISSUER and claims["aud"] == DEFAULT_AUDIENCE
    assert claims["email"] == "Ana@Example.com" and claims["email_verified"] is True
    assert claims["cognito:groups"] == ["reviewers"]
    assert claims["exp"] - claims["iat"] == 120 and claims["sub"]


def _subject(token: str) -> str:
    return str(jwt.decode(token, options={"verify_signature": False})["sub"])


def test_vidsense_token_gives_one_stable_subject_per_email(tmp_path, monkeypatch, capsys):
    # Given two state folders (two machines, or .local/ wiped between restarts: two different signing keys)
    def printed(state: str, *argv: str) -> str:
        monkeypatch.setenv("VIDSENSE_LOCAL_DIR", str(tmp_path / state))
        assert cli.main(["token", *argv]) == 0
        return _subject(capsys.readouterr().out.strip())

    # When `vidsense token` is run for the same address in any case and with any options
    first = printed("one", "ana@example.com")
    again = printed("two", " Ana@Example.COM", "--groups", "reviewers", "--expires-in", "60")
    # Then the subject is the same (answers are keyed by issuer and subject, docs/decisions/0003), another
    # address is another person, and the subject is not the email
    assert first == again == local_subject("ana@example.com")
    assert printed("one", "ana.b@example.com") != first
    assert "@" not in first and "ana" not in first


def test_valid_token_passes_claims_as_api_gateway_does(key, authorizer):
    token = issue_token(key, "ana@example.com", groups=["reviewers", "admins"])
    result = authorizer.authorize(f"Bearer {token}")
    assert result.claims["email"] == "ana@example.com"
    assert result.claims["email_verified"] == "true"
    assert result.claims["cognito:groups"] == "[reviewers admins]"
    assert result.claims["exp"].isdigit()
    assert result.scopes is None
    assert result.as_request_context() == {"jwt": {"claims": result.claims, "scopes": None}}


def test_token_without_bearer_prefix_is_accepted(key, authorizer):
    assert authorizer.authorize(issue_token(key, "a@b.c")).claims["email"] == "a@b.c"


@pytest.mark.parametrize("header", [None, "", "Bearer ", "   "])
def test_missing_token_is_unauthorized_without_explanation(authorizer, header):
    with pytest.raises(Unauthorized) as info:
        authorizer.authorize(header)
    assert info.value.www_authenticate is None


@pytest.mark.parametrize("header", ["Bearer abc", "Bearer a.b.c", "Basic dXNlcjpwYXNz"])
def test_malformed_token_is_unauthorized(authorizer, header):
    with pytest.raises(Unauthorized) as info:
        authorizer.authorize(header)
    assert 'error="invalid_token"' in (info.value.www_authenticate or "")


def test_token_signed_by_another_key_with_the_same_kid_is_unauthorized(key, authorizer):
    other = SigningKey(rsa.generate_private_key(public_exponent=65537, key_size=2048), kid=key.kid)
    with pytest.raises(Unauthorized, match="signature"):
        authorizer.authorize(issue_token(other, "a@b.c"))


def test_token_with_unknown_kid_is_unauthorized(key, authorizer):
    other = SigningKey(key.private_key, kid="someone-else")
    with pytest.raises(Unauthorized, match="kid"):
        authorizer.authorize(issue_token(other, "a@b.c"))


def test_tampered_payload_is_unauthorized(key, authorizer):
    header, payload, signature = issue_token(key, "a@b.c").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["email"] = "mallory@b.c"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    with pytest.raises(Unauthorized, match="signature"):
        authorizer.authorize(f"{header}.{forged}.{signature}")


def test_hs256_token_is_unauthorized(key, authorizer):
    token = jwt.encode(
        {"iss": DEFAULT_ISSUER, "aud": DEFAULT_AUDIENCE, "exp": time.time() + 60},
        "secret-secret-secret-secret-secret",
        algorithm="HS256",
        headers={"kid": key.kid},
    )
    with pytest.raises(Unauthorized, match="algorithm"):
        authorizer.authorize(token)


def test_expired_token_is_unauthorized(key, authorizer):
    token = issue_token(key, "a@b.c", expires_in=60, now=time.time() - 120)
    with pytest.raises(Unauthorized, match="expired"):
        authorizer.authorize(token)


def test_token_that_expires_now_is_unauthorized(key):
    fixed = 1_800_000_000.0
    authorizer = JwtAuthorizer(DEFAULT_ISSUER, [DEFAULT_AUDIENCE], key.jwks, clock=lambda: fixed)
    with pytest.raises(Unauthorized, match="expired"):
        authorizer.authorize(issue_token(key, "a@b.c", expires_in=10, now=fixed - 10))
    assert authorizer.authorize(issue_token(key, "a@b.c", expires_in=11, now=fixed - 10)).claims


def test_not_yet_valid_token_is_unauthorized(key, authorizer):
    token = issue_token(key, "a@b.c", extra_claims={"nbf": int(time.time()) + 300})
    with pytest.raises(Unauthorized, match="nbf"):
        authorizer.authorize(token)


def test_wrong_issuer_and_audience_are_unauthorized(key, authorizer):
    with pytest.raises(Unauthorized, match="issuer"):
        authorizer.authorize(issue_token(key, "a@b.c", issuer="http://127.0.0.1:9999"))
    with pytest.raises(Unauthorized, match="audience"):
        authorizer.authorize(issue_token(key, "a@b.c", audience="someone-else"))


def test_client_id_is_used_only_when_aud_is_absent(key, authorizer):
    token = issue_token(key, "a@b.c", extra_claims={"aud": None, "client_id": DEFAULT_AUDIENCE})
    assert authorizer.authorize(token).claims["client_id"] == DEFAULT_AUDIENCE
    both = issue_token(key, "a@b.c", audience="other", extra_claims={"client_id": DEFAULT_AUDIENCE})
    with pytest.raises(Unauthorized, match="audience"):
        authorizer.authorize(both)


def test_route_scopes_need_one_matching_token_scope(key, authorizer):
    token = issue_token(key, "a@b.c", extra_claims={"scope": "answers/read answers/write"})
    result = authorizer.authorize(token, route_scopes=["answers/read"])
    assert result.scopes == ["answers/read", "answers/write"]
    assert result.claims["scope"] == "answers/read answers/write"
    with pytest.raises(Forbidden):
        authorizer.authorize(token, route_scopes=["admin"])


def test_flatten_claims_renders_like_api_gateway():
    assert flatten_claims({"a": "x", "n": 5, "b": False, "l": ["p", "q"], "none": None, "o": {"k": 1}}) == {
        "a": "x",
        "n": "5",
        "b": "false",
        "l": "[p q]",
        "o": '{"k":1}',
    }


def test_default_issuer_follows_the_api_port_like_the_deployed_stage_parameter(monkeypatch):
    assert default_issuer() == DEFAULT_ISSUER
    monkeypatch.setenv("VIDSENSE_API_PORT", "3999")
    assert default_issuer() == "http://127.0.0.1:3999"
    monkeypatch.setenv("VIDSENSE_JWT_ISSUER", "http://idp.local")
    assert default_issuer() == "http://idp.local"
