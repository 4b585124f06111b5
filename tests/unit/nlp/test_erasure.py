"""eraseAnswer's use case: the answer's metadata item goes, cut off at the erasure's time."""

from __future__ import annotations

from datetime import UTC, datetime

from nlp.domain.erasure import AnswerEraser
from vidsense_shared.events import AnswerDeleted, AnswerDeletedData

USER_KEY = "ab" * 32
ERASED_AT = datetime(2026, 11, 29, 10, 30, tzinfo=UTC)


class RecordingItems:
    def __init__(self, *, present: bool) -> None:
        self.present = present
        self.calls: list[tuple[str, datetime]] = []

    def delete(self, answer_id: str, analyzed_before: datetime) -> bool:
        self.calls.append((answer_id, analyzed_before))
        return self.present


def deleted() -> AnswerDeleted:
    data = AnswerDeletedData(project="onboarding", step="2", user_key=USER_KEY, attempt=2)
    return AnswerDeleted.create(data, correlation_id=data.answer_id, causation_id=None, occurred_at=ERASED_AT)


def test_the_answers_item_goes_unless_analysed_after_the_erasure():
    # Given the answer's stored item, When its AnswerDeleted arrives
    items = RecordingItems(present=True)
    assert AnswerEraser(items).erase(deleted()) is True
    # Then the item of that answer id is deleted, only if analysed at or before the erasure
    assert items.calls == [(f"onboarding/2/{USER_KEY}", ERASED_AT)]


def test_nothing_left_to_delete_is_reported_not_raised():
    assert AnswerEraser(RecordingItems(present=False)).erase(deleted()) is False
