"""Local identity provider and a JWT authorizer that behaves like API Gateway's HTTP API JWT authorizer.

The RSA key pair is made on first use and kept in the ignored ``.local/`` folder, so tokens printed by
``vidsense token`` stay valid across stack restarts.
"""

from __future__ import annotations

from vidsense_local.auth.authorizer import Forbidden, JwtAuthorizer, Unauthorized, flatten_claims
from vidsense_local.auth.keys import (
    DEFAULT_AUDIENCE,
    DEFAULT_ISSUER,
    SigningKey,
    default_issuer,
    issue_token,
    load_or_create_key,
    local_subject,
)

__all__ = [
    "DEFAULT_AUDIENCE",
    "DEFAULT_ISSUER",
    "Forbidden",
    "JwtAuthorizer",
    "SigningKey",
    "Unauthorized",
    "default_issuer",
    "flatten_claims",
    "issue_token",
    "load_or_create_key",
    "local_subject",
]
