"""eraseAnswer: what transcode keeps of an erased answer, and the order it goes (pure, over small ports).

Everything is derived from AnswerDeleted and the stage (docs/architecture.md, "Names"): the work bucket's
audio and transcript prefixes of the answer (every attempt, every object version), the jobs-table items
``{answer_id}#{n}`` and the Transcribe jobs of attempts 1..n. Each step is idempotent, so a retry or a duplicate
delivery repeats it harmlessly.

Attempt numbers start at 1 again for an answer recorded after an erasure, so its keys are the erased one's. A
late delivery (retries, a replay) must not erase that new answer: only objects and items written before the
erasure (``occurred_at``) go. The answer was final then, so everything of it is older.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from transcode.domain import naming
from vidsense_shared.events import AnswerDeleted, AnswerRef


class WorkObjects(Protocol):
    def delete_prefix(self, bucket: str, prefix: str, *, written_before: datetime) -> int:
        """Delete every object version and delete marker under ``prefix`` last modified at or before
        ``written_before``; how many there were."""
        ...


class JobRecords(Protocol):
    def delete(self, job_key: str, *, created_before: datetime) -> bool:
        """Delete the attempt's item if created at or before ``created_before``; False when there was none."""
        ...


class TranscriptionJobs(Protocol):
    def delete(self, job_name: str) -> bool:
        """DeleteTranscriptionJob; False when no such job exists (any more)."""
        ...


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


def erase_answer(
    event: AnswerDeleted,
    *,
    stage: str,
    work_bucket: str,
    objects: WorkObjects,
    jobs: JobRecords,
    transcriptions: TranscriptionJobs,
) -> ErasureReport:
    plan = erasure_plan(stage, event)
    erased_at = event.metadata.occurred_at
    # Transcribe jobs first: each names the transcript it wrote; the items last, they are the trace of the rest.
    transcription_jobs = sum(transcriptions.delete(name) for name in plan.job_names)
    removed = sum(objects.delete_prefix(work_bucket, prefix, written_before=erased_at) for prefix in plan.prefixes)
    job_items = sum(jobs.delete(key, created_before=erased_at) for key in plan.job_keys)
    return ErasureReport(objects=removed, job_items=job_items, transcription_jobs=transcription_jobs)
