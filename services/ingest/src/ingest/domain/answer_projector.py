"""projectAnswers' use case: apply one pipeline event to the answer's record (rules in domain/projection.py)."""

from __future__ import annotations

from dataclasses import dataclass

from ingest.domain.answer_writes import change_answer
from ingest.domain.answers import AnswerRecord
from ingest.domain.errors import AnswerNotFoundError
from ingest.domain.ports import AnswerRepository, Clock
from ingest.domain.projection import ProjectionOutcome, answer_of, project
from vidsense_shared.events import DomainEvent


@dataclass
class AnswerProjector:
    repo: AnswerRepository
    clock: Clock

    def apply(self, event: DomainEvent) -> ProjectionOutcome:
        """Project one pipeline event; the outcome of the round that wrote (or decided not to write)."""
        answer_id = answer_of(event).answer_id
        outcome = ProjectionOutcome.DUPLICATE

        def change(current: AnswerRecord | None) -> AnswerRecord | None:
            nonlocal outcome
            if current is None:
                raise AnswerNotFoundError(f"no answer {answer_id} for {event.DETAIL_TYPE}")
            outcome, new = project(current, event, now=self.clock())
            return new

        change_answer(self.repo, answer_id, change)
        return outcome
