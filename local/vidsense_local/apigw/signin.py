"""The local user pool's web endpoints, served at the issuer (the HTTP API's origin) like Cognito's managed login.

``GET /oauth2/authorize`` checks the request and redirects to ``GET /login``, the local sign-in form (Email,
Reviewer, Sign in); ``POST /login`` sends the browser to the callback with a one-time code;
``POST /oauth2/token`` redeems it (PKCE) or a refresh token; ``POST /oauth2/revoke`` revokes a refresh token;
``GET /logout`` checks and follows ``logout_uri``; JWKS and OpenID discovery under ``/.well-known/``. The web
client's origins may call the JSON endpoints from scripts (CORS).
"""

from __future__ import annotations

import html
import json
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from vidsense_local.auth.userpool import (
    AUTHORIZE_PATH,
    JWKS_PATH,
    LOGIN_PATH,
    LOGOUT_PATH,
    OPENID_PATH,
    TOKEN_PATH,
    AuthorizeRequest,
    LocalUserPool,
    OAuthError,
)

REVOKE_PATH = "/oauth2/revoke"
PATHS = frozenset({AUTHORIZE_PATH, TOKEN_PATH, LOGOUT_PATH, LOGIN_PATH, JWKS_PATH, OPENID_PATH, REVOKE_PATH})
# Scripts of the web client call these with fetch.
_SCRIPTED = frozenset({TOKEN_PATH, REVOKE_PATH, JWKS_PATH, OPENID_PATH})

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - vidsense (local)</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1d2330; }}
main {{ max-width: 24rem; margin: 4rem auto; background: #fff; padding: 2rem; border-radius: 8px; }}
label, input, button {{ display: block; font-size: 1rem; }}
input[type=email] {{ width: 100%; box-sizing: border-box; padding: .5rem; margin: .25rem 0 1rem; }}
.check {{ display: flex; gap: .5rem; align-items: center; margin-bottom: 1.5rem; }}
button {{ padding: .6rem 1.2rem; background: #1f5fbf; color: #fff; border: 0; border-radius: 4px; }}
.error {{ color: #a4161a; }}
.note {{ color: #4a5568; font-size: .875rem; }}
</style>
</head>
<body>
<main>
<h1>{title}</h1>
{body}
</main>
</body>
</html>
"""


def _page(title: str, body: str, status: int = 200) -> Response:
    return Response(_PAGE.format(title=html.escape(title), body=body), status=status, mimetype="text/html")


def _error_page(error: OAuthError) -> Response:
    body = f'<p class="error" role="alert">{html.escape(error.description)}</p><p class="note">({error.error})</p>'
    return _page("Sign-in request refused", body, error.status)


def _form(request: AuthorizeRequest, *, email: str = "", error: str | None = None) -> str:
    hidden = "\n".join(
        f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
        for name, value in request.as_query().items()
    )
    alert = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    return f"""{alert}
<form method="post" action="{LOGIN_PATH}">
{hidden}
<label for="email">Email</label>
<input type="email" id="email" name="email" autocomplete="email" required value="{html.escape(email)}">
<div class="check">
<input type="checkbox" id="reviewer" name="reviewer" value="yes">
<label for="reviewer">Reviewer</label>
</div>
<button type="submit">Sign in</button>
</form>
<p class="note">Local stand-in for the stage's Cognito user pool: no password; a reviewer is in the reviewers
group.</p>"""


class SignInEndpoints:
    """Answers the user pool's paths; ``handle`` returns None for any other path (the API's routes)."""

    def __init__(self, pool: LocalUserPool) -> None:
        self.pool = pool

    def handle(self, request: Request) -> Response | None:
        if request.path not in PATHS:
            return None
        origin = request.headers.get("Origin")
        if request.method == "OPTIONS" and request.path in _SCRIPTED:
            response = Response(status=204)
            del response.headers["Content-Type"]
            if origin in self.pool.client.web_origins:
                response.headers["Access-Control-Allow-Methods"] = "GET,POST,OPTIONS"
                response.headers["Access-Control-Allow-Headers"] = "authorization,content-type"
                response.headers["Access-Control-Max-Age"] = "600"
        else:
            response = self._dispatch(request)
        if request.path in _SCRIPTED:
            response.headers.add("Vary", "Origin")
            if origin in self.pool.client.web_origins:
                response.headers["Access-Control-Allow-Origin"] = origin
        return response

    def _dispatch(self, request: Request) -> Response:
        routes = {
            ("GET", JWKS_PATH): lambda: _json(self.pool.key.jwks()),
            ("GET", OPENID_PATH): lambda: _json(self.pool.discovery()),
            ("GET", AUTHORIZE_PATH): lambda: self._authorize(request),
            ("GET", LOGIN_PATH): lambda: self._login_form(request),
            ("POST", LOGIN_PATH): lambda: self._login(request),
            ("POST", TOKEN_PATH): lambda: self._token(request),
            ("POST", REVOKE_PATH): lambda: self._revoke(request),
            ("GET", LOGOUT_PATH): lambda: self._logout(request),
        }
        handler = routes.get((request.method, request.path))
        if handler is None:
            allowed = sorted(method for method, path in routes if path == request.path)
            response = _json({"error": "invalid_request", "error_description": f"use {' or '.join(allowed)}"}, 405)
            response.headers["Allow"] = ", ".join(allowed)
            return response
        return handler()

    def _authorize(self, request: Request) -> Response:
        try:
            checked = self.pool.check_authorize(request.args)
        except OAuthError as exc:
            return _error_page(exc)
        return _redirect(f"{LOGIN_PATH}?{urlencode(checked.as_query())}")

    def _login_form(self, request: Request) -> Response:
        try:
            checked = self.pool.check_authorize(request.args)
        except OAuthError as exc:
            return _error_page(exc)
        return _page("Sign in", _form(checked))

    def _login(self, request: Request) -> Response:
        try:
            checked = self.pool.check_authorize(request.form)
        except OAuthError as exc:
            return _error_page(exc)
        email = request.form.get("email", "")
        try:
            target = self.pool.sign_in(checked, email, reviewer=bool(request.form.get("reviewer")))
        except OAuthError as exc:
            return _page("Sign in", _form(checked, email=email, error=exc.description), exc.status)
        return _redirect(target)

    def _token(self, request: Request) -> Response:
        if request.mimetype != "application/x-www-form-urlencoded":
            error = OAuthError("invalid_request", "send the token request as application/x-www-form-urlencoded")
            return _json(error.as_json(), error.status)
        try:
            tokens = self.pool.token(request.form)
        except OAuthError as exc:
            return _json(exc.as_json(), exc.status)
        response = _json(tokens)
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
        return response

    def _revoke(self, request: Request) -> Response:
        token = request.form.get("token", "")
        if not token:
            return _json({"error": "invalid_request", "error_description": "token is required"}, 400)
        self.pool.revoke(token)
        return Response(status=200)

    def _logout(self, request: Request) -> Response:
        try:
            return _redirect(self.pool.sign_out(request.args))
        except OAuthError as exc:
            return _error_page(exc)


def _json(body: object, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _redirect(location: str) -> Response:
    response = Response(status=302)
    del response.headers["Content-Type"]
    response.headers["Location"] = location
    return response
