"""relayTranscoderEvents (and the reconciler): publish what a finished MediaConvert job means, once.

``mediaconvert.translate`` makes the event of a job's state change; this publishes it unless it went out already.
"""

from __future__ import annotations

from transcode.domain import naming
from transcode.domain.emission import already_emitted, publish_and_mark
from transcode.domain.outcome import Outcome, answer_ref
from transcode.domain.ports import JobStore
from vidsense_shared.events import TranscodeFailed, TranscoderCompleted
from vidsense_shared.publishing import EventPublisher


def publish_transcoder_outcome(
    event: TranscoderCompleted | TranscodeFailed, *, jobs: JobStore, publisher: EventPublisher
) -> Outcome:
    """Publish what a finished MediaConvert job means, once: its event id derives from job id and status."""
    key = naming.job_key(answer_ref(event.data))
    if already_emitted(jobs.get(key), event.DETAIL_TYPE, event.metadata.event_id):
        return Outcome.DUPLICATE
    publish_and_mark(event, key, jobs=jobs, publisher=publisher)
    return Outcome.PUBLISHED if isinstance(event, TranscoderCompleted) else Outcome.FAILED
