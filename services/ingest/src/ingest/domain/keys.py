"""Answer identity: parameter shapes, object keys and the user key derived from the token's issuer and subject."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.domain.errors import InvalidParameterError
from vidsense_shared.answers import PROJECT_PATTERN, STEP_PATTERN, StepRefError, check_step_ref, user_key_for
from vidsense_shared.events import AnswerIdentity

__all__ = ["PROJECT_PATTERN", "STEP_PATTERN", "AnswerKey", "parse_video_key", "user_key_for", "validate_step_ref"]

USER_KEY_PATTERN = r"^[0-9a-f]{64}$"
VIDEO_CONTENT_TYPE = "video/webm"

_VIDEO_KEY = re.compile(
    r"^(?P<project>[A-Za-z0-9_-]{1,64})/(?P<step>0|[1-9][0-9]{0,2})/(?P<user_key>[0-9a-f]{64})\.webm$"
)


@dataclass(frozen=True)
class AnswerKey(AnswerIdentity):
    """One person's answer to one project step."""

    project: str
    step: str
    user_key: str

    @property
    def project_step(self) -> str:
        return project_step(self.project, self.step)


def project_step(project: str, step: str) -> str:
    return f"{project}/{step}"


def validate_step_ref(project: str, step: str) -> None:
    """Raise InvalidParameterError naming the first bad path parameter (the rule is shared with the operator CLI)."""
    try:
        check_step_ref(project, step)
    except StepRefError as exc:
        raise InvalidParameterError(exc.parameter, exc.reason) from None


def parse_video_key(key: str) -> AnswerKey | None:
    """The answer a media object key belongs to, or None when the key does not have the video shape."""
    match = _VIDEO_KEY.fullmatch(key)
    if match is None:
        return None
    return AnswerKey(match["project"], match["step"], match["user_key"])
