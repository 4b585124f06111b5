"""Signing in through the local stack's stand-in for Cognito, as the web client does, and calling the API."""

from __future__ import annotations

import re
import secrets
from urllib.parse import parse_qs, urljoin, urlsplit

import jwt
import pytest
import requests

from vidsense_local.auth import issue_token, load_or_create_key
from vidsense_local.auth.userpool import s256

from .conftest import RunningStack

pytestmark = pytest.mark.e2e

TIMEOUT = 120


def test_code_flow_with_pkce_signs_a_reviewer_in_and_the_api_accepts_the_id_token(stack, running: RunningStack):
    # Given the issuer's discovery document (the issuer is what the deployed authorizer trusts)
    discovery = requests.get(f"{stack.issuer}/.well-known/openid-configuration", timeout=TIMEOUT).json()
    assert discovery["issuer"] == stack.issuer
    # When a reviewer signs in through authorize and the form
    # The stack's own web client address (stack.json): this process's VIDSENSE_WEB_PORT may differ from the stack's.
    web_origin = running.web_url
    callback_url = f"{web_origin}/callback"
    verifier = secrets.token_urlsafe(48)
    query = {
        "response_type": "code",
        "client_id": stack.audience,
        "redirect_uri": callback_url,
        "state": "e2e",
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
    }
    authorize = requests.get(discovery["authorization_endpoint"], params=query, allow_redirects=False, timeout=TIMEOUT)
    assert authorize.status_code == 302, authorize.text
    form_url = urljoin(discovery["authorization_endpoint"], authorize.headers["Location"])
    form = requests.get(form_url, timeout=TIMEOUT)
    assert '<button type="submit">Sign in</button>' in form.text
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.text))
    posted = requests.post(
        urljoin(form_url, "/login"),
        data={**hidden, "email": "e2e-reviewer@example.com", "reviewer": "yes"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert posted.status_code == 302, posted.text
    callback = urlsplit(posted.headers["Location"])
    code = parse_qs(callback.query)["code"][0]
    # And the web client redeems the code with its verifier
    tokens = requests.post(
        discovery["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": callback_url,
            "client_id": stack.audience,
            "code_verifier": verifier,
        },
        headers={"Origin": web_origin},
        timeout=TIMEOUT,
    )
    assert tokens.status_code == 200, tokens.text
    assert tokens.headers["Access-Control-Allow-Origin"] == web_origin
    id_token = tokens.json()["id_token"]
    # Then the ID token is the one `vidsense token` would give the same reviewer (same sub, group)
    claims = jwt.decode(id_token, options={"verify_signature": False})
    cli = issue_token(load_or_create_key(stack.state_dir), "e2e-reviewer@example.com", groups=["reviewers"])
    assert claims["sub"] == jwt.decode(cli, options={"verify_signature": False})["sub"]
    assert claims["aud"] == stack.audience and claims["cognito:groups"] == ["reviewers"]
    # And the deployed API's authorizer accepts it: the reviewers' listing answers
    listing = requests.get(
        f"{stack.api_url}/projects/e2e-sign-in/steps/1/answers",
        headers={"Authorization": f"Bearer {id_token}"},
        timeout=TIMEOUT,
    )
    assert listing.status_code == 200, listing.text
