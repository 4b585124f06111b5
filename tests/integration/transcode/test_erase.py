"""eraseAnswer against moto (versioned work bucket, jobs table) and a stubbed Transcribe: everything of the
answer goes, other answers stay, and a duplicate delivery is harmless."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.unit.transcode.fixtures import ANSWER_ID, STAGE, USER_KEY, WORK_BUCKET, load
from transcode.handlers import erase
from vidsense_shared.events import AnswerDeleted, AnswerDeletedData

from .conftest import JOBS_TABLE, REGION, put_job

OTHER_KEY = "0" * 64
NOT_FOUND = "The requested job couldn't be found. Check the job name and try your request again."


def answer_deleted(attempt: int = 2, erased_at: datetime | None = None) -> dict[str, Any]:
    event = AnswerDeleted.create(
        AnswerDeletedData(project="acme-onboarding", step="2", user_key=USER_KEY, attempt=attempt),
        correlation_id=ANSWER_ID,
        causation_id=None,
        event_id="7c1e5a34-2b9d-5f60-8e4a-1d3c5b7f9a02",
        occurred_at=erased_at,
    )
    raw = load("eventbridge_video_uploaded.json")
    raw["detail-type"], raw["source"] = "AnswerDeleted", "vidsense.ingest"
    raw["detail"] = json.loads(event.detail_json())
    return raw


def created(job_key: str, at: datetime | None = None) -> tuple[str, dict[str, Any]]:
    return job_key, {"created_at": {"S": (at or datetime.now(UTC) - timedelta(minutes=5)).isoformat()}}


def put_created(dynamodb: Any, job_key: str, at: datetime | None = None) -> None:
    key, attributes = created(job_key, at)
    put_job(dynamodb, key, **attributes)


def keys(s3: Any) -> list[str]:
    listed = s3.list_object_versions(Bucket=WORK_BUCKET)
    return sorted(v["Key"] for v in [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])])


def job_name(attempt: int) -> str:
    return f"vidsense.{STAGE}.acme-onboarding.2.{USER_KEY}.{attempt}"


def transcribe_job(attempt: int, created_at: datetime, status: str = "COMPLETED") -> dict[str, Any]:
    """GetTranscriptionJob's answer for the answer's job of ``attempt``."""
    return {
        "TranscriptionJob": {
            "TranscriptionJobName": job_name(attempt),
            "TranscriptionJobStatus": status,
            "CreationTime": created_at,
        }
    }


def gone(transcribe: Any) -> None:
    transcribe.add_client_error("get_transcription_job", "BadRequestException", NOT_FOUND)


def test_erases_audio_transcripts_job_items_and_transcribe_jobs_of_every_attempt(stack, transcribe, context):
    # Given two attempts of the answer (the transcript rewritten once: two versions) and another person's answer
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=WORK_BUCKET)
    s3.put_bucket_versioning(Bucket=WORK_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    mine = [
        f"{STAGE}/audio/acme-onboarding/2/{USER_KEY}/attempt-1/answer.mp3",
        f"{STAGE}/audio/acme-onboarding/2/{USER_KEY}/attempt-2/answer.mp3",
        f"{STAGE}/transcripts/acme-onboarding/2/{USER_KEY}/attempt-2.json",
        f"{STAGE}/transcripts/acme-onboarding/2/{USER_KEY}/attempt-2.json",
    ]
    others = [
        f"{STAGE}/audio/acme-onboarding/2/{OTHER_KEY}/attempt-1/answer.mp3",
        f"{STAGE}/transcripts/acme-onboarding/2/{OTHER_KEY}/attempt-1.json",
        f"{STAGE}/transcripts/acme-onboarding/20/{USER_KEY}/attempt-1.json",
    ]
    for key in mine + others:
        s3.put_object(Bucket=WORK_BUCKET, Key=key, Body=b"{}")
    s3.delete_object(Bucket=WORK_BUCKET, Key=mine[0])  # a delete marker of the answer's too
    for attempt in (1, 2):
        put_created(stack.dynamodb, f"{ANSWER_ID}#{attempt}")
    put_created(stack.dynamodb, f"acme-onboarding/2/{OTHER_KEY}#1")
    # Transcribe still knows attempt 2's job (created before the erasure); attempt 1's is gone already
    gone(transcribe)
    old = datetime.now(UTC) - timedelta(minutes=5)
    transcribe.add_response("get_transcription_job", transcribe_job(2, old), {"TranscriptionJobName": job_name(2)})
    transcribe.add_response("delete_transcription_job", {}, {"TranscriptionJobName": job_name(2)})

    result = erase.handler(answer_deleted(attempt=2), context)

    # Then nothing of the answer is left, and the other answers are untouched
    assert result == {"objects": 5, "job_items": 2, "transcription_jobs": 1, "newer_transcription_jobs": 0}
    assert keys(s3) == sorted(others)
    items = stack.dynamodb.scan(TableName=JOBS_TABLE)["Items"]
    assert [i["job_key"]["S"] for i in items] == [f"acme-onboarding/2/{OTHER_KEY}#1"]


def test_a_duplicate_delivery_finds_nothing_left_and_succeeds(stack, transcribe, context):
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=WORK_BUCKET)
    gone(transcribe)
    assert erase.handler(answer_deleted(attempt=1), context) == {
        "objects": 0,
        "job_items": 0,
        "transcription_jobs": 0,
        "newer_transcription_jobs": 0,
    }


def test_a_transcribe_job_still_running_is_retried_not_skipped(stack, transcribe, context):
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=WORK_BUCKET)
    put_created(stack.dynamodb, f"{ANSWER_ID}#1")
    old = datetime.now(UTC) - timedelta(minutes=5)
    transcribe.add_response("get_transcription_job", transcribe_job(1, old, "IN_PROGRESS"))
    transcribe.add_client_error("delete_transcription_job", "BadRequestException", "The job is in progress")
    transcribe.add_response("get_transcription_job", transcribe_job(1, old, "IN_PROGRESS"))
    # A running job makes the delivery fail, so Lambda retries it
    with pytest.raises(ClientError, match="BadRequestException"):
        erase.handler(answer_deleted(attempt=1), context)
    # The jobs-table item, the trace of what is still to erase, stays for the retry
    assert stack.dynamodb.get_item(TableName=JOBS_TABLE, Key={"job_key": {"S": f"{ANSWER_ID}#1"}}).get("Item")


def test_a_late_delivery_leaves_an_answer_recorded_after_the_erasure(stack, transcribe, context):
    # Given the person recorded a new answer (attempt 1 again: the same keys) after an erasure an hour ago
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=WORK_BUCKET)
    s3.put_bucket_versioning(Bucket=WORK_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    new = f"{STAGE}/transcripts/acme-onboarding/2/{USER_KEY}/attempt-1.json"
    s3.put_object(Bucket=WORK_BUCKET, Key=new, Body=b"{}")
    put_created(stack.dynamodb, f"{ANSWER_ID}#1", at=datetime.now(UTC))
    # And Transcribe runs the new answer's job, under the erased answer's job name (no delete may be called)
    transcribe.add_response(
        "get_transcription_job", transcribe_job(1, datetime.now(UTC)), {"TranscriptionJobName": job_name(1)}
    )

    # When the erasure's AnswerDeleted arrives only now (retries), Then the new answer's data and job stay
    late = answer_deleted(attempt=1, erased_at=datetime.now(UTC) - timedelta(hours=1))
    assert erase.handler(late, context) == {
        "objects": 0,
        "job_items": 0,
        "transcription_jobs": 0,
        "newer_transcription_jobs": 1,
    }
    assert keys(s3) == [new]
    assert stack.dynamodb.get_item(TableName=JOBS_TABLE, Key={"job_key": {"S": f"{ANSWER_ID}#1"}}).get("Item")
