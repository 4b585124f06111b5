"""Speech to text in a worker process of its own (engines/speech_process.py), as the Transcribe stand-in runs it:
the same transcript as in this process, typed failures, a crashed worker replaced, a clean stop."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.standins.conftest import ACCOUNT, MEDIA, REGION, Endpoint
from vidsense_local.engines.speech_process import SpeechProcess, SpeechProcessError
from vidsense_local.engines.transcode import MediaError
from vidsense_local.standins import TranscribeStandIn, build_standins
from vidsense_local.standins._common import AwsTarget


@pytest.fixture(scope="module")
def worker() -> Iterator[SpeechProcess]:
    process = SpeechProcess(workers=2)
    process.warm_up()
    yield process
    process.close()


def _pid(process: SpeechProcess) -> int:
    assert process._worker is not None
    return process._worker.process.pid


def test_the_transcript_is_computed_in_another_process(worker: SpeechProcess) -> None:
    # Given a started worker, When a clip is transcribed
    result = worker.transcribe_file(MEDIA / "benchmark-10s.webm")
    # Then the words are Whisper's, timed, from a process that is not this one
    assert result.transcript.startswith("For this step we measured the room")
    assert result.words[0].start < result.words[-1].end <= result.audio_seconds
    assert result.compute_seconds > 0
    assert _pid(worker) != os.getpid()
    assert worker.load_seconds is not None


def test_input_that_is_not_audio_raises_the_media_error(worker: SpeechProcess) -> None:
    with pytest.raises(MediaError) as raised:
        worker.transcribe_file(MEDIA / "corrupt.webm")
    assert raised.value.kind == "unreadable"


def test_a_killed_worker_fails_its_job_with_the_reason_and_the_next_job_gets_a_new_one(
    worker: SpeechProcess,
) -> None:
    # Given a job running in the worker
    outcome: dict[str, object] = {}

    def job() -> None:
        try:
            outcome["result"] = worker.transcribe_file(MEDIA / "benchmark-10s.webm")
        except SpeechProcessError as exc:
            outcome["error"] = str(exc)

    first = _pid(worker)
    thread = threading.Thread(target=job)
    thread.start()
    time.sleep(0.3)
    # When the worker process dies
    assert worker._worker is not None
    worker._worker.process.kill()
    thread.join(30)
    # Then the job fails at once with the reason, instead of waiting
    assert not thread.is_alive()
    assert "speech worker ended (exit code -9)" in str(outcome.get("error")), outcome
    # And the next job runs in a new worker
    assert worker.transcribe_file(MEDIA / "positive.webm").transcript.startswith("I really love")
    assert _pid(worker) != first


def test_close_lets_the_running_job_finish_before_the_worker_exits() -> None:
    process = SpeechProcess(workers=1)
    process.warm_up()
    assert process._worker is not None
    running = process._worker.process
    outcome: dict[str, object] = {}
    thread = threading.Thread(target=lambda: outcome.update(result=process.transcribe_file(MEDIA / "mixed.webm")))
    thread.start()
    time.sleep(0.3)
    # When the worker is closed while it computes
    process.close(timeout=60)
    thread.join(30)
    # Then the job got its transcript and the worker exited on its own (not killed)
    assert "result" in outcome
    assert running.returncode == 0


def test_the_stand_in_logs_each_job_phases(endpoint: Endpoint, tmp_path: Path) -> None:
    # Given the stand-ins with a job log, as make up builds them
    log = tmp_path / "jobs.log"
    standin = next(
        s for s in build_standins(endpoint.url, REGION, ACCOUNT, job_log=log) if isinstance(s, TranscribeStandIn)
    )
    uri = endpoint.upload("negative.webm", "test/phases/negative.webm")
    standin.start()
    try:
        # When a job runs to COMPLETED
        standin.start_transcription_job(
            {
                "TranscriptionJobName": "phases",
                "LanguageCode": "en-US",
                "Media": {"MediaFileUri": uri},
                "OutputBucketName": endpoint.bucket,
                "OutputKey": "test/phases/out.json",
            }
        )
        deadline = time.monotonic() + 120
        while not log.exists():
            assert time.monotonic() < deadline, "no job line in the job log"
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


def test_a_stand_in_without_an_engine_runs_it_in_its_own_process() -> None:
    standin = TranscribeStandIn(AwsTarget("http://127.0.0.1:1", REGION, ACCOUNT))
    assert isinstance(standin.engine, SpeechProcess)
