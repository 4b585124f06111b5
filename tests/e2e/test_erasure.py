"""Erasure on the local stack: DELETE /answers removes the answer from every service, then the person may
record again. Nothing of the erased answer may be left: video versions, audio, transcripts, job items,
metadata and answers items, Transcribe jobs."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from vidsense_local.clients import LOCAL_ACCOUNT_ID
from vidsense_local.demo import ApiClient, StackEndpoints, answer_id_from_key

from .support import LOCAL, PIPELINE_TIMEOUT, aws_client, email, new_project, poll, submit

pytestmark = pytest.mark.e2e

ERASURE_TIMEOUT = 60.0
STAGE = LOCAL.stage
MEDIA_BUCKET = LOCAL.media_bucket(LOCAL_ACCOUNT_ID)
WORK_BUCKET = LOCAL.work_bucket(LOCAL_ACCOUNT_ID)


def _delete(client: ApiClient, project: str, step: str, token: bool = True) -> requests.Response:
    headers = {"Accept": "application/json", **({"Authorization": f"Bearer {client.token}"} if token else {})}
    return requests.delete(f"{client.endpoints.api_url}/answers/{project}/{step}", headers=headers, timeout=60)


def _left_over(aws: dict[str, Any], key: str, attempt: int) -> list[str]:
    """Everything of the answer still stored anywhere on the stack (empty once the erasure is complete)."""
    answer_id = answer_id_from_key(key)
    project, step, user_key = answer_id.split("/")
    found: list[str] = []
    listed = aws["s3"].list_object_versions(Bucket=MEDIA_BUCKET, Prefix=key)
    found += [
        f"media {v['Key']}@{v['VersionId']}"
        for v in [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])]
        if v["Key"] == key
    ]
    for kind in ("audio", "transcripts"):
        prefix = f"{STAGE}/{kind}/{project}/{step}/{user_key}/"
        listed = aws["s3"].list_object_versions(Bucket=WORK_BUCKET, Prefix=prefix)
        found += [f"work {v['Key']}" for v in [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])]]
    items = [
        (LOCAL.answers_table, "answer_id", answer_id),
        (LOCAL.metadata_table, "answer_id", answer_id),
        *((LOCAL.transcode_jobs_table, "job_key", f"{answer_id}#{n}") for n in range(1, attempt + 1)),
    ]
    for name, key_name, value in items:
        item = aws["dynamodb"].get_item(TableName=name, Key={key_name: {"S": value}}, ConsistentRead=True)
        if "Item" in item:
            found.append(f"{name} {value}")
    for n in range(1, attempt + 1):
        job = f"vidsense.{STAGE}.{project}.{step}.{user_key}.{n}"
        try:
            aws["transcribe"].get_transcription_job(TranscriptionJobName=job)
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("NotFoundException", "BadRequestException"):
                raise
        else:
            found.append(f"transcribe {job}")
    return found


def test_an_erased_answer_leaves_nothing_behind_and_may_be_recorded_again(stack: StackEndpoints) -> None:
    aws = {name: aws_client(stack, name) for name in ("s3", "dynamodb", "transcribe")}
    client = ApiClient(stack, email("e2e-erase"))
    project, step = new_project("e2e-erase"), "1"

    # Given an analysed spoken answer, with everything the pipeline keeps of it
    key = submit(stack, project, step, "positive.webm", client).key
    assert client.wait_final(project, step, PIPELINE_TIMEOUT)["status"] == "ANALYZED"
    before = _left_over(aws, key, attempt=1)
    assert any(entry.startswith("media") for entry in before), before
    assert any("/transcripts/" in entry for entry in before) and any("/audio/" in entry for entry in before), before
    assert any("metadata" in entry for entry in before) and any("transcode-jobs" in entry for entry in before)
    assert any(entry.startswith("transcribe") for entry in before), before

    # When the person deletes it
    erased = _delete(client, project, step)

    # Then the erasure is accepted and, once the other services followed, nothing of the answer is left
    assert erased.status_code == 202, erased.text
    assert erased.json()["status"] == "DELETED" and erased.json()["answer_id"] == answer_id_from_key(key)

    def nothing_left() -> bool:
        left = _left_over(aws, key, attempt=1)
        assert left == [], f"still stored: {left}"
        return True

    poll(nothing_left, ERASURE_TIMEOUT, "the erasure in every service")
    assert client.get(f"/answers/{project}/{step}").status_code == 404
    assert _delete(client, project, step).status_code == 404

    # And the person may record again: the new answer is processed as usual
    submit(stack, project, step, "negative.webm", client)
    again = client.wait_final(project, step, PIPELINE_TIMEOUT)
    assert again["status"] == "ANALYZED" and again["sentiment"] == "NEGATIVE", again


def test_an_answer_in_flight_cannot_be_erased_yet(stack: StackEndpoints) -> None:
    client = ApiClient(stack, email("e2e-erase"))
    project, step = new_project("e2e-erase"), "2"
    submit(stack, project, step, "neutral.webm", client)

    busy = _delete(client, project, step)

    assert busy.status_code == 409, busy.text
    assert int(busy.headers["Retry-After"]) > 0 and busy.json()["message"]
    # Once final, it can
    client.wait_final(project, step, PIPELINE_TIMEOUT)
    assert _delete(client, project, step).status_code == 202


def test_erasure_needs_a_token_and_an_answer(stack: StackEndpoints) -> None:
    client = ApiClient(stack, email("e2e-erase"))
    assert _delete(client, "e2e-erase-none", "3", token=False).status_code == 401
    missing = _delete(client, "e2e-erase-none", "3")
    assert missing.status_code == 404 and missing.headers["Content-Type"].startswith("application/json")
