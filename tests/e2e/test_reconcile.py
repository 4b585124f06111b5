"""Lost MediaConvert / Transcribe events on the local stack (issue 8, "Missed events"): the stand-in finishes a job
but drops its state-change event, the deployed `reconcile` function (invoked as its schedule would) asks the job's
status and re-emits what the event would have caused; a job that never finishes ends FAILED with `timeout`."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.config import Config

from vidsense_local.demo import FINAL_STATUSES, ApiClient, StackEndpoints, answer_id_from_key
from vidsense_local.faults import FaultClient

from .support import LOCAL, MEDIA, aws_client, poll

pytestmark = pytest.mark.e2e

RECONCILE = LOCAL.function("transcode", "reconcile")
JOBS_TABLE = LOCAL.transcode_jobs_table
SAMPLE = "positive.webm"
TIMEOUT = 300.0  # per wait; a loaded 2-core machine runs a sample through in 15-60 s
# A cold function under load answers Invoke after tens of seconds; never retry an Invoke.
INVOKE_ONCE = Config(read_timeout=300, retries={"total_max_attempts": 1})


class Reconciler:
    """The deployed function, invoked through Lambda Invoke at the local endpoint (as the schedule would)."""

    def __init__(self, stack: StackEndpoints) -> None:
        self.client = aws_client(stack, "lambda", INVOKE_ONCE)
        variables = self.client.get_function_configuration(FunctionName=RECONCILE)["Environment"]["Variables"]
        self.stuck_after = int(variables["STUCK_AFTER_SECONDS"])
        self.give_up_after = int(variables["GIVE_UP_AFTER_SECONDS"])

    def run(self) -> dict[str, int]:
        answer = self.client.invoke(FunctionName=RECONCILE, Payload=b"{}")
        payload = json.loads(answer["Payload"].read())
        assert "FunctionError" not in answer, payload
        counts: dict[str, int] = payload["counts"]
        return counts


@pytest.fixture(scope="module")
def reconciler(stack: StackEndpoints) -> Reconciler:
    found = Reconciler(stack)
    # The local stage's params (deploy/serverless/params.yml): quick to ask, slow to give up.
    assert found.stuck_after <= 60, "the local stage should reconcile within a minute"
    assert found.give_up_after >= 600, "the local stage must not time out answers that are merely slow"
    return found


@pytest.fixture
def faults(stack: StackEndpoints) -> Iterator[FaultClient]:
    client = FaultClient(stack.aws_url)
    before = {rule["id"] for rule in client.rules()}
    yield client
    for rule in client.rules():  # only the rules this test added: the stack stays as it was
        if rule["id"] not in before:
            client.remove(rule["id"])


class Answer:
    def __init__(self, stack: StackEndpoints) -> None:
        self.stack = stack
        self.project = f"e2e-rec-{uuid.uuid4().hex[:8]}"
        self.step = "1"
        self.client = ApiClient(stack, f"e2e-{uuid.uuid4().hex[:10]}@example.com")
        for attempt in range(4):  # a cold api function can time out under load (502): a person asks again
            presigned = self.client.presign(self.project, self.step)
            if presigned.status_code < 500:
                break
            time.sleep(1 + attempt)
        assert presigned.status_code == 200, presigned.text
        body = presigned.json()
        self.answer_id = answer_id_from_key(body["key"])
        upload = self.client.upload(body, (MEDIA / SAMPLE).read_bytes())
        assert upload.status_code < 300, upload.text

    @property
    def job_key(self) -> str:
        return f"{self.answer_id}#1"

    def status(self) -> dict[str, Any]:
        response = self.client.get(f"/answers/{self.project}/{self.step}")
        return response.json() if response.status_code == 200 else {}

    def final(self) -> dict[str, Any]:
        return self.client.wait_final(self.project, self.step, TIMEOUT)

    def attempt(self) -> dict[str, Any]:
        item: dict[str, Any] = aws_client(self.stack, "dynamodb").get_item(
            TableName=JOBS_TABLE, Key={"job_key": {"S": self.job_key}}, ConsistentRead=True
        )["Item"]
        return item

    def transcription_job(self) -> dict[str, Any] | None:
        transcribe = aws_client(self.stack, "transcribe")
        listed = transcribe.list_transcription_jobs(JobNameContains=f".{self.project}.", MaxResults=100)
        names = [s["TranscriptionJobName"] for s in listed["TranscriptionJobSummaries"]]
        if not names:
            return None
        job: dict[str, Any] = transcribe.get_transcription_job(TranscriptionJobName=names[0])["TranscriptionJob"]
        return job

    def mediaconvert_job(self) -> dict[str, Any] | None:
        jobs = aws_client(self.stack, "mediaconvert").list_jobs(MaxResults=20)["Jobs"]
        mine = [j for j in jobs if j.get("UserMetadata", {}).get("project") == self.project]
        return mine[0] if mine else None


def busy_jobs(stack: StackEndpoints) -> list[str]:
    """Jobs of earlier tests still running: a count-1 job fault would hit theirs instead of this test's."""
    transcribe = aws_client(stack, "transcribe")
    busy = [
        s["TranscriptionJobName"]
        for status in ("QUEUED", "IN_PROGRESS")
        for s in transcribe.list_transcription_jobs(Status=status, MaxResults=100)["TranscriptionJobSummaries"]
    ]
    mediaconvert = aws_client(stack, "mediaconvert")
    for status in ("SUBMITTED", "PROGRESSING"):
        for job in mediaconvert.list_jobs(Status=status, MaxResults=20)["Jobs"]:
            # A job the stand-in was told to leave PROGRESSING (job-stuck) never ends; only the others count.
            if job.get("UserMetadata", {}).get("project", "").startswith("e2e-rec-") and status == "PROGRESSING":
                continue
            busy.append(job["Id"])
    return busy


