"""JWT authorizer with API Gateway HTTP API semantics.

API Gateway's documented workflow: take the token from the identity source (``Authorization`` header, raw or
``Bearer``-prefixed); find the signing key by ``kid`` in the issuer's JWKS; check the signature, ``iss`` (exact),
``aud`` (or ``client_id`` only when ``aud`` is absent) against the configured audiences, ``exp`` after now,
``nbf`` and ``iat`` before now; if the route requires scopes, ``scope``/``scp`` must hold one of them. Any failure
is 401 ``{"message":"Unauthorized"}`` (403 for a scope miss) and the integration is not invoked. Claims reach the
function as strings; arrays are rendered ``[a b]`` like API Gateway does.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jwt

Jwks = Mapping[str, Any]


class Unauthorized(Exception):
    """Token missing or invalid: 401."""

    def __init__(self, description: str, *, token_present: bool = True) -> None:
        super().__init__(description)
        self.description = description
        self.token_present = token_present

    @property
    def www_authenticate(self) -> str | None:
        # API Gateway explains an invalid token in this header; a missing one gets no explanation.
        if not self.token_present:
            return None
        return f'Bearer scope="" error="invalid_token" error_description="{self.description}"'


class Forbidden(Exception):
    """Valid token without any of the route's scopes: 403."""


@dataclass(frozen=True)
class AuthorizationResult:
    claims: dict[str, str]
    scopes: list[str] | None = field(default=None)

    def as_request_context(self) -> dict[str, Any]:
        return {"jwt": {"claims": self.claims, "scopes": self.scopes}}


def _render_claim(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + " ".join(_render_claim(item) or "" for item in value) + "]"
    return json.dumps(value, separators=(",", ":"))


def flatten_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as API Gateway passes them: strings, arrays as ``[a b]``, null claims left out."""
    rendered = {name: _render_claim(value) for name, value in claims.items()}
    return {name: value for name, value in rendered.items() if value is not None}


def _token_scopes(claims: Mapping[str, Any]) -> list[str]:
    raw = claims.get("scope", claims.get("scp"))
    if isinstance(raw, str):
        return raw.split()
    if isinstance(raw, list):
        return [str(item) for item in raw]
    return []


class JwtAuthorizer:
    """One configured JWT authorizer: an issuer, its audiences and where its JWKS comes from."""

    ALGORITHMS = ("RS256",)

    def __init__(
        self,
        issuer: str,
        audiences: Sequence[str],
        jwks: Callable[[], Jwks],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuer = issuer
        self.audiences = list(audiences)
        self._jwks = jwks
        self._clock = clock

    def authorize(self, authorization_header: str | None, route_scopes: Sequence[str] = ()) -> AuthorizationResult:
        parts = (authorization_header or "").split(None, 1)
        if parts and parts[0].lower() == "bearer":
            parts = parts[1:]
        token = parts[0].strip() if parts else ""
        if not token:
            raise Unauthorized("no token", token_present=False)
        claims = self._verify(token)
        scopes = _token_scopes(claims)
        if route_scopes and not set(route_scopes) & set(scopes):
            raise Forbidden("the token has none of the route's scopes")
        # API Gateway passes scopes only when the route asks for them (null otherwise).
        return AuthorizationResult(claims=flatten_claims(claims), scopes=scopes if route_scopes else None)

    def _verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("the token is malformed") from exc
        if header.get("alg") not in self.ALGORITHMS:
            raise Unauthorized("the token's signing algorithm is not supported")
        jwk = next((k for k in self._jwks().get("keys", []) if k.get("kid") == header.get("kid")), None)
        if jwk is None:
            raise Unauthorized("the token's kid is not in the issuer's key set")
        try:
            key = jwt.PyJWK(dict(jwk)).key
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=list(self.ALGORITHMS),
                # Time and audience are checked below with API Gateway's rules and no leeway.
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized("the token's signature is invalid") from exc
        self._check_claims(claims)
        return claims

    def _check_claims(self, claims: Mapping[str, Any]) -> None:
        now = self._clock()
        if claims.get("iss") != self.issuer:
            raise Unauthorized("the token does not have a valid issuer")
        audience = claims.get("aud", None)
        if audience is None:
            audience = claims.get("client_id")
        candidates = audience if isinstance(audience, list) else [audience]
        if not any(isinstance(a, str) and a in self.audiences for a in candidates):
            raise Unauthorized("the token does not have a valid audience")
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or isinstance(exp, bool) or exp <= now:
            raise Unauthorized("the token has expired")
        for name in ("nbf", "iat"):
            value = claims.get(name)
            if value is None:
                continue
            if not isinstance(value, int | float) or isinstance(value, bool) or value > now:
                raise Unauthorized(f"the token's {name} is in the future")
