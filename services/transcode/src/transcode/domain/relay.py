"""relayTranscoderEvents (and the reconciler): publish what a finished MediaConvert job means, once.

``mediaconvert.translate`` makes the event of a job's state change; this publishes it unless it went out already.
"""

from __future__ import annotations

from dataclasses import dataclass

from transcode.domain import naming
from transcode.domain.emission import already_emitted, publish_and_mark
from transcode.domain.mediaconvert import JobStateChange, Skipped, translate
from transcode.domain.outcome import Outcome, answer_ref
from transcode.domain.ports import JobStore
from vidsense_shared.events import TranscodeFailed, TranscoderCompleted
from vidsense_shared.publishing import EventPublisher


@dataclass(frozen=True)
class Relayed:
    event: TranscoderCompleted | TranscodeFailed
    outcome: Outcome  # PUBLISHED, FAILED, or DUPLICATE when it had gone out already


@dataclass(frozen=True)
class TranscoderRelay:
    stage: str
    jobs: JobStore
    publisher: EventPublisher

    def relay(self, change: JobStateChange) -> Relayed | Skipped:
        """The event of a MediaConvert job's state change, published once; Skipped for another stage's job or a
        status that ends nothing."""
        event = translate(change, self.stage)
        if isinstance(event, Skipped):
            return event
        return Relayed(event, publish_transcoder_outcome(event, jobs=self.jobs, publisher=self.publisher))


def publish_transcoder_outcome(
    event: TranscoderCompleted | TranscodeFailed, *, jobs: JobStore, publisher: EventPublisher
) -> Outcome:
    """Publish what a finished MediaConvert job means, once: its event id derives from job id and status."""
    key = naming.job_key(answer_ref(event.data))
    if already_emitted(jobs.get(key), event.DETAIL_TYPE, event.metadata.event_id):
        return Outcome.DUPLICATE
    publish_and_mark(event, key, jobs=jobs, publisher=publisher)
    return Outcome.PUBLISHED if isinstance(event, TranscoderCompleted) else Outcome.FAILED
