"""The local stand-in for a stage's Cognito user pool and its web app client (docs/local.md, "Sign-in").

What a web client sees of Cognito: an authorization code grant with PKCE (S256 only) for a public client (no
secret), redirect and sign-out URLs that must match the client's exactly, one-time codes that expire after five
minutes, ID tokens with Cognito's claims, access tokens with ``client_id`` and ``scope``, and opaque refresh
tokens. There are no passwords: the local sign-in form asks for an e-mail address and whether the person is a
reviewer. Subjects come from :func:`issue_token`, so ``vidsense token EMAIL`` and the form agree on ``sub``.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt

from vidsense_local.auth.keys import DEFAULT_AUDIENCE, SigningKey, issue_token

AUTHORIZE_PATH = "/oauth2/authorize"
TOKEN_PATH = "/oauth2/token"  # noqa: S105 - a path, not a password
LOGOUT_PATH = "/logout"
LOGIN_PATH = "/login"
JWKS_PATH = "/.well-known/jwks.json"
OPENID_PATH = "/.well-known/openid-configuration"

REVIEWER_GROUP = "reviewers"  # the stage parameter reviewerGroup, as the deployed pool's group
SCOPES = ("openid", "email", "profile")  # the deployed client's AllowedOAuthScopes
CODE_SECONDS = 300  # Cognito's authorization codes are valid for five minutes
TOKEN_SECONDS = 3600  # the deployed client's ID and access token validity (60 minutes)
REFRESH_SECONDS = 86400  # one day, as deployed

# RFC 7636: a verifier is 43 to 128 unreserved characters; an S256 challenge is 43 base64url characters.
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


class OAuthError(Exception):
    """A refused request: ``error`` is the OAuth 2.0 code, ``description`` says what is wrong."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def as_json(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass(frozen=True)
class AppClient:
    """The web client's registration: what the deployed UserPoolClient holds (stage parameters callbackUrls,
    logoutUrls), plus the origins whose scripts may call the token endpoint."""

    client_id: str
    callback_urls: tuple[str, ...]
    logout_urls: tuple[str, ...]
    web_origins: tuple[str, ...]


def local_app_client(client_id: str = DEFAULT_AUDIENCE) -> AppClient:
    """The local web client at ``http://127.0.0.1:<VIDSENSE_WEB_PORT>`` (5173), also reachable as localhost; 5173
    stays registered when the stack serves it elsewhere (a dev server's address, as the deployed stages' callback
    URLs keep ``localhost:5173``), so clients that assume it still sign in."""
    ports = dict.fromkeys([os.environ.get("VIDSENSE_WEB_PORT") or "5173", "5173"])
    origins = tuple(origin for port in ports for origin in (f"http://127.0.0.1:{port}", f"http://localhost:{port}"))
    return AppClient(
        client_id=client_id,
        callback_urls=tuple(f"{origin}/callback" for origin in origins),
        logout_urls=tuple(f"{origin}/" for origin in origins),
        web_origins=origins,
    )


@dataclass(frozen=True)
class AuthorizeRequest:
    """A checked ``/oauth2/authorize`` request, carried through the sign-in form."""

    client_id: str
    redirect_uri: str
    state: str | None
    code_challenge: str
    scope: tuple[str, ...]
    nonce: str | None

    def as_query(self) -> dict[str, str]:
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "code_challenge": self.code_challenge,
            "code_challenge_method": "S256",
            "scope": " ".join(self.scope),
        }
        if self.state is not None:
            query["state"] = self.state
        if self.nonce is not None:
            query["nonce"] = self.nonce
        return query


@dataclass(frozen=True)
class _Session:
    email: str
    groups: tuple[str, ...]
    scope: tuple[str, ...]
    auth_time: int
    nonce: str | None = None


@dataclass(frozen=True)
class _Code:
    session: _Session
    client_id: str
    redirect_uri: str
    code_challenge: str
    expires_at: float


@dataclass(frozen=True)
class _Refresh:
    session: _Session
    client_id: str
    expires_at: float


