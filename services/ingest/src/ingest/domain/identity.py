"""The caller, from the claims API Gateway's JWT authorizer passes (never from query parameters)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ingest.domain.errors import ForbiddenError, UnauthorizedError

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
GROUPS_CLAIM = "cognito:groups"


@dataclass(frozen=True)
class Caller:
    email: str | None
    email_verified: bool
    groups: frozenset[str]


def _is_true(value: Any) -> bool:
    # HTTP API JWT authorizers turn every claim into a string: accept the boolean and its string form.
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def parse_groups(value: Any) -> frozenset[str]:
    """Groups from a real list or from HTTP API's flattened form ``[reviewers admins]``."""
    if value is None:
        return frozenset()
    if isinstance(value, list | tuple):
        return frozenset(str(item).strip() for item in value if str(item).strip())
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("[") and text.endswith("]"):
            text = text[1:-1]
        return frozenset(part.strip("\"' ") for part in re.split(r"[\s,]+", text) if part.strip("\"' "))
    return frozenset()


def caller_from_claims(claims: Mapping[str, Any] | None) -> Caller:
    if not claims:
        raise UnauthorizedError("no identity in the request")
    return Caller(
        email=_usable_email(claims.get("email")),
        email_verified=_is_true(claims.get("email_verified")),
        groups=parse_groups(claims.get(GROUPS_CLAIM)),
    )


def _usable_email(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    email = value.strip()
    # Control and format characters (NUL, bidi overrides) and lone surrogates are not printable and belong in
    # no real address; a surrogate would not even encode for the user key's HMAC.
    if not _EMAIL.fullmatch(email) or not email.isprintable():
        return None
    return email


def verified_email(caller: Caller) -> str:
    """The caller's email, only when present and verified by the identity provider."""
    if caller.email is None:
        raise UnauthorizedError("the token carries no usable email claim")
    if not caller.email_verified:
        raise UnauthorizedError("the email address is not verified")
    return caller.email


def require_group(caller: Caller, group: str) -> None:
    if group not in caller.groups:
        raise ForbiddenError(f"only members of the {group} group may list answers")
