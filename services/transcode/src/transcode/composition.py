"""The composition root of the transcode functions: their use cases, each built once per process on first use
(docs/architecture.md, "Skeleton"). Tests clear a builder with ``cache_clear()`` or monkeypatch it."""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING

from transcode.adapters.jobs_table import DynamoJobStore
from vidsense_shared.aws import client
from vidsense_shared.bus import EventBridgePublisher
from vidsense_shared.config import load_settings

# Each builder imports its own use case and adapters: a function's cold start loads its own path, not the five
# other functions' (docs/performance.md, Lambda cold init).
if TYPE_CHECKING:
    from transcode.domain.erasure import AnswerEraser
    from transcode.domain.reconcile import Reconciler
    from transcode.domain.relay import TranscoderRelay
    from transcode.domain.start_transcode import TranscodeStarter
    from transcode.domain.start_transcription import TranscriptionStarter
    from transcode.domain.transcription_outcome import TranscriptionCompleter


@cache
def transcode_starter() -> TranscodeStarter:
    """startTranscode: one MediaConvert job per answer attempt."""
    from transcode.adapters.mediaconvert import MediaConvertTranscoder, resolve_endpoint
    from transcode.domain.start_transcode import TranscodeStarter
    from transcode.settings import StartTranscodeSettings

    settings = load_settings(StartTranscodeSettings)
    endpoint = resolve_endpoint(
        settings.mediaconvert_endpoint,
        settings.mediaconvert_discover_endpoint,
        lambda url: client("mediaconvert", url),
    )
    return TranscodeStarter(
        stage=settings.stage,
        work_bucket=settings.work_bucket,
        jobs=_jobs(settings.jobs_table),
        transcoder=MediaConvertTranscoder(
            client("mediaconvert", endpoint),
            role_arn=settings.mediaconvert_role_arn,
            queue_arn=settings.mediaconvert_queue_arn,
        ),
        publisher=_publisher(settings.event_bus_name),
    )


@cache
def transcoder_relay() -> TranscoderRelay:
    """relayTranscoderEvents: a finished MediaConvert job's TranscoderCompleted or TranscodeFailed, once."""
    from transcode.domain.relay import TranscoderRelay
    from transcode.settings import RelaySettings

    settings = load_settings(RelaySettings)
    return TranscoderRelay(
        stage=settings.stage, jobs=_jobs(settings.jobs_table), publisher=_publisher(settings.event_bus_name)
    )


@cache
def transcription_starter() -> TranscriptionStarter:
    """startTranscription: one Transcribe job per answer attempt, with deferred execution."""
    from transcode.adapters.transcribe import TranscribeJobs
    from transcode.domain.start_transcription import TranscriptionStarter
    from transcode.settings import StartTranscriptionSettings

    settings = load_settings(StartTranscriptionSettings)
    return TranscriptionStarter(
        stage=settings.stage,
        work_bucket=settings.work_bucket,
        language_code=settings.transcribe_language,
        jobs=_jobs(settings.jobs_table),
        transcriber=TranscribeJobs(client("transcribe"), data_access_role_arn=settings.transcribe_data_access_role_arn),
        publisher=_publisher(settings.event_bus_name),
    )


@cache
def transcription_completer() -> TranscriptionCompleter:
    """transcriptionCompleted: a finished Transcribe job's TranscriptReady or TranscriptionFailed, once."""
    from transcode.adapters.transcribe import TranscribeJobs
    from transcode.domain.transcription_outcome import TranscriptionCompleter
    from transcode.settings import TranscriptionCompletedSettings

    settings = load_settings(TranscriptionCompletedSettings)
    return TranscriptionCompleter(
        stage=settings.stage,
        work_bucket=settings.work_bucket,
        jobs=_jobs(settings.jobs_table),
        transcriber=TranscribeJobs(client("transcribe")),
        publisher=_publisher(settings.event_bus_name),
    )


@cache
def reconciler() -> Reconciler:
    """reconcile: the attempts whose MediaConvert or Transcribe event was lost, finished or failed."""
    from transcode.adapters.mediaconvert import MediaConvertJobs
    from transcode.adapters.transcribe import TranscribeJobs
    from transcode.domain.reconcile import Policy, Reconciler
    from transcode.settings import ReconcileSettings

    settings = load_settings(ReconcileSettings)
    return Reconciler(
        stage=settings.stage,
        work_bucket=settings.work_bucket,
        policy=Policy(
            stuck_after=timedelta(seconds=settings.stuck_after_seconds),
            give_up_after=timedelta(seconds=settings.give_up_after_seconds),
        ),
        jobs=_jobs(settings.jobs_table),
        # GetJob only: the configured endpoint, else boto3's own (regional, or AWS_ENDPOINT_URL locally).
        transcode_jobs=MediaConvertJobs(client("mediaconvert", settings.mediaconvert_endpoint)),
        transcriber=TranscribeJobs(client("transcribe")),
        publisher=_publisher(settings.event_bus_name),
    )


@cache
def answer_eraser() -> AnswerEraser:
    """eraseAnswer: the answer's audio, transcripts, job items and Transcribe jobs."""
    from transcode.adapters.transcribe import TranscribeJobs
    from transcode.adapters.work_objects import S3WorkObjects
    from transcode.domain.erasure import AnswerEraser
    from transcode.settings import EraseSettings

    settings = load_settings(EraseSettings)
    return AnswerEraser(
        stage=settings.stage,
        work_bucket=settings.work_bucket,
        objects=S3WorkObjects(client("s3")),
        jobs=_jobs(settings.jobs_table),
        transcriptions=TranscribeJobs(client("transcribe")),
    )


def _jobs(table: str) -> DynamoJobStore:
    return DynamoJobStore(client("dynamodb"), table)


def _publisher(bus_name: str) -> EventBridgePublisher:
    return EventBridgePublisher(bus_name, client("events"))
