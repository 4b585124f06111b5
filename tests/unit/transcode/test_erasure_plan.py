"""What eraseAnswer deletes for an AnswerDeleted: derived from the event and the stage only."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.unit.transcode.fixtures import ANSWER_ID, STAGE, USER_KEY
from transcode.domain.erasure import erase_answer, erasure_plan
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
    def __init__(self) -> None:
        self.calls: list[str] = []

    def delete_prefix(self, bucket: str, prefix: str, *, written_before: datetime) -> int:
        self.calls.append(f"s3 {bucket}/{prefix} <= {written_before:%H:%M}")
        return 2

    def delete(self, name: str, *, created_before: datetime | None = None) -> bool:
        self.calls.append(f"delete {name}" + (f" <= {created_before:%H:%M}" if created_before else ""))
        return True


def test_transcribe_jobs_then_objects_then_the_job_items_that_trace_them():
    jobs, objects, transcriptions = Recorder(), Recorder(), Recorder()
    report = erase_answer(
        deleted(1), stage=STAGE, work_bucket="work", objects=objects, jobs=jobs, transcriptions=transcriptions
    )
    assert (report.objects, report.job_items, report.transcription_jobs) == (4, 1, 1)
    assert transcriptions.calls == [f"delete vidsense.{STAGE}.acme-onboarding.2.{USER_KEY}.1"]
    # Only what was written before the erasure: an answer recorded after it reuses attempt 1's keys
    assert jobs.calls == [f"delete {ANSWER_ID}#1 <= 10:30"]
    assert len(objects.calls) == 2 and all(c.endswith("<= 10:30") for c in objects.calls)
