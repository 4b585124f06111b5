"""Transcribe stand-in through boto3: real speech to text of the spoken samples, Transcribe's output JSON at the
requested key, "Transcribe Job State Change" events, and the errors the transcode adapter relies on."""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.integration.standins.conftest import ACCOUNT, REGION, Endpoint, spoken
from vidsense_local.engines.speech import SpeechResult
from vidsense_local.engines.wer import word_error_rate
from vidsense_local.standins import TranscribeStandIn, build_standins
from vidsense_local.standins._common import AwsError, AwsTarget
from vidsense_local.standins.transcribe import MAX_CONCURRENT_ENV

DATA_ACCESS_ROLE = f"arn:aws:iam::{ACCOUNT}:role/vidsense-test-transcribe-data-access"
DEFERRED = {"JobExecutionSettings": {"AllowDeferredExecution": True, "DataAccessRoleArn": DATA_ACCESS_ROLE}}


def for_job(name: str, status: str) -> Any:
    return lambda e: (
        e["source"] == "aws.transcribe"
        and e["detail-type"] == "Transcribe Job State Change"
        and e["detail"]["TranscriptionJobName"] == name
        and e["detail"]["TranscriptionJobStatus"] == status
    )


def start(endpoint: Endpoint, media_uri: str, **extra: Any) -> str:
    name = f"vidsense.test.p.s.{uuid.uuid4().hex[:12]}.1"
    params: dict[str, Any] = {
        "TranscriptionJobName": name,
        "LanguageCode": "en-US",
        "MediaFormat": "webm",
        "Media": {"MediaFileUri": media_uri},
        "OutputBucketName": endpoint.bucket,
        "OutputKey": f"test/transcripts/{name}.json",
    }
    params.update(DEFERRED)  # more jobs than the stand-in's two slots may be started at once: they queue
    params.update(extra)
    answer = endpoint.client("transcribe").start_transcription_job(**params)
    assert answer["TranscriptionJob"]["TranscriptionJobStatus"] in ("IN_PROGRESS", "QUEUED")
    return name


@pytest.fixture(scope="module")
def spoken_jobs(endpoint: Endpoint) -> dict[str, str]:
    """All spoken samples started at once (two slots, the others queued), so the model runs while others wait."""
    return {f["file"]: start(endpoint, endpoint.upload(f["file"])) for f in spoken()}


@pytest.mark.parametrize("sample", spoken(), ids=lambda f: f["file"])
def test_spoken_answer_is_transcribed_like_transcribe(
    endpoint: Endpoint, spoken_jobs: dict[str, str], sample: dict[str, Any]
) -> None:
    name = spoken_jobs[sample["file"]]
    endpoint.events.wait_for(for_job(name, "COMPLETED"), timeout=240)

    job = endpoint.client("transcribe").get_transcription_job(TranscriptionJobName=name)["TranscriptionJob"]
    assert job["TranscriptionJobStatus"] == "COMPLETED"
    assert job["LanguageCode"] == "en-US"
    assert job["MediaFormat"] == "webm"
    assert job["CompletionTime"] >= job["CreationTime"]
    key = f"test/transcripts/{name}.json"
    assert job["Transcript"]["TranscriptFileUri"] == f"https://s3.us-east-1.amazonaws.com/{endpoint.bucket}/{key}"

    document = json.loads(endpoint.client("s3").get_object(Bucket=endpoint.bucket, Key=key)["Body"].read())
    assert (document["jobName"], document["accountId"], document["status"]) == (name, ACCOUNT, "COMPLETED")
    results = document["results"]
    assert results["language_code"] == "en-US"
    transcript = results["transcripts"][0]["transcript"]
    wer = word_error_rate(sample["text"], transcript)
    assert wer <= 0.15, f"WER {wer:.1%}: {transcript!r} vs {sample['text']!r}"

    words = [i for i in results["items"] if i["type"] == "pronunciation"]
    marks = [i for i in results["items"] if i["type"] == "punctuation"]
    assert word_error_rate(sample["text"], " ".join(w["alternatives"][0]["content"] for w in words)) == wer
    assert marks, "Transcribe reports punctuation as separate items"
    assert all("start_time" not in m for m in marks)
    previous_end = 0.0
    for word in words:
        start_s, end_s = float(word["start_time"]), float(word["end_time"])
        assert isinstance(word["start_time"], str)
        assert previous_end - 0.05 <= start_s <= end_s <= sample["duration_s"] + 0.1
        previous_end = end_s
        assert 0.0 <= float(word["alternatives"][0]["confidence"]) <= 1.0
    # The words span the speech, not a fragment of it.
    assert float(words[-1]["end_time"]) >= 0.7 * sample["duration_s"]


