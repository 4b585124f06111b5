"""The duplicate rule of every transcode step: publish first, then mark the event in the attempt's
jobs-table item (its ``emitted`` set), so a delivery that finds the mark publishes nothing.
"""

from __future__ import annotations

from transcode.domain.ports import JobRecord, JobStore
from vidsense_shared.events import DomainEvent, TranscodeFailed, TranscriptionFailed, TranscriptReady
from vidsense_shared.publishing import EventPublisher, publish_then_mark

# Events after which an attempt needs no more watching (the reconciler closes it).
FINAL_DETAIL_TYPES = frozenset(
    {TranscodeFailed.DETAIL_TYPE, TranscriptReady.DETAIL_TYPE, TranscriptionFailed.DETAIL_TYPE}
)


def emission_marker(detail_type: str, event_id: str) -> str:
    """What the jobs table keeps of a published event (its ``emitted`` set)."""
    return f"{detail_type}:{event_id}"


def already_emitted(record: JobRecord | None, detail_type: str, event_id: str) -> bool:
    return record is not None and emission_marker(detail_type, event_id) in record.emitted


def publish_and_mark(event: DomainEvent, job_key: str, *, jobs: JobStore, publisher: EventPublisher) -> None:
    """Publish, then add the event to the attempt's ``emitted`` set (vidsense_shared.publishing)."""
    publish_then_mark(
        publisher,
        event,
        lambda published: jobs.mark_emitted(
            job_key,
            emission_marker(published.DETAIL_TYPE, published.metadata.event_id),
            final=published.DETAIL_TYPE in FINAL_DETAIL_TYPES,
        ),
    )