def s256(verifier: str) -> str:
    """The S256 code challenge of a PKCE verifier."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class LocalUserPool:
    """One user pool with one app client; codes and refresh tokens live in memory, like a session would."""

    key: SigningKey
    issuer: str
    client: AppClient
    clock: Callable[[], float] = time.time
    _codes: dict[str, _Code] = field(default_factory=dict)
    _refresh: dict[str, _Refresh] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- discovery -----------------------------------------------------------------------------------------
    def discovery(self) -> dict[str, Any]:
        """OpenID discovery. Cognito serves it at the issuer and the endpoints on the managed login domain; here
        both are the issuer's origin. ``end_session_endpoint`` is Cognito's ``/logout`` (not in its document)."""
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.issuer + AUTHORIZE_PATH,
            "token_endpoint": self.issuer + TOKEN_PATH,
            "end_session_endpoint": self.issuer + LOGOUT_PATH,
            "jwks_uri": self.issuer + JWKS_PATH,
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": list(SCOPES),
            "token_endpoint_auth_methods_supported": ["none"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": [
                *("iss", "sub", "aud", "exp", "iat", "auth_time", "token_use"),
                *("email", "email_verified", "cognito:groups", "nonce"),
            ],
        }

    # -- authorize -----------------------------------------------------------------------------------------
    def check_authorize(self, params: Mapping[str, str]) -> AuthorizeRequest:
        """The request to show the sign-in form for, or the reason to refuse it (never redirected: a wrong
        client or redirect URI must not send anybody anywhere)."""
        client_id = params.get("client_id", "")
        if client_id != self.client.client_id:
            raise OAuthError(
                "invalid_client", f"unknown client_id {client_id!r} (this pool's client: {self.client.client_id})"
            )
        redirect_uri = params.get("redirect_uri", "")
        self._check_redirect(redirect_uri)
        response_type = params.get("response_type", "")
        if response_type != "code":
            raise OAuthError("unsupported_response_type", f"response_type must be code, not {response_type!r}")
        challenge = params.get("code_challenge", "")
        method = params.get("code_challenge_method", "")
        if not challenge:
            raise OAuthError("invalid_request", "PKCE is required: send code_challenge with code_challenge_method=S256")
        if method != "S256":
            raise OAuthError(
                "invalid_request", f"code_challenge_method must be S256 (plain is not accepted), not {method!r}"
            )
        if not _CHALLENGE.fullmatch(challenge):
            raise OAuthError(
                "invalid_request", "code_challenge must be the 43-character base64url SHA-256 of the verifier"
            )
        scope = tuple((params.get("scope") or " ".join(SCOPES)).split())
        unknown = [s for s in scope if s not in SCOPES]
        if unknown:
            raise OAuthError("invalid_scope", f"scope {' '.join(unknown)} is not allowed (allowed: {' '.join(SCOPES)})")
        return AuthorizeRequest(
            client_id=client_id,
            redirect_uri=redirect_uri,
            state=params.get("state"),
            code_challenge=challenge,
            scope=scope,
            nonce=params.get("nonce"),
        )

    def _check_redirect(self, redirect_uri: str) -> None:
        if redirect_uri not in self.client.callback_urls:
            raise OAuthError(
                "invalid_request",
                f"redirect_uri {redirect_uri!r} is not one of the client's callback URLs "
                f"({', '.join(self.client.callback_urls)})",
            )

    def sign_in(self, request: AuthorizeRequest, email: str, *, reviewer: bool) -> str:
        """The address to send the browser back to after the form: the callback with a one-time code."""
        email = email.strip()
        if not _EMAIL.fullmatch(email):
            raise OAuthError("invalid_request", "enter an e-mail address such as you@example.com")
        now = self.clock()
        session = _Session(
            email=email,
            groups=(REVIEWER_GROUP,) if reviewer else (),
            scope=request.scope,
            auth_time=int(now),
            nonce=request.nonce,
        )
        code = str(uuid.uuid4())
        with self._lock:
            self._forget_expired(now)
            self._codes[code] = _Code(
                session=session,
                client_id=request.client_id,
                redirect_uri=request.redirect_uri,
                code_challenge=request.code_challenge,
                expires_at=now + CODE_SECONDS,
            )
        query = {"code": code}
        if request.state is not None:
            query["state"] = request.state
        return f"{request.redirect_uri}?{urlencode(query)}"

    # -- token ---------------------------------------------------------------------------------------------
    def token(self, form: Mapping[str, str]) -> dict[str, Any]:
        """The token endpoint's answer to a form-encoded request, or the OAuthError to send."""
        grant_type = form.get("grant_type", "")
        if grant_type == "authorization_code":
            return self._redeem_code(form)
        if grant_type == "refresh_token":
            return self._refresh_tokens(form)
        raise OAuthError(
            "unsupported_grant_type", f"grant_type must be authorization_code or refresh_token, not {grant_type!r}"
        )

    def _redeem_code(self, form: Mapping[str, str]) -> dict[str, Any]:
        for name in ("code", "redirect_uri", "client_id", "code_verifier"):
            if not form.get(name):
                raise OAuthError("invalid_request", f"{name} is required with grant_type=authorization_code")
        now = self.clock()
        with self._lock:
            # A code is good for one attempt: a second use, even after a failed one, is refused.
            code = self._codes.pop(form["code"], None)
        if code is None:
            raise OAuthError("invalid_grant", "the code is unknown or was already used")
        if code.expires_at <= now:
            raise OAuthError("invalid_grant", "the code has expired (codes are valid for 5 minutes)")
        if form["client_id"] != code.client_id:
            raise OAuthError("invalid_client", "client_id is not the client the code was issued to")
        if form["redirect_uri"] != code.redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri differs from the one of the authorize request")
        verifier = form["code_verifier"]
        if not _VERIFIER.fullmatch(verifier):
            raise OAuthError("invalid_request", "code_verifier must be 43 to 128 unreserved characters (RFC 7636)")
        if not secrets.compare_digest(s256(verifier), code.code_challenge):
            raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge (PKCE)")
        refresh_token = secrets.token_urlsafe(48)
        with self._lock:
            self._refresh[refresh_token] = _Refresh(code.session, code.client_id, now + REFRESH_SECONDS)
        return {**self._tokens(code.session, code.client_id, now), "refresh_token": refresh_token}

    def _refresh_tokens(self, form: Mapping[str, str]) -> dict[str, Any]:
        for name in ("refresh_token", "client_id"):
            if not form.get(name):
                raise OAuthError("invalid_request", f"{name} is required with grant_type=refresh_token")
        now = self.clock()
        with self._lock:
            grant = self._refresh.get(form["refresh_token"])
        if grant is None or grant.expires_at <= now:
            raise OAuthError("invalid_grant", "the refresh token is unknown, revoked or expired")
        if form["client_id"] != grant.client_id:
            raise OAuthError("invalid_client", "client_id is not the client the refresh token was issued to")
        # As Cognito: new ID and access tokens, the same refresh token.
        return self._tokens(grant.session, grant.client_id, now)

    def _tokens(self, session: _Session, client_id: str, now: float) -> dict[str, Any]:
        extra: dict[str, Any] = {"auth_time": session.auth_time}
        if session.nonce is not None:
            extra["nonce"] = session.nonce
        id_token = issue_token(
            self.key,
            session.email,
            groups=list(session.groups),
            expires_in=TOKEN_SECONDS,
            issuer=self.issuer,
            audience=client_id,
            now=now,
            extra_claims=extra,
        )
        subject = jwt.decode(id_token, options={"verify_signature": False})["sub"]
        access_claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": subject,
            "client_id": client_id,
            "token_use": "access",
            "scope": " ".join(session.scope),
            "auth_time": session.auth_time,
            "iat": int(now),
            "exp": int(now) + TOKEN_SECONDS,
            "jti": uuid.uuid4().hex,
            "username": subject,
        }
        if session.groups:
            access_claims["cognito:groups"] = list(session.groups)
        access_token = jwt.encode(access_claims, self.key.private_key, algorithm="RS256", headers={"kid": self.key.kid})
        return {
            "id_token": id_token,
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": TOKEN_SECONDS,
        }

    # -- sign-out ------------------------------------------------------------------------------------------
    def sign_out(self, params: Mapping[str, str]) -> str:
        """Where ``/logout`` sends the browser. There is no sign-in session to end locally (the form asks every
        time), so this checks the request as Cognito does and redirects."""
        client_id = params.get("client_id", "")
        if client_id != self.client.client_id:
            raise OAuthError("invalid_client", f"unknown client_id {client_id!r}")
        logout_uri = params.get("logout_uri", "")
        if logout_uri not in self.client.logout_urls:
            raise OAuthError(
                "invalid_request",
                f"logout_uri {logout_uri!r} is not one of the client's sign-out URLs "
                f"({', '.join(self.client.logout_urls)})",
            )
        return logout_uri

    def revoke(self, refresh_token: str) -> None:
        with self._lock:
            self._refresh.pop(refresh_token, None)

    def _forget_expired(self, now: float) -> None:
        for code in [c for c, grant in self._codes.items() if grant.expires_at <= now]:
            del self._codes[code]
        for token in [t for t, grant in self._refresh.items() if grant.expires_at <= now]:
            del self._refresh[token]
