"""The HTTP API's use cases (handlers/api.py): a person's presigned upload, own answer and its erasure, and a
reviewer's listing of a step.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ingest.domain.answers import AnswerRecord, Status
from ingest.domain.erasure import answer_deleted_event, mark_deleting
from ingest.domain.errors import (
    AnswerBusyError,
    AnswerExistsError,
    AnswerNotFoundError,
    ConcurrentUpdateError,
    MediaStoreError,
    TranscriptUnavailableError,
)
from ingest.domain.identity import Caller, require_group, verified_person
from ingest.domain.keys import VIDEO_CONTENT_TYPE, AnswerKey, project_step, user_key_for, validate_step_ref
from ingest.domain.limits import RecordingWindow, admit, attempt_tag, release
from ingest.domain.ports import AnswerRepository, Clock, MediaStore, RecordingWindows, StoredAnswer, UserKeySecret
from ingest.domain.views import (
    AnswerPage,
    AnswerView,
    DeletedAnswer,
    PresignedUpload,
    answer_summary,
    answer_view,
    check_limit,
    decode_cursor,
    deleted_answer,
    encode_cursor,
    transcript_text,
)
from vidsense_shared.optimistic import retry_on_conflict
from vidsense_shared.publishing import EventPublisher

logger = logging.getLogger(__name__)
# A listing page reads at most MAX_PAGE transcript objects; this many GETs run at once (I/O bound, small objects).
TRANSCRIPT_READERS = 16


@dataclass
class AnswerApi:
    repo: AnswerRepository
    media: MediaStore
    secret: UserKeySecret
    media_bucket: str
    max_upload_bytes: int
    expires_in: int
    reviewer_group: str
    publisher: EventPublisher
    clock: Clock
    # Each person's new recordings in a rolling day (domain/limits.py).
    recordings: RecordingWindows
    max_recordings_per_day: int

    def _own_answer_key(self, caller: Caller, project: str, step: str) -> AnswerKey:
        validate_step_ref(project, step)
        person = verified_person(caller)
        return AnswerKey(project, step, user_key_for(self.secret.value(), person.issuer, person.subject))

    def presign(self, caller: Caller, project: str, step: str) -> PresignedUpload:
        answer = self._own_answer_key(caller, project, step)
        stored = self.repo.get(answer.answer_id)
        if stored is not None and stored.record.status is Status.DELETING:
            raise AnswerBusyError("the answer is being deleted")
        if stored is not None and stored.record.status is not Status.FAILED:
            raise AnswerExistsError(answer.answer_id)
        # An object with no record yet is an upload whose notification has not been processed: still taken.
        if stored is None and self.media.exists(self.media_bucket, answer.video_key):
            raise AnswerExistsError(answer.answer_id)
        # Counted only now that the presign opens an attempt: a refused one costs the person nothing.
        opens = attempt_tag(answer.project_step, 1 if stored is None else stored.record.attempt + 1)
        self._change_window(
            answer.user_key, lambda window: admit(window, opens, limit=self.max_recordings_per_day, now=self.clock())
        )
        form = self.media.presign_post(
            self.media_bucket,
            answer.video_key,
            content_type=VIDEO_CONTENT_TYPE,
            max_bytes=self.max_upload_bytes,
            expires_in=self.expires_in,
        )
        return PresignedUpload(key=answer.video_key, expires_in=self.expires_in, upload=form)

    def own_answer(self, caller: Caller, project: str, step: str) -> AnswerView:
        answer = self._own_answer_key(caller, project, step)
        stored = self.repo.get(answer.answer_id)
        if stored is None:
            raise AnswerNotFoundError(answer.answer_id)
        record = stored.record
        text = None
        if record.transcript is not None and record.status is not Status.DELETING:
            try:
                text = transcript_text(self.media.read_json(record.transcript))
            except TranscriptUnavailableError:
                # A FAILED answer may have failed for this very reason (SentimentFailed TranscriptMissing): show
                # its status and reason, not a 502. Any other status expects the transcript to be there.
                if record.status is not Status.FAILED:
                    raise
        return answer_view(record, text)

    def delete(self, caller: Caller, project: str, step: str) -> DeletedAnswer:
        """Erase the caller's answer (see domain/erasure.py for the order); a retry continues where it stopped."""
        answer = self._own_answer_key(caller, project, step)
        stored = self._mark_deleting(answer)
        record = stored.record
        self.publisher.publish(answer_deleted_event(record))
        self.media.delete_all_versions(record.bucket, record.key)
        # Before the item goes (a retried DELETE repeats it): recording this step again is a new recording.
        self._change_window(answer.user_key, lambda window: release(window, answer.project_step))
        try:
            self.repo.delete(record.answer_id, stored.revision)
        except ConcurrentUpdateError:
            # Only a concurrent DELETE of the same answer gets here (no other writer touches a DELETING item).
            if self.repo.get(record.answer_id) is not None:
                raise
        return deleted_answer(record)

    def _change_window(self, user_key: str, change: Callable[[RecordingWindow | None], RecordingWindow | None]) -> None:
        """Read, compute, conditionally write the person's recording window (None from ``change``: no write)."""

        def write_round() -> None:
            stored = self.recordings.get(user_key)
            new = change(stored.window if stored else None)
            if new is not None:
                self.recordings.save(user_key, new, stored.revision if stored else None)

        retry_on_conflict(write_round, conflict=ConcurrentUpdateError, subject="a recording window")

    def _mark_deleting(self, answer: AnswerKey) -> StoredAnswer:
        def write_round() -> StoredAnswer:
            stored = self.repo.get(answer.answer_id)
            if stored is None:
                # An object with no record yet is an upload whose notification has not been processed.
                if self.media.exists(self.media_bucket, answer.video_key):
                    raise AnswerBusyError("the upload has landed and is not recorded yet")
                raise AnswerNotFoundError(answer.answer_id)
            marked = mark_deleting(stored.record, now=self.clock())
            if marked is None:
                return stored
            self.repo.save(marked, stored.revision)
            return StoredAnswer(marked, stored.revision + 1)

        return retry_on_conflict(write_round, conflict=ConcurrentUpdateError, subject=answer.answer_id)

    def list_step(self, caller: Caller, project: str, step: str, limit: int | None, cursor: str | None) -> AnswerPage:
        validate_step_ref(project, step)
        # A reviewer is a person too: an unverified email is no identity (API Gateway's authorizer does not check it).
        verified_person(caller)
        require_group(caller, self.reviewer_group)
        page_size = check_limit(limit)
        ps = project_step(project, step)
        start = decode_cursor(cursor, ps) if cursor else None
        records, last_key = self.repo.list_step(ps, page_size, start)
        texts = self._transcripts(records)
        return AnswerPage(
            items=[answer_summary(r, text) for r, text in zip(records, texts, strict=True)],
            next_cursor=encode_cursor(last_key) if last_key else None,
        )

    def _transcripts(self, records: list[AnswerRecord]) -> list[str | None]:
        """Each record's transcript text, read from its object at request time, in parallel (one page at most).

        Read rather than copied into the read model: the transcript object stays the only copy, so erasing it or
        its expiry (the work bucket's retention) takes the text out of the listing too, with nothing to keep in step.
        """

        def read(record: AnswerRecord) -> str | None:
            if record.transcript is None or record.status is Status.DELETING:
                return None
            try:
                return transcript_text(self.media.read_json(record.transcript))
            except TranscriptUnavailableError as exc:
                # Expired, erased under us, or the cause of a FAILED answer: one row without text, not a failed page.
                logger.warning("transcript unavailable for a listed answer: %s", exc)
                return None
            except MediaStoreError as exc:
                # Throttled or refused (AccessDenied) for this one object: the same, one row without text. The log
                # names the object only (its key is the user key, no email) and never its text.
                logger.warning("transcript could not be read for a listed answer: %s", exc)
                return None

        wanted = [r for r in records if r.transcript is not None and r.status is not Status.DELETING]
        if len(wanted) <= 1:
            return [read(r) for r in records]
        with ThreadPoolExecutor(max_workers=min(TRANSCRIPT_READERS, len(wanted))) as pool:
            return list(pool.map(read, records))
