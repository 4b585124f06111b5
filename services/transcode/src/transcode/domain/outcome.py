"""What a transcode step did (its Outcome), and the answer attempt an event is about."""

from __future__ import annotations

import enum

from vidsense_shared.events import AnswerRef


class Outcome(enum.StrEnum):
    STARTED = "started"
    RESUMED = "resumed"  # a record without job id: the previous attempt crashed before CreateJob returned
    ALREADY_STARTED = "already_started"
    PUBLISHED = "published"  # the success event was published
    FAILED = "failed"  # a failure event was published
    SKIPPED = "skipped"  # not this stage's job, or a non-terminal status
    DUPLICATE = "duplicate"  # the same event again: its outcome was already published, nothing done


def answer_ref(data: AnswerRef) -> AnswerRef:
    """The answer attempt alone, without the fields a pipeline event adds to it (``**ref.model_dump()``)."""
    return AnswerRef(project=data.project, step=data.step, user_key=data.user_key, attempt=data.attempt)
