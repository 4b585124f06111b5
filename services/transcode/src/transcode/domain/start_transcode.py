"""startTranscode: one MediaConvert job per answer attempt."""

from __future__ import annotations

from dataclasses import dataclass

from transcode.domain import naming
from transcode.domain.emission import already_emitted, publish_and_mark
from transcode.domain.job_metadata import JobMetadata
from transcode.domain.outcome import Outcome, answer_ref
from transcode.domain.ports import JobRecord, JobStore, Transcoder, TranscodeRejectedError, TranscodeRequest
from vidsense_shared.events import TranscodeFailed, TranscodeFailedData, VideoUploaded, derived_event_id
from vidsense_shared.publishing import EventPublisher


class JobRecordContendedError(RuntimeError):
    """Another delivery replaced (or the erasure deleted) an erased recording's record first; the retry decides."""


@dataclass(frozen=True)
class TranscodeStarter:
    stage: str
    work_bucket: str
    jobs: JobStore
    transcoder: Transcoder
    publisher: EventPublisher

    def start(self, event: VideoUploaded, *, replay: bool = False) -> Outcome:
        """Start exactly one MediaConvert job per answer attempt.

        MediaConvert's ClientRequestToken only deduplicates for about a minute, so the jobs table is the
        idempotency record: the conditional write decides who starts the job, and the job id written after
        CreateJob tells a later delivery that there is nothing left to do. A duplicate of an event whose job
        was refused does nothing; a replay (``replay``) tries CreateJob again, since operators replay after a fix.

        Attempts restart at 1 after an erasure, so the record found may be an erased recording's that eraseAnswer has
        not deleted yet (late, retrying, dead-lettered): a newer VideoUploaded replaces it (conditionally, so of two
        deliveries only one wins) and starts its own job; an older one (a late delivery or replay of the erased
        recording's event) does nothing.
        """
        ref = answer_ref(event.data)
        key = naming.job_key(ref)
        token = naming.client_request_token(self.stage, ref, event.data.video)
        failure_id = derived_event_id(event.metadata.event_id, TranscodeFailed.DETAIL_TYPE)
        claim = JobRecord(
            job_key=key,
            client_request_token=token,
            video_uploaded_event_id=event.metadata.event_id,
            video_uploaded_at=event.metadata.occurred_at,
        )
        existing = self.jobs.claim(claim)
        if existing is not None and existing.video_uploaded_event_id not in ("", event.metadata.event_id):
            if not _supersedes(event, existing, replay=replay):
                return Outcome.SKIPPED
            if not self.jobs.replace(claim, previous_event_id=existing.video_uploaded_event_id):
                raise JobRecordContendedError(f"the record of {key} changed while replacing it")
            existing = None
        if existing is not None and existing.mediaconvert_job_id:
            return Outcome.ALREADY_STARTED
        if not replay and already_emitted(existing, TranscodeFailed.DETAIL_TYPE, failure_id):
            return Outcome.DUPLICATE
        # A partial record (fields empty) falls back to this delivery's values.
        causation_id = (existing.video_uploaded_event_id if existing else "") or event.metadata.event_id
        metadata = JobMetadata.for_attempt(self.stage, ref, causation_id=causation_id)
        request = TranscodeRequest(
            input_uri=event.data.video.uri,
            destination_uri=f"s3://{self.work_bucket}/{naming.audio_destination(self.stage, ref)}",
            user_metadata=metadata.to_user_metadata(),
            # The same token on a crash-recovery retry lets MediaConvert itself drop a duplicate within its window.
            client_request_token=(existing.client_request_token if existing else "") or token,
        )
        try:
            job_id = self.transcoder.create_job(request)
        except TranscodeRejectedError as exc:
            failure = TranscodeFailed.create(
                TranscodeFailedData(
                    **ref.model_dump(),
                    video_event_id=event.metadata.event_id,
                    error_code=exc.code,
                    error_message=exc.message,
                ),
                correlation_id=event.metadata.correlation_id,
                causation_id=event.metadata.event_id,
                event_id=failure_id,
            )
            publish_and_mark(failure, key, jobs=self.jobs, publisher=self.publisher)
            return Outcome.FAILED
        self.jobs.mark_transcode_started(key, job_id)
        return Outcome.RESUMED if existing else Outcome.STARTED


def _supersedes(event: VideoUploaded, existing: JobRecord, *, replay: bool) -> bool:
    """Whether this upload is a later recording than the one the record was written for."""
    if existing.video_uploaded_at is None:  # a record older than the field: only a live delivery is taken as newer
        return not replay
    return event.metadata.occurred_at > existing.video_uploaded_at
