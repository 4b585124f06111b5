"""Semantic faults the stand-ins act on: MediaConvert ERROR, Transcribe FAILED, a transcript object that is gone,
a lost state-change event and a job that never finishes."""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from vidsense_local import faults
from vidsense_local.clients import local_client
from vidsense_local.edge.server import EdgeApp
from vidsense_local.engines.speech import SpeechResult
from vidsense_local.serving import listen, serve
from vidsense_local.standins import MediaConvertStandIn, TranscribeStandIn
from vidsense_local.standins._common import AwsTarget

MEDIA = Path(__file__).resolve().parents[2] / "fixtures" / "media"
REGION, ACCOUNT = "us-east-1", "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/mediaconvert"


class SilentEngine:
    """Stands in for Whisper: these tests are about the job's outcome, not its words."""

    def transcribe_file(self, source: Path) -> SpeechResult:
        return SpeechResult(words=(), audio_seconds=1.0, decode_seconds=0.0, compute_seconds=0.0)


#: Every state-change event the stand-ins published, as (source, detail).
PUBLISHED: list[tuple[str, dict[str, Any]]] = []


def _record(source: str, detail_type: str, detail: dict[str, Any], resources: list[str] | None = None) -> None:
    PUBLISHED.append((source, detail))


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[str, faults.FaultRegistry]]:
    sock = listen(0)
    port = int(sock.getsockname()[1])
    url = f"http://127.0.0.1:{port}"
    target = AwsTarget(url, REGION, ACCOUNT)
    standins: list[Any] = [MediaConvertStandIn(target), TranscribeStandIn(target, engine=SilentEngine())]  # type: ignore[arg-type]
    registry = faults.FaultRegistry()
    app = faults.wrap(EdgeApp(None, standins), registry, standins=standins)
    for standin in standins:
        standin.set_event_sink(_record)
        standin.start()
    try:
        server = serve(app, port, name="job-faults", fd=sock.fileno())
    finally:
        sock.close()
    try:
        yield url, registry
    finally:
        for standin in standins:
            standin.stop()
        server.stop()


@pytest.fixture
def aws(stack: tuple[str, faults.FaultRegistry]) -> Iterator[tuple[Callable[[str], Any], faults.FaultRegistry, str]]:
    url, registry = stack
    registry.clear()

    def client(service: str) -> Any:
        return local_client(service, url, REGION, retries=0, path_style=True)

    bucket = f"jobs-{uuid.uuid4().hex[:10]}"
    client("s3").create_bucket(Bucket=bucket)
    client("s3").upload_file(str(MEDIA / "positive.webm"), bucket, "in/answer.webm")
    yield client, registry, bucket
    registry.clear()


