"""Erasure of one answer (DELETE /answers): the pure rules; ``AnswerApi.delete`` runs them in order.

Order, so that a crash at any point leaves a trace a retried DELETE continues from: mark the item DELETING
(only from a final status: no pipeline event is in flight) -> publish AnswerDeleted (transcode and nlp erase
their part) -> delete every version of the video -> delete the item.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from ingest.domain.answers import FINAL_STATUSES, AnswerRecord, Status
from ingest.domain.errors import AnswerBusyError
from vidsense_shared.events import APP, AnswerDeleted, AnswerDeletedData

# What a 409 tells the client: how long processing usually takes before the answer may be erased.
RETRY_AFTER_SECONDS = 30


def erasure_event_id(record: AnswerRecord) -> str:
    """Deterministic AnswerDeleted id: a retried DELETE republishes the same event.

    The attempt's version id is in it, so erasing a later answer (uploaded after an erasure) gets a new id.
    """
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{APP}:{record.answer_id}?versionId={record.version_id}:AnswerDeleted"))


def mark_deleting(record: AnswerRecord, *, now: datetime) -> AnswerRecord | None:
    """The record marked DELETING; None when it already is (a retried DELETE continues the erasure)."""
    if record.status is Status.DELETING:
        return None
    if record.status not in FINAL_STATUSES:
        raise AnswerBusyError(f"the answer is still being processed (status {record.status.value})")
    return record.model_copy(update={"status": Status.DELETING, "deleting_at": now, "updated_at": now})


def answer_deleted_event(record: AnswerRecord) -> AnswerDeleted:
    """The AnswerDeleted event of a DELETING record, rebuilt identically on every retry."""
    if record.status is not Status.DELETING or record.deleting_at is None:
        raise ValueError(f"{record.answer_id} is not being erased")
    data = AnswerDeletedData(project=record.project, step=record.step, user_key=record.user_key, attempt=record.attempt)
    return AnswerDeleted.create(
        data,
        correlation_id=record.answer_id,
        causation_id=None,
        event_id=erasure_event_id(record),
        occurred_at=record.deleting_at,
    )
