"""The local HTTP API's gateway behaviour on the real stack: authorizer 401s, 404, CORS, JWKS."""

from __future__ import annotations

import time

import pytest
import requests

from vidsense_local.auth import issue_token, load_or_create_key
from vidsense_local.demo import ApiClient

pytestmark = pytest.mark.e2e

UNAUTHORIZED = {"message": "Unauthorized"}


def _get(stack, path: str, token: str | None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return requests.get(stack.api_url + path, headers=headers, timeout=120)


def test_bad_tokens_get_401(stack, tmp_path):
    key = load_or_create_key(stack.state_dir)
    foreign = load_or_create_key(tmp_path)
    cases = {
        "missing": None,
        "malformed": "not-a-jwt",
        "wrongly signed": issue_token(foreign, "a@example.com", issuer=stack.issuer, audience=stack.audience),
        "expired": issue_token(
            key, "a@example.com", issuer=stack.issuer, audience=stack.audience, expires_in=5, now=time.time() - 60
        ),
        "other audience": issue_token(key, "a@example.com", issuer=stack.issuer, audience="someone-else"),
        "other issuer": issue_token(key, "a@example.com", issuer="http://127.0.0.1:1", audience=stack.audience),
    }
    for name, token in cases.items():
        response = _get(stack, "/presignedurl/e2e/1", token)
        assert response.status_code == 401, name
        assert response.json() == UNAUTHORIZED, name


def test_valid_token_reaches_the_function(stack):
    response = ApiClient(stack, "someone@example.com").get("/answers/e2e-none/1")
    assert response.status_code == 404  # the function's own 404: no answer yet
    assert response.json() != {"message": "Not Found"}


def test_bad_parameter_is_the_functions_400(stack):
    response = ApiClient(stack, "someone@example.com").presign("bad project!", "1")
    assert response.status_code == 400
    assert "project" in response.json()["message"]


def test_unknown_route_is_404(stack):
    token = ApiClient(stack, "someone@example.com").token
    response = _get(stack, "/videos", token)
    assert response.status_code == 404 and response.json() == {"message": "Not Found"}


def test_browser_preflight_is_answered(stack):
    response = ApiClient(stack, "someone@example.com").preflight("/presignedurl/e2e/1")
    assert response.status_code == 204
    assert response.headers.get("Access-Control-Allow-Origin")


def test_jwks_is_served(stack):
    keys = requests.get(f"{stack.api_url}/.well-known/jwks.json", timeout=10).json()["keys"]
    assert [k["kid"] for k in keys] == [load_or_create_key(stack.state_dir).kid]