def wait(read: Callable[[], dict[str, Any]], field: str, finals: set[str], timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        state = read()
        if state[field] in finals:
            return state
        assert time.monotonic() < deadline, f"still {state[field]}"
        time.sleep(0.1)


def job(mediaconvert: Any, job_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = mediaconvert.get_job(Id=job_id)["Job"]
    return answer


def job_settings(bucket: str) -> dict[str, Any]:
    return {
        "Inputs": [{"FileInput": f"s3://{bucket}/in/answer.webm"}],
        "OutputGroups": [
            {
                "OutputGroupSettings": {
                    "Type": "FILE_GROUP_SETTINGS",
                    "FileGroupSettings": {"Destination": f"s3://{bucket}/out/answer"},
                },
                "Outputs": [
                    {
                        "ContainerSettings": {"Container": "RAW"},
                        "AudioDescriptions": [{"CodecSettings": {"Codec": "MP3", "Mp3Settings": {"Bitrate": 64000}}}],
                        "Extension": "mp3",
                    }
                ],
            }
        ],
    }


def test_mediaconvert_jobs_end_error_for_the_next_n_jobs(aws):
    client, registry, bucket = aws
    rule = registry.add(service="mediaconvert", effect="job-error", code="1010", message="injected outage", count=1)
    mediaconvert = client("mediaconvert")
    settings = job_settings(bucket)
    jobs = [mediaconvert.create_job(Role=ROLE, Settings=settings)["Job"]["Id"] for _ in range(2)]
    finals = [wait(functools.partial(job, mediaconvert, j), "Status", {"COMPLETE", "ERROR", "CANCELED"}) for j in jobs]
    assert (finals[0]["Status"], finals[0]["ErrorCode"], finals[0]["ErrorMessage"]) == (
        "ERROR",
        1010,
        "injected outage",
    )
    assert finals[1]["Status"] == "COMPLETE"  # the count was one job
    assert rule.fired == 1


def start(client: Callable[[str], Any], bucket: str, name: str) -> dict[str, Any]:
    transcribe = client("transcribe")
    transcribe.start_transcription_job(
        TranscriptionJobName=name,
        LanguageCode="en-US",
        Media={"MediaFileUri": f"s3://{bucket}/in/answer.webm"},
        OutputBucketName=bucket,
        OutputKey=f"transcripts/{name}.json",
    )
    return wait(
        lambda: transcribe.get_transcription_job(TranscriptionJobName=name)["TranscriptionJob"],
        "TranscriptionJobStatus",
        {"COMPLETED", "FAILED"},
    )


def test_transcribe_jobs_end_failed_with_the_reason(aws):
    client, registry, bucket = aws
    registry.add(service="transcribe", effect="job-failed", message="Internal failure (injected)", count=1)
    failed = start(client, bucket, "job-failed-1")
    assert (failed["TranscriptionJobStatus"], failed["FailureReason"]) == ("FAILED", "Internal failure (injected)")
    assert start(client, bucket, "job-failed-2")["TranscriptionJobStatus"] == "COMPLETED"


def test_transcript_object_missing_after_completion(aws):
    client, registry, bucket = aws
    registry.add(service="transcribe", effect="transcript-missing", count=1)
    done = start(client, bucket, "missing-1")
    assert done["TranscriptionJobStatus"] == "COMPLETED"
    assert done["Transcript"]["TranscriptFileUri"].endswith(f"/{bucket}/transcripts/missing-1.json")
    with pytest.raises(ClientError) as raised:
        client("s3").get_object(Bucket=bucket, Key="transcripts/missing-1.json")
    assert raised.value.response["Error"]["Code"] == "NoSuchKey"
    start(client, bucket, "missing-2")
    assert client("s3").get_object(Bucket=bucket, Key="transcripts/missing-2.json")["Body"].read()


def test_job_faults_are_listed_like_the_others(aws):
    _, registry, _ = aws
    registry.add(service="transcribe", effect="job-failed", count=3)
    [rule] = registry.rules()
    assert (rule.effect, rule.operation, rule.remaining) == ("job-failed", "*", 3)


def final_events(source: str, key: str, value: str) -> list[str]:
    """Statuses of the final state-change events published for one job."""
    return [
        d.get("status") or d.get("TranscriptionJobStatus", "")
        for src, d in PUBLISHED
        if src == source and d.get(key) == value and d.get("status") != "PROGRESSING"
    ]


def test_a_dropped_event_leaves_a_finished_job_without_its_state_change(aws):
    client, registry, bucket = aws
    mediaconvert = client("mediaconvert")
    registry.add(service="mediaconvert", effect="drop-event", count=1)
    registry.add(service="transcribe", effect="drop-event", count=1)
    # MediaConvert: the first job completes silently (PROGRESSING only), the second announces itself
    jobs = [mediaconvert.create_job(Role=ROLE, Settings=job_settings(bucket))["Job"]["Id"] for _ in range(2)]
    finals = [wait(functools.partial(job, mediaconvert, j), "Status", {"COMPLETE", "ERROR"}) for j in jobs]
    assert [f["Status"] for f in finals] == ["COMPLETE", "COMPLETE"]
    deadline = time.monotonic() + 10
    while not final_events("aws.mediaconvert", "jobId", jobs[1]):
        assert time.monotonic() < deadline, "the second job's event never came"
        time.sleep(0.05)
    assert final_events("aws.mediaconvert", "jobId", jobs[0]) == []
    assert any(d.get("jobId") == jobs[0] and d["status"] == "PROGRESSING" for _, d in PUBLISHED)
    # Transcribe: the same, with its transcript written as usual
    assert start(client, bucket, "dropped-1")["TranscriptionJobStatus"] == "COMPLETED"
    assert client("s3").get_object(Bucket=bucket, Key="transcripts/dropped-1.json")["Body"].read()
    assert start(client, bucket, "dropped-2")["TranscriptionJobStatus"] == "COMPLETED"
    deadline = time.monotonic() + 10
    while not final_events("aws.transcribe", "TranscriptionJobName", "dropped-2"):
        assert time.monotonic() < deadline, "the second job's event never came"
        time.sleep(0.05)
    assert final_events("aws.transcribe", "TranscriptionJobName", "dropped-1") == []
    assert final_events("aws.transcribe", "TranscriptionJobName", "dropped-2") == ["COMPLETED"]
    assert [r.fired for r in registry.rules()] == [1, 1]


def test_a_stuck_job_never_finishes_and_frees_its_slot(aws):
    client, registry, bucket = aws
    mediaconvert, transcribe = client("mediaconvert"), client("transcribe")
    registry.add(service="mediaconvert", effect="job-stuck", count=1)
    registry.add(service="transcribe", effect="job-stuck", count=2)  # as many as the stand-in has slots
    stuck = mediaconvert.create_job(Role=ROLE, Settings=job_settings(bucket))["Job"]["Id"]
    assert wait(functools.partial(job, mediaconvert, stuck), "Status", {"PROGRESSING"})["Status"] == "PROGRESSING"
    # The next job runs on the same (single) worker and completes; the stuck one stays PROGRESSING
    after = mediaconvert.create_job(Role=ROLE, Settings=job_settings(bucket))["Job"]["Id"]
    assert wait(functools.partial(job, mediaconvert, after), "Status", {"COMPLETE", "ERROR"})["Status"] == "COMPLETE"
    assert job(mediaconvert, stuck)["Status"] == "PROGRESSING"
    assert final_events("aws.mediaconvert", "jobId", stuck) == []
    # Transcribe: two stuck jobs stay IN_PROGRESS, yet a third job still gets a slot and completes
    for name in ("stuck-1", "stuck-2"):
        transcribe.start_transcription_job(
            TranscriptionJobName=name,
            LanguageCode="en-US",
            Media={"MediaFileUri": f"s3://{bucket}/in/answer.webm"},
            OutputBucketName=bucket,
        )
    deadline = time.monotonic() + 10
    while any(r.remaining for r in registry.rules()):
        assert time.monotonic() < deadline, registry.rules()
        time.sleep(0.05)
    assert start(client, bucket, "after-stuck")["TranscriptionJobStatus"] == "COMPLETED"
    for name in ("stuck-1", "stuck-2"):
        status = transcribe.get_transcription_job(TranscriptionJobName=name)["TranscriptionJob"]
        assert status["TranscriptionJobStatus"] == "IN_PROGRESS"
        assert final_events("aws.transcribe", "TranscriptionJobName", name) == []


@pytest.mark.parametrize(("service", "effect"), [("comprehend", "drop-event"), ("s3", "job-stuck")])
def test_job_effects_apply_to_the_job_services_only(service, effect):
    with pytest.raises(faults.RuleError, match="mediaconvert or transcribe"):
        faults.FaultRule(service=service, effect=effect)
