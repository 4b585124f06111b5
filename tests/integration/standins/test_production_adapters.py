"""The production adapters and event models, unchanged, against the stand-ins: the chain transcode -> transcribe
-> sentiment on one spoken sample, as the Lambda functions drive it (without the bus between them)."""

from __future__ import annotations

import json
import uuid

from nlp.adapters.comprehend import ComprehendSentimentDetector
from tests.integration.standins.conftest import ACCOUNT, NAMES, ROLE_ARN, Endpoint, spoken
from transcode.adapters.mediaconvert import MediaConvertTranscoder
from transcode.adapters.transcribe import TranscribeJobs
from transcode.domain import mediaconvert as mc_events
from transcode.domain import transcribe as tr_events
from transcode.domain.ports import TranscodeRequest
from transcode.domain.transcribe import TranscriptionRequest
from vidsense_local.engines.wer import word_error_rate


def test_adapters_run_the_chain_on_the_stand_ins(endpoint: Endpoint) -> None:
    sample = next(s for s in spoken() if s["expected_label"] == "MIXED")
    answer = uuid.uuid4().hex[:10]
    video_uri = endpoint.upload(sample["file"], key=f"proj/step/{answer}.webm")

    # startTranscode: the adapter fills the committed job template
    transcoder = MediaConvertTranscoder(endpoint.client("mediaconvert"), role_arn=ROLE_ARN)
    job_id = transcoder.create_job(
        TranscodeRequest(
            input_uri=video_uri,
            destination_uri=f"s3://{endpoint.bucket}/test/audio/proj/step/{answer}/attempt-1/answer",
            user_metadata={"app": "vidsense", "stage": "test", "attempt": "1"},
            client_request_token=f"{answer}-1",
        )
    )
    raw = endpoint.events.wait_for(
        lambda e: (
            e["source"] == mc_events.SOURCE and e["detail"]["jobId"] == job_id and e["detail"]["status"] == "COMPLETE"
        ),
        timeout=60,
    )
    # relayTranscoderEvents: the relay's own model finds the MP3
    change = mc_events.JobStateChange.model_validate(raw)
    assert mc_events.job_belongs_to(change.detail, "test")
    audio = mc_events.find_audio_output(change.detail)
    assert audio is not None
    assert audio.pointer.key == f"test/audio/proj/step/{answer}/attempt-1/answer.mp3"
    assert audio.duration_ms is not None and abs(audio.duration_ms / 1000 - sample["duration_s"]) < 0.2

    # startTranscription: MP3 at the template's 22.05 kHz, name derived from the answer (a rerun is a no-op)
    data_access_role = f"arn:aws:iam::{ACCOUNT}:role/{NAMES.transcribe_data_access_role}"
    jobs = TranscribeJobs(endpoint.client("transcribe"), data_access_role_arn=data_access_role)
    request = TranscriptionRequest(
        job_name=f"vidsense.test.proj.step.{answer}.1",
        media_uri=audio.pointer.uri,
        media_format="mp3",
        language_code="en-US",
        output_bucket=endpoint.bucket,
        output_key=f"test/transcripts/proj/step/{answer}/attempt-1.json",
        sample_rate_hertz=22050,
    )
    assert jobs.start(request) is True  # deferred execution: IN_PROGRESS, or QUEUED behind other tests' jobs
    assert jobs.start(request) is False  # ConflictException: already running
    raw = endpoint.events.wait_for(
        lambda e: e["source"] == tr_events.SOURCE and e["detail"]["TranscriptionJobName"] == request.job_name,
        timeout=180,
    )
    # transcriptionCompleted: event model, then GetTranscriptionJob through the adapter
    assert tr_events.JobStateChange.model_validate(raw).detail.status == "COMPLETED"
    described = jobs.describe(request.job_name)
    assert (described.status, described.language_code, described.failure_reason) == ("COMPLETED", "en-US", None)
    assert described.transcript_uri is not None and described.transcript_uri.endswith(request.output_key)
    body = endpoint.client("s3").get_object(Bucket=endpoint.bucket, Key=request.output_key)["Body"].read()
    transcript = json.loads(body)["results"]["transcripts"][0]["transcript"]
    assert word_error_rate(sample["text"], transcript) <= 0.15

    # analyzeSentiment: the nlp adapter on the transcript
    detector = ComprehendSentimentDetector(endpoint.client("comprehend"))
    assert detector.detect(transcript, "en").label == "MIXED"
    [batch] = detector.detect_batch([transcript], "en")
    assert batch.label == "MIXED"
