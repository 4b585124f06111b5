"""What eraseAnswer deletes for an AnswerDeleted: derived from the event and the stage only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.unit.transcode.fixtures import ANSWER_ID, STAGE, USER_KEY
from transcode.domain.erasure import AnswerEraser, created_before_erasure, erasure_plan
from transcode.domain.transcribe import TranscriptionJob
from vidsense_shared.events import AnswerDeleted, AnswerDeletedData

ERASED_AT = datetime(2026, 11, 29, 10, 30, tzinfo=UTC)


def deleted(attempt: int) -> AnswerDeleted:
    data = AnswerDeletedData(project="acme-onboarding", step="2", user_key=USER_KEY, attempt=attempt)
    return AnswerDeleted.create(data, correlation_id=ANSWER_ID, causation_id=None, occurred_at=ERASED_AT)


def test_the_plan_covers_every_attempt_up_to_the_highest():
    plan = erasure_plan(STAGE, deleted(3))
    assert plan.prefixes == (
        f"{STAGE}/audio/acme-onboarding/2/{USER_KEY}/",
        f"{STAGE}/transcripts/acme-onboarding/2/{USER_KEY}/",
    )
    assert plan.job_keys == tuple(f"{ANSWER_ID}#{n}" for n in (1, 2, 3))
    assert plan.job_names == tuple(f"vidsense.{STAGE}.acme-onboarding.2.{USER_KEY}.{n}" for n in (1, 2, 3))


class Recorder:
    def __init__(self, created_at: datetime | None = ERASED_AT - timedelta(minutes=5)) -> None:
        self.calls: list[str] = []
        self.created_at = created_at

    def find(self, name: str) -> TranscriptionJob | None:
        self.calls.append(f"find {name}")
        return TranscriptionJob(name, "COMPLETED", "en-US", None, None, created_at=self.created_at)

    def delete_prefix(self, bucket: str, prefix: str, *, written_before: datetime) -> int:
        self.calls.append(f"s3 {bucket}/{prefix} <= {written_before:%H:%M}")
        return 2

    def delete(self, name: str, *, created_before: datetime | None = None) -> bool:
        self.calls.append(f"delete {name}" + (f" <= {created_before:%H:%M}" if created_before else ""))
        return True


def test_transcribe_jobs_then_objects_then_the_job_items_that_trace_them():
    jobs, objects, transcriptions = Recorder(), Recorder(), Recorder()
    report = AnswerEraser(STAGE, "work", objects=objects, jobs=jobs, transcriptions=transcriptions).erase(deleted(1))
    assert (report.objects, report.job_items, report.transcription_jobs) == (4, 1, 1)
    name = f"vidsense.{STAGE}.acme-onboarding.2.{USER_KEY}.1"
    assert transcriptions.calls == [f"find {name}", f"delete {name}"]
    # Only what was written before the erasure: an answer recorded after it reuses attempt 1's keys
    assert jobs.calls == [f"delete {ANSWER_ID}#1 <= 10:30"]
    assert len(objects.calls) == 2 and all(c.endswith("<= 10:30") for c in objects.calls)


def job(created_at: datetime | None) -> TranscriptionJob:
    return TranscriptionJob("j", "COMPLETED", "en-US", None, None, created_at=created_at)


@pytest.mark.parametrize(
    ("created_at", "erased_answers"),
    [
        (ERASED_AT - timedelta(hours=1), True),
        (ERASED_AT, True),
        (ERASED_AT + timedelta(seconds=1), False),
        (None, True),  # Transcribe always tells; if it did not, erasure errs on the side of deleting
    ],
)
def test_a_transcribe_job_is_the_erased_answers_only_when_created_before_the_erasure(created_at, erased_answers):
    assert created_before_erasure(job(created_at), ERASED_AT) is erased_answers


def test_a_late_delivery_leaves_the_transcribe_job_of_an_answer_recorded_after_the_erasure():
    # Given the person recorded the step again after the erasure: attempt 1's job name belongs to the new answer
    transcriptions = Recorder(created_at=ERASED_AT + timedelta(minutes=2))
    # When the erasure's AnswerDeleted is delivered late (retry, redrive, archive replay)
    eraser = AnswerEraser(STAGE, "work", objects=Recorder(), jobs=Recorder(), transcriptions=transcriptions)
    report = eraser.erase(deleted(1))
    # Then the newer job is looked at, counted, and not deleted
    name = f"vidsense.{STAGE}.acme-onboarding.2.{USER_KEY}.1"
    assert transcriptions.calls == [f"find {name}"]
    assert (report.transcription_jobs, report.newer_transcription_jobs) == (0, 1)


def test_a_job_already_gone_is_neither_deleted_nor_counted():
    class Gone(Recorder):
        def find(self, name: str) -> TranscriptionJob | None:
            self.calls.append(f"find {name}")
            return None

    transcriptions = Gone()
    eraser = AnswerEraser(STAGE, "work", objects=Recorder(), jobs=Recorder(), transcriptions=transcriptions)
    report = eraser.erase(deleted(2))
    assert all(call.startswith("find ") for call in transcriptions.calls) and len(transcriptions.calls) == 2
    assert (report.transcription_jobs, report.newer_transcription_jobs) == (0, 0)
