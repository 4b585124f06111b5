"""Answer identity: parameter shapes, object keys and the user key derived from the token's issuer and subject."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass

from ingest.domain.errors import InvalidParameterError
from vidsense_shared.events import answer_id, video_key

PROJECT_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
STEP_PATTERN = r"^(0|[1-9][0-9]{0,2})$"
USER_KEY_PATTERN = r"^[0-9a-f]{64}$"
VIDEO_CONTENT_TYPE = "video/webm"

_PROJECT = re.compile(PROJECT_PATTERN)
_STEP = re.compile(STEP_PATTERN)
_VIDEO_KEY = re.compile(
    r"^(?P<project>[A-Za-z0-9_-]{1,64})/(?P<step>0|[1-9][0-9]{0,2})/(?P<user_key>[0-9a-f]{64})\.webm$"
)


@dataclass(frozen=True)
class AnswerKey:
    """One person's answer to one project step."""

    project: str
    step: str
    user_key: str

    @property
    def answer_id(self) -> str:
        return answer_id(self.project, self.step, self.user_key)

    @property
    def video_key(self) -> str:
        return video_key(self.project, self.step, self.user_key)

    @property
    def project_step(self) -> str:
        return project_step(self.project, self.step)


def project_step(project: str, step: str) -> str:
    return f"{project}/{step}"


def validate_step_ref(project: str, step: str) -> None:
    """Raise InvalidParameterError naming the first bad path parameter."""
    if not _PROJECT.fullmatch(project):
        raise InvalidParameterError("project", "must match [A-Za-z0-9_-]{1,64}")
    if not _STEP.fullmatch(step):
        raise InvalidParameterError("step", "must be 0 or a number from 1 to 999 without leading zeros")


def user_key_for(secret: str, issuer: str, subject: str) -> str:
    """Lowercase hex HMAC-SHA256 of the issuer and subject: stable per stage, not reversible.

    Both go in as a compact JSON array, so no two (issuer, subject) pairs share a message: two identity
    providers that hand out the same subject never meet in one user key. Neither is normalised (exact strings).
    """
    message = json.dumps([issuer, subject], separators=(",", ":"))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def parse_video_key(key: str) -> AnswerKey | None:
    """The answer a media object key belongs to, or None when the key does not have the video shape."""
    match = _VIDEO_KEY.fullmatch(key)
    if match is None:
        return None
    return AnswerKey(match["project"], match["step"], match["user_key"])
