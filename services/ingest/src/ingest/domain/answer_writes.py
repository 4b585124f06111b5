"""The one way the use cases change an answer's record: read, decide, write conditionally, again on a lost race."""

from __future__ import annotations

from collections.abc import Callable

from ingest.domain.answers import AnswerRecord
from ingest.domain.errors import ConcurrentUpdateError
from ingest.domain.ports import AnswerRepository
from vidsense_shared.optimistic import retry_on_conflict


def change_answer(
    repo: AnswerRepository,
    answer_id: str,
    change: Callable[[AnswerRecord | None], AnswerRecord | None],
) -> AnswerRecord | None:
    """Read, compute, conditionally write; returns the written record or None when nothing changed."""

    def write_round() -> AnswerRecord | None:
        stored = repo.get(answer_id)
        new = change(stored.record if stored else None)
        if new is not None:
            repo.save(new, stored.revision if stored else None)
        return new

    return retry_on_conflict(write_round, conflict=ConcurrentUpdateError, subject=answer_id)
