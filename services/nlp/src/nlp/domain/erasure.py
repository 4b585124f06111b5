"""The eraseAnswer use case: what nlp keeps of an answer, its metadata item (transcript, sentiment), goes."""

from __future__ import annotations

from dataclasses import dataclass

from nlp.domain.ports import MetadataItems
from vidsense_shared.events import AnswerDeleted


@dataclass(frozen=True)
class AnswerEraser:
    """Idempotent: a duplicate or replay finds nothing to delete. An item analysed after the erasure belongs to an
    answer recorded since (same id) and stays."""

    items: MetadataItems

    def erase(self, event: AnswerDeleted) -> bool:
        """Whether the answer's item was deleted (False: there was none, or only a newer answer's)."""
        return self.items.delete(event.data.answer_id, analyzed_before=event.metadata.occurred_at)
