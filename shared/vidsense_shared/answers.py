"""Where an answer is: step references and the user key, for the ingest service and the operator CLI alike.

The ingest service owns the answers table (its read model); the operator CLI reads it too. Both derive an answer's
key here (with ``events.answer_id``), so the two always agree on where an answer is
(docs/decisions/0003-user-key-from-subject.md). No AWS SDK here: the service domains import it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re

PROJECT_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
STEP_PATTERN = r"^(0|[1-9][0-9]{0,2})$"

_PROJECT = re.compile(PROJECT_PATTERN)
_STEP = re.compile(STEP_PATTERN)


class StepRefError(ValueError):
    """A project or step that cannot name an answer; ``parameter`` says which."""

    def __init__(self, parameter: str, reason: str) -> None:
        super().__init__(f"invalid {parameter}: {reason}")
        self.parameter = parameter
        self.reason = reason


def check_step_ref(project: str, step: str) -> None:
    """Raise StepRefError naming the first bad part of the reference."""
    if not _PROJECT.fullmatch(project):
        raise StepRefError("project", "must match [A-Za-z0-9_-]{1,64}")
    if not _STEP.fullmatch(step):
        raise StepRefError("step", "must be 0 or a number from 1 to 999 without leading zeros")


def user_key_for(secret: str, issuer: str, subject: str) -> str:
    """Lowercase hex HMAC-SHA256 of the issuer and subject: stable per stage, not reversible.

    Both go in as a compact JSON array, so no two (issuer, subject) pairs share a message: two identity
    providers that hand out the same subject never meet in one user key. Neither is normalised (exact strings).
    """
    message = json.dumps([issuer, subject], separators=(",", ":"))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