def test_reused_job_name_raises_conflict(endpoint: Endpoint, spoken_jobs: dict[str, str]) -> None:
    client = endpoint.client("transcribe")
    name = next(iter(spoken_jobs.values()))
    with pytest.raises(client.exceptions.ConflictException):
        client.start_transcription_job(
            TranscriptionJobName=name,
            LanguageCode="en-US",
            Media={"MediaFileUri": f"s3://{endpoint.bucket}/whatever.webm"},
            OutputBucketName=endpoint.bucket,
        )


def test_bad_parameters_raise_bad_request(endpoint: Endpoint) -> None:
    client = endpoint.client("transcribe")
    base = {
        "TranscriptionJobName": f"bad-{uuid.uuid4().hex}",
        "LanguageCode": "en-US",
        "Media": {"MediaFileUri": f"s3://{endpoint.bucket}/a.webm"},
        "OutputBucketName": endpoint.bucket,
    }
    with pytest.raises(client.exceptions.BadRequestException, match="TranscriptionJobName"):
        client.start_transcription_job(**{**base, "TranscriptionJobName": "has spaces"})
    with pytest.raises(client.exceptions.BadRequestException, match="MediaFileUri"):
        client.start_transcription_job(**{**base, "Media": {"MediaFileUri": "https://example.com/a.webm"}})
    with pytest.raises(client.exceptions.BadRequestException, match="MediaFormat"):
        client.start_transcription_job(**{**base, "MediaFormat": "avi"})
    with pytest.raises(client.exceptions.NotFoundException):
        client.get_transcription_job(TranscriptionJobName=f"nosuch-{uuid.uuid4().hex}")


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("non-english", "Unsupported language code"),
        ("missing-media", "doesn't point to an S3 object"),
        ("corrupt", "Failed to parse the input media file"),
        ("wrong-format", "media format provided does not match"),
        ("wrong-rate", "sample rate"),
    ],
)
def test_job_that_cannot_run_fails_with_reason_and_event(endpoint: Endpoint, case: str, reason: str) -> None:
    extra: dict[str, Any] = {}
    if case == "missing-media":
        uri = f"s3://{endpoint.bucket}/media/{uuid.uuid4().hex}/absent.webm"
    else:
        uri = endpoint.upload("corrupt.webm" if case == "corrupt" else "neutral.webm")
    if case == "non-english":
        extra["LanguageCode"] = "es-ES"
    if case == "wrong-format":
        extra["MediaFormat"] = "mp4"  # the seed's bug: mp4 declared for another format
    if case == "wrong-rate":
        extra["MediaSampleRateHertz"] = 44100  # the sample's Opus track is 48 kHz
    name = start(endpoint, uri, **extra)

    event = endpoint.events.wait_for(for_job(name, "FAILED"), timeout=60)

    assert reason.lower() in event["detail"]["FailureReason"].lower()
    job = endpoint.client("transcribe").get_transcription_job(TranscriptionJobName=name)["TranscriptionJob"]
    assert job["TranscriptionJobStatus"] == "FAILED"
    assert job["FailureReason"] == event["detail"]["FailureReason"]
    assert "Transcript" not in job


def test_silent_answer_completes_with_an_empty_transcript(endpoint: Endpoint) -> None:
    name = start(endpoint, endpoint.upload("silent.webm"))
    endpoint.events.wait_for(for_job(name, "COMPLETED"), timeout=120)
    key = f"test/transcripts/{name}.json"
    document = json.loads(endpoint.client("s3").get_object(Bucket=endpoint.bucket, Key=key)["Body"].read())
    assert document["results"]["transcripts"] == [{"transcript": ""}]
    assert document["results"]["items"] == []


def test_list_transcription_jobs_filters_by_status_and_name(endpoint: Endpoint, spoken_jobs: dict[str, str]) -> None:
    for name in spoken_jobs.values():
        endpoint.events.wait_for(for_job(name, "COMPLETED"), timeout=240)
    client = endpoint.client("transcribe")
    listed = client.list_transcription_jobs(Status="COMPLETED", JobNameContains="vidsense.test.", MaxResults=100)
    names = {s["TranscriptionJobName"] for s in listed["TranscriptionJobSummaries"]}
    assert set(spoken_jobs.values()) <= names
    assert all(s["TranscriptionJobStatus"] == "COMPLETED" for s in listed["TranscriptionJobSummaries"])


