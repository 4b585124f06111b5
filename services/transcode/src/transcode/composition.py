"""The composition root of the transcode functions: their settings and adapters, each built once per process on
first use (docs/architecture.md, "Skeleton"). Tests clear a builder with ``cache_clear()`` or monkeypatch it."""

from __future__ import annotations

from functools import cache

from transcode.adapters.jobs_table import DynamoJobStore
from transcode.adapters.mediaconvert import MediaConvertJobs, MediaConvertTranscoder, resolve_endpoint
from transcode.adapters.transcribe import TranscribeJobs
from transcode.adapters.work_objects import S3WorkObjects
from transcode.settings import (
    EraseSettings,
    ReconcileSettings,
    RelaySettings,
    StartTranscodeSettings,
    StartTranscriptionSettings,
    TranscriptionCompletedSettings,
)
from vidsense_shared import aws
from vidsense_shared.bus import EventBridgePublisher
from vidsense_shared.config import load_settings


def publisher(bus_name: str) -> EventBridgePublisher:
    return EventBridgePublisher(bus_name, aws.client("events"))


@cache
def start_transcode_settings() -> StartTranscodeSettings:
    return load_settings(StartTranscodeSettings)


@cache
def relay_settings() -> RelaySettings:
    return load_settings(RelaySettings)


@cache
def start_transcription_settings() -> StartTranscriptionSettings:
    return load_settings(StartTranscriptionSettings)


@cache
def transcription_completed_settings() -> TranscriptionCompletedSettings:
    return load_settings(TranscriptionCompletedSettings)


@cache
def reconcile_settings() -> ReconcileSettings:
    return load_settings(ReconcileSettings)


@cache
def erase_settings() -> EraseSettings:
    return load_settings(EraseSettings)


@cache
def work_objects() -> S3WorkObjects:
    return S3WorkObjects(aws.client("s3"))


@cache
def jobs(table_name: str) -> DynamoJobStore:
    return DynamoJobStore(aws.client("dynamodb"), table_name)


@cache
def transcoder() -> MediaConvertTranscoder:
    settings = start_transcode_settings()
    endpoint = resolve_endpoint(
        settings.mediaconvert_endpoint,
        settings.mediaconvert_discover_endpoint,
        lambda url: aws.client("mediaconvert", url),
    )
    return MediaConvertTranscoder(
        aws.client("mediaconvert", endpoint),
        role_arn=settings.mediaconvert_role_arn,
        queue_arn=settings.mediaconvert_queue_arn,
    )


@cache
def transcriber() -> TranscribeJobs:
    """Reads jobs (transcriptionCompleted, reconcile)."""
    return TranscribeJobs(aws.client("transcribe"))


@cache
def transcription_starter() -> TranscribeJobs:
    """Starts jobs with deferred execution (startTranscription)."""
    settings = start_transcription_settings()
    return TranscribeJobs(aws.client("transcribe"), data_access_role_arn=settings.transcribe_data_access_role_arn)


@cache
def mediaconvert_jobs() -> MediaConvertJobs:
    # GetJob only: the configured endpoint, else boto3's own (regional, or AWS_ENDPOINT_URL locally).
    return MediaConvertJobs(aws.client("mediaconvert", reconcile_settings().mediaconvert_endpoint))
