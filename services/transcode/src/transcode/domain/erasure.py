"""eraseAnswer: what transcode keeps of an erased answer, and the order it goes (pure, over the small ports
``WorkObjects``, ``JobRecords`` and ``TranscriptionJobs`` of domain/ports.py).

Everything is derived from AnswerDeleted and the stage (docs/architecture.md, "Names"): the work bucket's
audio and transcript prefixes of the answer (every attempt, every object version), the jobs-table items
``{answer_id}#{n}`` and the Transcribe jobs of attempts 1..n. Each step is idempotent, so a retry or a duplicate
delivery repeats it harmlessly.

Attempt numbers start at 1 again for an answer recorded after an erasure, so its keys and Transcribe job names are
the erased one's. A late delivery (retries, a replay) must not erase that new answer: only objects, items and
Transcribe jobs created before the erasure (``occurred_at``) go. The answer was final then, so everything of it is
older.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from transcode.domain import naming
from transcode.domain.ports import JobRecords, TranscriptionJobs, WorkObjects
from transcode.domain.transcribe import TranscriptionJob
from vidsense_shared.events import AnswerDeleted, AnswerRef


@dataclass(frozen=True)
class ErasurePlan:
    prefixes: tuple[str, ...]
    job_keys: tuple[str, ...]
    job_names: tuple[str, ...]


@dataclass(frozen=True)
class ErasureReport:
    objects: int
    job_items: int
    transcription_jobs: int
    # Jobs of the plan's names created after the erasure: an answer recorded since, left alone.
    newer_transcription_jobs: int = 0


def answer_prefixes(stage: str, ref: AnswerRef) -> tuple[str, str]:
    """The answer's folders of every attempt; the trailing "/" keeps other answers' keys out."""
    answer = f"{ref.project}/{ref.step}/{ref.user_key}/"
    return f"{stage}/audio/{answer}", f"{stage}/transcripts/{answer}"


def erasure_plan(stage: str, event: AnswerDeleted) -> ErasurePlan:
    data = event.data
    attempts = [data.model_copy(update={"attempt": n}) for n in range(1, data.attempt + 1)]
    return ErasurePlan(
        prefixes=answer_prefixes(stage, data),
        job_keys=tuple(naming.job_key(ref) for ref in attempts),
        job_names=tuple(naming.transcription_job_name(stage, ref) for ref in attempts),
    )


def created_before_erasure(job: TranscriptionJob, erased_at: datetime) -> bool:
    """Whether a job of the erased answer's name is the erased answer's own (created at or before the erasure).

    A job without a creation time (Transcribe always reports one) is taken as the erased answer's: erasure errs on
    the side of deleting personal data.
    """
    return job.created_at is None or job.created_at <= erased_at


def _erase_transcription_job(transcriptions: TranscriptionJobs, name: str, erased_at: datetime) -> str:
    job = transcriptions.find(name)
    if job is None:
        return "gone"
    if not created_before_erasure(job, erased_at):
        return "newer"
    # Names are unique: a newer answer's job of this name can only start once this one is deleted (by a duplicate
    # delivery racing this one in the instant between the two calls, the one window this check leaves open).
    return "deleted" if transcriptions.delete(name) else "gone"


@dataclass(frozen=True)
class AnswerEraser:
    stage: str
    work_bucket: str
    objects: WorkObjects
    jobs: JobRecords
    transcriptions: TranscriptionJobs

    def erase(self, event: AnswerDeleted) -> ErasureReport:
        plan = erasure_plan(self.stage, event)
        erased_at = event.metadata.occurred_at
        # Transcribe jobs first: each names the transcript it wrote; the items last, they are the trace of the rest.
        outcomes = [_erase_transcription_job(self.transcriptions, name, erased_at) for name in plan.job_names]
        removed = sum(
            self.objects.delete_prefix(self.work_bucket, prefix, written_before=erased_at) for prefix in plan.prefixes
        )
        job_items = sum(self.jobs.delete(key, created_before=erased_at) for key in plan.job_keys)
        return ErasureReport(
            objects=removed,
            job_items=job_items,
            transcription_jobs=outcomes.count("deleted"),
            newer_transcription_jobs=outcomes.count("newer"),
        )