def add_job_fault(stack: StackEndpoints, faults: FaultClient, **rule: Any) -> str:
    poll(lambda: not busy_jobs(stack), TIMEOUT, "the earlier tests' jobs finish", interval=2.0)
    added: str = faults.add(count=1, **rule)["id"]
    return added


def fired(faults: FaultClient, rule_id: str) -> bool:
    return any(r["id"] == rule_id and r["fired"] == 1 for r in faults.rules())


def wait_until_stuck(answer: Answer, reconciler: Reconciler) -> None:
    """Until the attempt's current step is older than the stage's stuck-after, checking it stays unfinished."""
    open_since = datetime.fromisoformat(answer.attempt()["open_since"]["S"])
    due = open_since + timedelta(seconds=reconciler.stuck_after + 1)
    while (left := (due - datetime.now(UTC)).total_seconds()) > 0:
        assert answer.status().get("status") not in FINAL_STATUSES, "finished without its lost event"
        time.sleep(min(left, 2.0))


def emitted(answer: Answer) -> set[str]:
    return {marker.split(":", 1)[0] for marker in answer.attempt().get("emitted", {}).get("SS", [])}


def test_a_lost_transcribe_event_is_reemitted_and_the_answer_ends_analyzed(stack, faults, reconciler):
    # Given Transcribe finishes the answer's job but its "Transcribe Job State Change" event is lost
    rule = add_job_fault(stack, faults, service="transcribe", effect="drop-event")
    answer = Answer(stack)
    job = poll(
        lambda: (j := answer.transcription_job()) is not None and j["TranscriptionJobStatus"] == "COMPLETED" and j,
        TIMEOUT,
        "the Transcribe job completes",
    )
    poll(lambda: fired(faults, rule), TIMEOUT, "the event is dropped")
    # ...so the answer stays where it was, past the stage's stuck-after
    wait_until_stuck(answer, reconciler)
    assert "TranscriptReady" not in emitted(answer)
    # When the reconciler runs
    counts = reconciler.run()
    # Then it re-emitted the outcome (this run, or a scheduled one just before) and the answer ends ANALYZED
    final = answer.final()
    assert final["status"] == "ANALYZED", final
    assert final["transcript"] and final["sentiment"] == "POSITIVE"
    assert "TranscriptReady" in emitted(answer), counts
    assert "open_shard" not in answer.attempt()  # the attempt is closed
    assert job["TranscriptionJobName"].startswith(f"vidsense.local.{answer.project}.")


def test_a_lost_mediaconvert_event_is_reemitted_and_the_answer_ends_analyzed(stack, faults, reconciler):
    # Given MediaConvert completes the answer's job but its "MediaConvert Job State Change" event is lost
    rule = add_job_fault(stack, faults, service="mediaconvert", effect="drop-event")
    answer = Answer(stack)
    poll(
        lambda: (j := answer.mediaconvert_job()) is not None and j["Status"] == "COMPLETE",
        TIMEOUT,
        "the MediaConvert job completes",
    )
    poll(lambda: fired(faults, rule), TIMEOUT, "the event is dropped")
    wait_until_stuck(answer, reconciler)
    assert answer.transcription_job() is None  # nothing happened after the transcode
    # When the reconciler runs
    counts = reconciler.run()
    # Then TranscoderCompleted is re-emitted, the rest of the pipeline follows, and the answer ends ANALYZED
    final = answer.final()
    assert final["status"] == "ANALYZED", final
    assert {"TranscoderCompleted", "TranscriptReady"} <= emitted(answer), counts


def test_a_job_that_never_finishes_ends_failed_with_timeout_after_the_give_up_age(stack, faults, reconciler):
    # Given a MediaConvert job that stays PROGRESSING for good
    rule = add_job_fault(stack, faults, service="mediaconvert", effect="job-stuck")
    answer = Answer(stack)
    poll(lambda: fired(faults, rule), TIMEOUT, "the job is stuck")
    poll(
        lambda: (
            (j := answer.mediaconvert_job()) is not None
            and j["Status"] == "PROGRESSING"
            and "mediaconvert_job_id" in answer.attempt()
        ),
        TIMEOUT,
        "the job is started and recorded",
    )
    # ...whose step began longer ago than the give-up age (the test moves its clock instead of waiting 30 min)
    old = datetime.now(UTC) - timedelta(seconds=reconciler.give_up_after + 60)
    aws_client(stack, "dynamodb").update_item(
        TableName=JOBS_TABLE,
        Key={"job_key": {"S": answer.job_key}},
        UpdateExpression="SET open_since = :old",
        ConditionExpression="attribute_exists(open_shard)",
        ExpressionAttributeValues={":old": {"S": old.isoformat(timespec="microseconds")}},
    )
    assert answer.status().get("status") not in FINAL_STATUSES
    # When the reconciler runs
    counts = reconciler.run()
    # Then the answer ends FAILED with reason timeout, and the attempt is closed
    final = answer.final()
    assert final["status"] == "FAILED", final
    assert final["error"].startswith("timeout:"), final
    assert "still PROGRESSING" in final["error"]
    assert "TranscodeFailed" in emitted(answer), counts
    assert "open_shard" not in answer.attempt()
