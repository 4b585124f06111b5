"""The composition root of the ingest functions: their use cases, each built once per process on first use
(docs/architecture.md, "Skeleton"). Tests clear a builder with ``cache_clear()`` or monkeypatch it."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from ingest.adapters.answers_table import DynamoAnswerRepository
from vidsense_shared.aws import client
from vidsense_shared.bus import EventBridgePublisher
from vidsense_shared.config import load_settings
from vidsense_shared.events import utc_now

# Each builder imports its own use case and adapters: a function's cold start loads its own path, not the other
# functions' (docs/performance.md, Lambda cold init).
if TYPE_CHECKING:
    from ingest.adapters.media import S3MediaStore
    from ingest.domain.answer_api import AnswerApi
    from ingest.domain.answer_projector import AnswerProjector
    from ingest.domain.upload_recorder import UploadRecorder


@cache
def answer_api() -> AnswerApi:
    """api: presigned uploads, the caller's answer and its erasure, reviewers' listings."""
    from ingest.adapters.recording_limits import DynamoRecordingWindows
    from ingest.adapters.secrets import SsmUserKeySecret
    from ingest.domain.answer_api import AnswerApi
    from ingest.settings import ApiSettings

    settings = load_settings(ApiSettings)
    return AnswerApi(
        repo=_answers(settings.answers_table),
        media=_media(),
        secret=SsmUserKeySecret(client("ssm"), settings.user_key_parameter, settings.user_key_cache_seconds),
        media_bucket=settings.media_bucket,
        max_upload_bytes=settings.max_upload_bytes,
        expires_in=settings.presign_expires_seconds,
        reviewer_group=settings.reviewer_group,
        publisher=_publisher(settings.event_bus_name),
        clock=utc_now,
        recordings=DynamoRecordingWindows(settings.answers_table, client("dynamodb")),
        max_recordings_per_day=settings.max_answers_per_user_per_day,
    )


@cache
def upload_recorder() -> UploadRecorder:
    """uploadLanded: records each landed upload and announces VideoUploaded."""
    from ingest.domain.upload_recorder import UploadRecorder
    from ingest.settings import UploadLandedSettings

    settings = load_settings(UploadLandedSettings)
    return UploadRecorder(
        repo=_answers(settings.answers_table),
        media=_media(),
        publisher=_publisher(settings.event_bus_name),
        media_bucket=settings.media_bucket,
        max_upload_bytes=settings.max_upload_bytes,
        clock=utc_now,
    )


@cache
def answer_projector() -> AnswerProjector:
    """projectAnswers: pipeline events into the answers read model."""
    from ingest.domain.answer_projector import AnswerProjector
    from ingest.settings import ProjectorSettings

    settings = load_settings(ProjectorSettings)
    return AnswerProjector(repo=_answers(settings.answers_table), clock=utc_now)


def _answers(table: str) -> DynamoAnswerRepository:
    return DynamoAnswerRepository(table, client("dynamodb"))


def _media() -> S3MediaStore:
    from ingest.adapters.media import S3MediaStore

    return S3MediaStore(client("s3"))


def _publisher(bus_name: str) -> EventBridgePublisher:
    return EventBridgePublisher(bus_name, client("events"))
