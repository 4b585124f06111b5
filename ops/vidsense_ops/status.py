"""An answer's state and event trail, read from the ingest read model (the answers table).

The key and the item mapping are the ingest service's own, from vidsense_shared (``answers``, ``answers_table``):
the operator package imports no service.

The answer's key derives from the person's token issuer and subject (docs/decisions/0003-user-key-from-subject.md),
so the operator names the person by subject, or by email where the stage has a user pool to look it up in.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vidsense_ops.clients import OperatorError, ingest_outputs
from vidsense_shared.answers import check_step_ref, user_key_for
from vidsense_shared.answers_table import AnswerItems
from vidsense_shared.events import answer_id
from vidsense_shared.resources import LOCAL_STAGE, StageResources

# Outputs of the ingest stack (services/ingest/serverless.yml) that say who signs people in.
ISSUER_OUTPUT = "Issuer"
USER_POOL_OUTPUT = "UserPoolId"
# The local issuer's subject for an email (vidsense_local.auth.keys.local_subject; a test keeps them equal): the
# local stage's user pool is this rule, so a person's subject survives restarts and needs no file.
LOCAL_SUBJECT_PREFIX = "vidsense-local:"
# A plain address: no quote or backslash can break out of Cognito's filter string.
_EMAIL = re.compile(r'^[^@\s"\\]+@[^@\s"\\]+$')


@dataclass(frozen=True)
class Person:
    """Whom an answer belongs to: their token's issuer and subject (the user key derives from these two)."""

    issuer: str
    subject: str


class AnswerNotFoundError(LookupError):
    """No answer for that person and step."""


class PersonNotFoundError(LookupError):
    """The stage's user pool has no one with that email."""


def local_subject(email: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{LOCAL_SUBJECT_PREFIX}{email.strip().lower()}"))


def is_email(person: str) -> bool:
    """An argument with an @ names the person by email; anything else is the token's subject."""
    return "@" in person


def check_person(person: str) -> None:
    """Raise OperatorError when the argument can be neither an email nor a subject."""
    if is_email(person):
        if not _EMAIL.fullmatch(person.strip()) or not person.isprintable():
            raise OperatorError(f"{person!r} is not an email address: name the person by email or by subject (sub)")
    elif not person.strip() or not person.isprintable():
        raise OperatorError("the person is empty or unprintable: name them by email or by their token's sub")


def find_person(person: str, *, stage: str, client: Callable[[str], Any], issuer: str | None = None) -> Person:
    """The issuer and subject of the person named by ``person`` (a subject, or an email to look up)."""
    check_person(person)
    if issuer and not is_email(person):
        return Person(issuer=issuer, subject=person)
    otherwise = "pass --issuer with the stage's token issuer and the person's subject"
    outputs = ingest_outputs(client("cloudformation"), stage, otherwise=otherwise)
    issuer = issuer or outputs.get(ISSUER_OUTPUT)
    if not issuer:
        raise OperatorError(
            f"the stack {StageResources(stage).stack('ingest')} names no {ISSUER_OUTPUT} among its outputs (deployed"
            " before it had one): deploy it again, or pass --issuer with the stage's token issuer (jwtIssuer)"
        )
    if not is_email(person):
        return Person(issuer=issuer, subject=person)
    if stage == LOCAL_STAGE:
        return Person(issuer=issuer, subject=local_subject(person))
    pool = outputs.get(USER_POOL_OUTPUT)
    if not pool:
        raise OperatorError(
            f"stage {stage} has no user pool to look an email up in (its issuer is {issuer}): name the person by"
            " their token's subject (sub) instead"
        )
    return Person(issuer=issuer, subject=cognito_subject(client("cognito-idp"), pool, person.strip()))


def cognito_subject(cognito: Any, pool: str, email: str) -> str:
    users = cognito.list_users(UserPoolId=pool, Filter=f'email = "{email}"', AttributesToGet=["sub"], Limit=2)
    found = users.get("Users", [])
    if not found:
        raise PersonNotFoundError(f"no user with that email in the user pool {pool}")
    if len(found) > 1:
        raise OperatorError(f"more than one user of the user pool {pool} has that email: name the person by subject")
    subjects = [a["Value"] for a in found[0].get("Attributes", []) if a.get("Name") == "sub"]
    if not subjects:
        raise OperatorError(f"the user pool {pool} returned that user without a sub: name the person by subject")
    return str(subjects[0])


@dataclass(frozen=True)
class TrailEntry:
    detail_type: str
    occurred_at: str
    attempt: int
    event_id: str


@dataclass(frozen=True)
class AnswerStatus:
    answer_id: str
    status: str
    attempt: int
    error: str | None
    sentiment: str | None
    updated_at: str | None
    trail: list[TrailEntry]


def _trail_entries(trail: Any) -> list[Any]:
    """The projector stores the trail as a map keyed by event id; a list is accepted too."""
    if isinstance(trail, dict):
        return list(trail.values())
    return list(trail or [])


def read_status(
    ssm: Any,
    dynamodb: Any,  # a DynamoDB client
    *,
    stage: str,
    project: str,
    step: str,
    person: Person,
    parameter: str | None = None,
) -> AnswerStatus:
    check_step_ref(project, step)
    names = StageResources(stage)
    secret = ssm.get_parameter(Name=parameter or names.user_key_parameter, WithDecryption=True)["Parameter"]
    key = answer_id(project, step, user_key_for(secret["Value"], person.issuer, person.subject))
    item = AnswerItems(names.answers_table, dynamodb).get(key)
    if item is None:
        raise AnswerNotFoundError(f"no answer for {project}/{step} and that person in stage {stage}")
    trail = sorted(
        (
            TrailEntry(
                detail_type=str(entry.get("detail_type")),
                occurred_at=str(entry.get("occurred_at")),
                attempt=int(entry.get("attempt", 0)),
                event_id=str(entry.get("event_id")),
            )
            for entry in _trail_entries(item.get("trail"))
        ),
        key=lambda e: e.occurred_at,
    )
    return AnswerStatus(
        answer_id=key,
        status=str(item.get("status")),
        attempt=int(item.get("attempt", 0)),
        error=item.get("error"),
        sentiment=item.get("sentiment"),
        updated_at=item.get("updated_at"),
        trail=trail,
    )


def render(status: AnswerStatus) -> str:
    lines = [
        f"answer    {status.answer_id}",
        f"status    {status.status} (attempt {status.attempt})",
    ]
    if status.sentiment:
        lines.append(f"sentiment {status.sentiment}")
    if status.error:
        lines.append(f"error     {status.error}")
    if status.updated_at:
        lines.append(f"updated   {status.updated_at}")
    lines.append("trail:")
    lines += [f"  {e.occurred_at}  {e.detail_type:<20} attempt {e.attempt}  {e.event_id}" for e in status.trail]
    return "\n".join(lines)
