"""uploadLanded's use case: record one landed object version and announce it (rules in domain/upload.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ingest.domain.answer_writes import change_answer
from ingest.domain.answers import AnswerRecord
from ingest.domain.errors import ConcurrentUpdateError, UnversionedObjectError
from ingest.domain.keys import parse_video_key
from ingest.domain.ports import AnswerRepository, Clock, MediaStore
from ingest.domain.upload import (
    AlreadyRecorded,
    EarlierAttempt,
    ErasingAnswer,
    LandedObject,
    LosingVersion,
    NewAttempt,
    UploadRejection,
    decide_upload,
    mark_published,
    upload_rejection,
    video_uploaded_event,
)
from vidsense_shared.events import VideoUploaded
from vidsense_shared.optimistic import retry_on_conflict
from vidsense_shared.publishing import EventPublisher, publish_then_mark


class UploadOutcome(StrEnum):
    PUBLISHED = "published"
    ALREADY_PUBLISHED = "already_published"
    REJECTED = "rejected"
    LOSING_VERSION_REMOVED = "losing_version_removed"
    VERSION_GONE = "version_gone"
    EARLIER_ATTEMPT = "earlier_attempt"
    UNRECOGNISED_KEY = "unrecognised_key"
    FOREIGN_BUCKET = "foreign_bucket"
    ERASING_ANSWER_VERSION_REMOVED = "erasing_answer_version_removed"


@dataclass(frozen=True)
class UploadResult:
    outcome: UploadOutcome
    # Outcome REJECTED: the rule the version broke and the values HeadObject reported when it was recorded.
    rejection: UploadRejection | None = None


@dataclass
class UploadRecorder:
    repo: AnswerRepository
    media: MediaStore
    publisher: EventPublisher
    media_bucket: str
    max_upload_bytes: int
    clock: Clock

    def record(self, bucket: str, key: str, version_id: str | None, event_time: datetime) -> UploadResult:
        """Record one landed object version and announce it; ``key`` is already URL-decoded."""
        if bucket != self.media_bucket:
            return UploadResult(UploadOutcome.FOREIGN_BUCKET)
        answer = parse_video_key(key)
        if answer is None:
            return UploadResult(UploadOutcome.UNRECOGNISED_KEY)
        if not version_id:
            # Attempts and first-version-wins rest on versions: an unversioned bucket is a deployment fault.
            raise UnversionedObjectError(f"{bucket}/{key} has no version id: is versioning enabled?")
        info = self.media.head_version(bucket, key, version_id)
        if info is None:
            return UploadResult(UploadOutcome.VERSION_GONE)
        landed = LandedObject(
            bucket=bucket,
            answer=answer,
            version_id=version_id,
            size_bytes=info.size_bytes,
            content_type=info.content_type,
            event_time=event_time,
        )

        def write_round() -> UploadOutcome | AnswerRecord:
            """The outcome, or the recorded attempt to announce (outside the rounds: a publish is not retried)."""
            stored = self.repo.get(answer.answer_id)
            decision = decide_upload(
                stored.record if stored else None, landed, max_bytes=self.max_upload_bytes, now=self.clock()
            )
            match decision:
                case LosingVersion():
                    self.media.delete_version(bucket, key, version_id)
                    return UploadOutcome.LOSING_VERSION_REMOVED
                case ErasingAnswer():
                    # Landed while the answer is erased: never recorded, and not left behind either.
                    self.media.delete_version(bucket, key, version_id)
                    return UploadOutcome.ERASING_ANSWER_VERSION_REMOVED
                case EarlierAttempt():
                    return UploadOutcome.EARLIER_ATTEMPT
                case AlreadyRecorded(record=record):
                    return record
                case NewAttempt(record=record):
                    self.repo.save(record, stored.revision if stored else None)
                    return record

        decided = retry_on_conflict(write_round, conflict=ConcurrentUpdateError, subject=answer.answer_id)
        return UploadResult(decided) if isinstance(decided, UploadOutcome) else self._publish(decided)

    def _publish(self, record: AnswerRecord) -> UploadResult:
        if record.video_event_id is None:
            # Judged again on the recorded values (a duplicate notification must not HEAD its way to another verdict).
            rejection = upload_rejection(record.size_bytes, record.content_type, self.max_upload_bytes)
            return UploadResult(UploadOutcome.REJECTED, rejection)
        if not record.needs_publish:
            return UploadResult(UploadOutcome.ALREADY_PUBLISHED)
        publish_then_mark(self.publisher, video_uploaded_event(record), self._mark_published)
        return UploadResult(UploadOutcome.PUBLISHED)

    def _mark_published(self, event: VideoUploaded) -> None:
        change_answer(
            self.repo,
            event.data.answer_id,
            lambda current: mark_published(current, event, now=self.clock()) if current else None,
        )
