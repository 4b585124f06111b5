"""What the domain needs from the outside world; adapters implement these, tests may pass fakes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from ingest.domain.answers import AnswerRecord
from ingest.domain.limits import RecordingWindow
from ingest.domain.views import UploadForm
from vidsense_shared.events import S3Pointer

# The use cases' time: events' occurred_at and the records' updated_at (tests pass a fixed one).
Clock = Callable[[], datetime]


class StoredAnswer(NamedTuple):
    record: AnswerRecord
    revision: int


class StoredWindow(NamedTuple):
    window: RecordingWindow
    revision: int


@dataclass(frozen=True)
class ObjectInfo:
    size_bytes: int
    content_type: str


class AnswerRepository(Protocol):
    def get(self, answer_id: str) -> StoredAnswer | None: ...

    def save(self, record: AnswerRecord, expected_revision: int | None) -> None:
        """Write ``record`` if the stored revision is still ``expected_revision`` (None: no item yet);
        raise ConcurrentUpdateError otherwise."""
        ...

    def delete(self, answer_id: str, expected_revision: int) -> None:
        """Delete the item if its revision is still ``expected_revision``; ConcurrentUpdateError otherwise
        (also when it is gone already)."""
        ...

    def list_step(
        self, project_step: str, limit: int, start_key: dict[str, str] | None
    ) -> tuple[list[AnswerRecord], dict[str, str] | None]: ...


class MediaStore(Protocol):
    def head_version(self, bucket: str, key: str, version_id: str) -> ObjectInfo | None: ...

    def delete_version(self, bucket: str, key: str, version_id: str) -> None: ...

    def delete_all_versions(self, bucket: str, key: str) -> int:
        """Delete every version and delete marker of ``key``; how many there were."""
        ...

    def exists(self, bucket: str, key: str) -> bool: ...

    def presign_post(
        self, bucket: str, key: str, *, content_type: str, max_bytes: int, expires_in: int
    ) -> UploadForm: ...

    def read_json(self, pointer: S3Pointer) -> Any: ...


class UserKeySecret(Protocol):
    def value(self) -> str: ...


class RecordingWindows(Protocol):
    """Each person's counted recordings (domain/limits.py), keyed by the user key."""

    def get(self, user_key: str) -> StoredWindow | None: ...

    def save(self, user_key: str, window: RecordingWindow, expected_revision: int | None) -> None:
        """Write ``window`` if the stored revision is still ``expected_revision`` (None: no item yet);
        raise ConcurrentUpdateError otherwise."""
        ...
