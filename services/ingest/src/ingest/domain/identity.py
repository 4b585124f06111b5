"""The caller, from the claims API Gateway's JWT authorizer passes (never from query parameters).

A person is the token's issuer and subject (OpenID Connect: together they name one account for good). The email
only gates access: the token must carry a usable address its provider verified, but the address itself is not
kept here, so nothing downstream can store or log it (docs/decisions/0003-user-key-from-subject.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ingest.domain.errors import ForbiddenError, UnauthorizedError

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
GROUPS_CLAIM = "cognito:groups"


class EmailClaim(StrEnum):
    """What the token says about the person's email, without the address."""

    UNUSABLE = "unusable"  # missing, not a string, not an address, or holding unprintable characters
    UNVERIFIED = "unverified"
    VERIFIED = "verified"


@dataclass(frozen=True)
class Person:
    """Who the caller is, for good: the user key derives from these two and nothing else."""

    issuer: str
    subject: str


@dataclass(frozen=True)
class Caller:
    issuer: str | None
    subject: str | None
    email: EmailClaim
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
        issuer=_usable_identifier(claims.get("iss")),
        subject=_usable_identifier(claims.get("sub")),
        email=_email_claim(claims.get("email"), claims.get("email_verified")),
        groups=parse_groups(claims.get(GROUPS_CLAIM)),
    )


def _usable_identifier(value: Any) -> str | None:
    # Taken exactly as issued (OpenID Connect compares iss and sub as exact strings); blank or unprintable
    # values (NUL, bidi overrides, lone surrogates) name nobody.
    if not isinstance(value, str) or not value.strip() or not value.isprintable():
        return None
    return value


def _email_claim(email: Any, verified: Any) -> EmailClaim:
    if not isinstance(email, str):
        return EmailClaim.UNUSABLE
    address = email.strip()
    # Control and format characters (NUL, bidi overrides) and lone surrogates belong in no real address.
    if not _EMAIL.fullmatch(address) or not address.isprintable():
        return EmailClaim.UNUSABLE
    return EmailClaim.VERIFIED if _is_true(verified) else EmailClaim.UNVERIFIED


def verified_person(caller: Caller) -> Person:
    """The caller as a person: a token naming its issuer and subject, with an email its provider verified.

    The verified email stays a precondition (API Gateway's authorizer does not check it): an account whose
    address is unconfirmed has not shown it belongs to anyone, so it may neither record nor review.
    """
    if caller.issuer is None:
        raise UnauthorizedError("the token carries no usable iss claim")
    if caller.subject is None:
        raise UnauthorizedError("the token carries no usable sub claim")
    if caller.email is EmailClaim.UNUSABLE:
        raise UnauthorizedError("the token carries no usable email claim")
    if caller.email is not EmailClaim.VERIFIED:
        raise UnauthorizedError("the email address is not verified")
    return Person(issuer=caller.issuer, subject=caller.subject)


def require_group(caller: Caller, group: str) -> None:
    if group not in caller.groups:
        raise ForbiddenError(f"only members of the {group} group may list answers")
