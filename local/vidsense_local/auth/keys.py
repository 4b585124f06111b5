"""The local issuer's RSA key pair, its JWKS and token minting."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from vidsense_local.paths import state_dir

# Local stage parameters (docs/architecture.md, "Local stage").
DEFAULT_ISSUER = "http://127.0.0.1:3000"
DEFAULT_AUDIENCE = "vidsense-local"
KEY_FILE = "jwt-signing-key.pem"


def default_issuer() -> str:
    """The issuer the local stage's authorizer trusts: the HTTP API's own origin, as the deployed stage
    parameter ``jwtIssuer`` is (``VIDSENSE_JWT_ISSUER`` overrides it, as it does the deployment)."""
    configured = os.environ.get("VIDSENSE_JWT_ISSUER")
    if configured:
        return configured
    port = os.environ.get("VIDSENSE_API_PORT") or "3000"
    return f"http://127.0.0.1:{port}"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class SigningKey:
    private_key: rsa.RSAPrivateKey
    kid: str

    @property
    def public_jwk(self) -> dict[str, str]:
        jwk: dict[str, str] = RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": [self.public_jwk]}


def _thumbprint(public_key: rsa.RSAPublicKey) -> str:
    """RFC 7638 JWK thumbprint: a stable kid derived from the key itself."""
    numbers = public_key.public_numbers()
    e = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
    n = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
    canonical = json.dumps({"e": _b64url(e), "kty": "RSA", "n": _b64url(n)}, separators=(",", ":"))
    return _b64url(hashlib.sha256(canonical.encode()).digest())


def _from_pem(pem: bytes) -> SigningKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("the local signing key is not an RSA key")
    return SigningKey(private_key=key, kid=_thumbprint(key.public_key()))


def load_or_create_key(directory: Path | None = None) -> SigningKey:
    """Read the key pair, or make it; safe when two processes start at once (first writer wins)."""
    folder = directory or state_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / KEY_FILE
    if path.exists():
        return _from_pem(path.read_bytes())
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    tmp = folder / f".{KEY_FILE}.{uuid.uuid4().hex}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    try:
        # link() fails if another process got there first; then its key is the one to use.
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return _from_pem(path.read_bytes())


def local_subject(email: str) -> str:
    """The local issuer's ``sub`` for an email: one per address (any case, surrounding spaces), the same after a
    restart and on every machine, so the local stage needs no user store. Answers are keyed by issuer and subject,
    never by the email (docs/decisions/0003-user-key-from-subject.md); ``vidsense status --stage local`` looks an
    email up with this same rule."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"vidsense-local:{email.strip().lower()}"))


def issue_token(
    key: SigningKey,
    email: str,
    *,
    groups: list[str] | None = None,
    expires_in: int = 3600,
    issuer: str | None = None,
    audience: str = DEFAULT_AUDIENCE,
    now: float | None = None,
    extra_claims: dict[str, Any] | None = None,
) -> str:
    """An RS256 ID-token-like JWT for ``email`` (``email_verified`` true, ``sub`` stable per email: local_subject)."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "iss": issuer or default_issuer(),
        "aud": audience,
        "sub": local_subject(email),
        "email": email,
        "email_verified": True,
        "iat": issued,
        "exp": issued + expires_in,
        "jti": uuid.uuid4().hex,
        "token_use": "id",
    }
    if groups:
        claims["cognito:groups"] = list(groups)
    if extra_claims:
        claims.update(extra_claims)
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})
