"""An answer's state and event trail, read from the ingest read model (the answers table)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ingest.domain.keys import user_key_for, validate_step_ref
from vidsense_shared.events import answer_id


class AnswerNotFoundError(LookupError):
    """No answer for that person and step."""


def answers_table(stage: str) -> str:
    return f"vidsense-{stage}-answers"


def user_key_parameter(stage: str) -> str:
    return f"/vidsense/{stage}/user-key-secret"


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


def _plain(value: Any) -> Any:
    """DynamoDB's Decimal numbers as int, everything else as is."""
    return int(value) if hasattr(value, "as_integer_ratio") and not isinstance(value, float) else value


def _trail_entries(trail: Any) -> list[Any]:
    """The projector stores the trail as a map keyed by event id; a list is accepted too."""
    if isinstance(trail, dict):
        return list(trail.values())
    return list(trail or [])


def read_status(
    ssm: Any, dynamodb: Any, *, stage: str, project: str, step: str, email: str, parameter: str | None = None
) -> AnswerStatus:
    validate_step_ref(project, step)
    secret = ssm.get_parameter(Name=parameter or user_key_parameter(stage), WithDecryption=True)["Parameter"]
    key = answer_id(project, step, user_key_for(secret["Value"], email))
    item = dynamodb.Table(answers_table(stage)).get_item(Key={"answer_id": key}, ConsistentRead=True).get("Item")
    if item is None:
        raise AnswerNotFoundError(f"no answer for {project}/{step} and that email in stage {stage}")
    trail = sorted(
        (
            TrailEntry(
                detail_type=str(entry.get("detail_type")),
                occurred_at=str(entry.get("occurred_at")),
                attempt=int(_plain(entry.get("attempt", 0))),
                event_id=str(entry.get("event_id")),
            )
            for entry in _trail_entries(item.get("trail"))
        ),
        key=lambda e: e.occurred_at,
    )
    return AnswerStatus(
        answer_id=key,
        status=str(item.get("status")),
        attempt=int(_plain(item.get("attempt", 0))),
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