class GatedEngine:
    """Speech to text that finishes only when the test opens the gate; it records how many jobs ran at once."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0

    def transcribe_file(self, source: Path) -> SpeechResult:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            assert self.gate.wait(60), "the test never opened the gate"
            return SpeechResult(words=(), audio_seconds=1.0, decode_seconds=0.0, compute_seconds=0.0)
        finally:
            with self.lock:
                self.running -= 1


def _body(endpoint: Endpoint, uri: str, name: str, *, deferred: bool) -> dict[str, Any]:
    body = {
        "TranscriptionJobName": name,
        "LanguageCode": "en-US",
        "Media": {"MediaFileUri": uri},
        "OutputBucketName": endpoint.bucket,
        "OutputKey": f"test/transcripts/{name}.json",
    }
    return {**body, **DEFERRED} if deferred else body


def _status(standin: TranscribeStandIn, name: str) -> str:
    return str(
        standin.get_transcription_job({"TranscriptionJobName": name})["TranscriptionJob"]["TranscriptionJobStatus"]
    )


def test_the_concurrent_job_limit_queues_deferred_starts_and_refuses_the_others(endpoint: Endpoint) -> None:
    # Given a Transcribe with two slots whose jobs run until the test lets them finish
    engine = GatedEngine()
    standin = TranscribeStandIn(AwsTarget(endpoint.url, REGION, ACCOUNT), concurrency=2, engine=engine)  # type: ignore[arg-type]
    published: list[dict[str, Any]] = []
    standin.set_event_sink(lambda source, detail_type, detail, resources=None: published.append(detail))
    standin.start()
    uri = endpoint.upload("neutral.webm")
    try:
        # When two jobs take the slots, a third start without deferred execution is refused, as AWS does
        for name in ("first", "second"):
            answer = standin.start_transcription_job(_body(endpoint, uri, name, deferred=False))
            assert answer["TranscriptionJob"]["TranscriptionJobStatus"] == "IN_PROGRESS"
        with pytest.raises(AwsError) as caught:
            standin.start_transcription_job(_body(endpoint, uri, "refused", deferred=False))
        assert (caught.value.code, caught.value.status) == ("LimitExceededException", 429)
        # ...and deferred starts wait QUEUED, without a start time
        for name in ("third", "fourth"):
            queued = standin.start_transcription_job(_body(endpoint, uri, name, deferred=True))["TranscriptionJob"]
            assert queued["TranscriptionJobStatus"] == "QUEUED" and "StartTime" not in queued
            assert queued["JobExecutionSettings"] == DEFERRED["JobExecutionSettings"]
        deadline = time.monotonic() + 30
        while engine.running < 2:
            assert time.monotonic() < deadline, "the two admitted jobs never reached the engine"
            time.sleep(0.05)
        assert [_status(standin, n) for n in ("third", "fourth")] == ["QUEUED", "QUEUED"]
        # Then, once the gate opens, all four complete, never more than two at once, the queued ones in order
        engine.gate.set()
        names = ("first", "second", "third", "fourth")
        deadline = time.monotonic() + 60
        while any(_status(standin, n) != "COMPLETED" for n in names):
            assert time.monotonic() < deadline, [_status(standin, n) for n in names]
            time.sleep(0.05)
        assert engine.most == 2
        jobs = {n: standin.get_transcription_job({"TranscriptionJobName": n})["TranscriptionJob"] for n in names}
        assert jobs["third"]["StartTime"] <= jobs["fourth"]["StartTime"]
        assert jobs["third"]["StartTime"] >= min(jobs[n]["CompletionTime"] for n in ("first", "second"))
        assert sorted(d["TranscriptionJobName"] for d in published) == sorted(names)
        assert "refused" not in {d["TranscriptionJobName"] for d in published}
    finally:
        engine.gate.set()
        standin.stop()


def test_deferred_execution_needs_a_data_access_role_and_a_bounded_queue(endpoint: Endpoint) -> None:
    standin = TranscribeStandIn(AwsTarget(endpoint.url, REGION, ACCOUNT), concurrency=1, max_queued=0)
    uri = f"s3://{endpoint.bucket}/a.webm"
    for settings in ({"AllowDeferredExecution": True}, {"DataAccessRoleArn": DATA_ACCESS_ROLE}):
        with pytest.raises(AwsError, match="both AllowDeferredExecution and DataAccessRoleArn") as caught:
            standin.start_transcription_job(
                {**_body(endpoint, uri, "x", deferred=False), "JobExecutionSettings": settings}
            )
        assert caught.value.code == "BadRequestException"
    bad_role = {"AllowDeferredExecution": True, "DataAccessRoleArn": "arn:aws:s3:::not-a-role"}
    with pytest.raises(AwsError, match="DataAccessRoleArn"):
        standin.start_transcription_job({**_body(endpoint, uri, "x", deferred=False), "JobExecutionSettings": bad_role})
    # The one slot is taken (workers never started) and the queue holds nothing: a deferred start is refused too
    standin.start_transcription_job(_body(endpoint, uri, "holds-the-slot", deferred=True))
    with pytest.raises(AwsError) as caught:
        standin.start_transcription_job(_body(endpoint, uri, "no-room", deferred=True))
    assert (caught.value.code, caught.value.status) == ("LimitExceededException", 429)
    assert "queued jobs" in caught.value.message


def test_the_local_stack_reads_its_limit_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    def limit() -> int:
        standins = build_standins("http://127.0.0.1:1", REGION, ACCOUNT)
        return next(s.max_concurrent for s in standins if isinstance(s, TranscribeStandIn))

    monkeypatch.delenv(MAX_CONCURRENT_ENV, raising=False)
    assert limit() == 2
    monkeypatch.setenv(MAX_CONCURRENT_ENV, "3")
    assert limit() == 3
    monkeypatch.setenv(MAX_CONCURRENT_ENV, "0")
    with pytest.raises(ValueError, match=MAX_CONCURRENT_ENV):
        limit()


def test_stop_returns_while_a_job_runs(endpoint: Endpoint) -> None:
    # Given a job held in the engine until the test opens the gate
    engine = GatedEngine()
    standin = TranscribeStandIn(AwsTarget(endpoint.url, REGION, ACCOUNT), concurrency=1, engine=engine)  # type: ignore[arg-type]
    standin.start()
    uri = endpoint.upload("neutral.webm")
    try:
        standin.start_transcription_job(_body(endpoint, uri, "held", deferred=False))
        deadline = time.monotonic() + 30  # a bound for a loaded machine, not a measurement
        while engine.running < 1:
            assert time.monotonic() < deadline, "the job never reached the engine"
            time.sleep(0.05)
        # When the stand-in stops, Then stop() returns although the job has not finished (ordering, not a
        # stopwatch: a stop that waited for its jobs would never return before the gate opens)
        stopped = threading.Thread(target=standin.stop, daemon=True)
        stopped.start()
        stopped.join(timeout=30)
        assert not stopped.is_alive(), "stop() waited for the running job"
        assert engine.running == 1 and _status(standin, "held") == "IN_PROGRESS"
    finally:
        # The job still finishes on its (daemon) thread once let go, so no work outlives the test.
        engine.gate.set()
    deadline = time.monotonic() + 30
    while engine.running:
        assert time.monotonic() < deadline, "the held job never finished"
        time.sleep(0.05)


def test_the_stand_ins_log_each_finished_job_phases(endpoint: Endpoint, tmp_path: Path) -> None:
    # Given the stand-ins with a job log, as make up builds them
    log = tmp_path / "jobs.log"
    standin = next(
        s for s in build_standins(endpoint.url, REGION, ACCOUNT, job_log=log) if isinstance(s, TranscribeStandIn)
    )
    uri = endpoint.upload("negative.webm", "test/phases/negative.webm")
    standin.start()
    try:
        # When a job runs to COMPLETED
        standin.start_transcription_job(_body(endpoint, uri, "phases", deferred=False))
        deadline = time.monotonic() + 120
        while not log.exists():
            assert time.monotonic() < deadline, "no line in the job log"
            time.sleep(0.2)
    finally:
        standin.stop()
    # Then its line splits the job into its phases, the engine's own seconds inside the engine call
    line = json.loads(log.read_text().splitlines()[0])
    assert (line["service"], line["job"]) == ("transcribe", "phases")
    seconds = line["seconds"]
    assert set(seconds) >= {"media download", "probe", "speech to text (engine call)", "transcript upload"}
    engine = seconds["of which engine decode"] + seconds["of which engine model"]
    assert 0 < engine <= seconds["speech to text (engine call)"]
