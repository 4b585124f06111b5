"""UploadRecorder with in-memory ports: a lost conditional write re-reads and decides again."""

from __future__ import annotations

from dataclasses import dataclass, field

from ingest.domain.answers import AnswerRecord
from ingest.domain.errors import ConcurrentUpdateError
from ingest.domain.ports import ObjectInfo, StoredAnswer
from ingest.domain.upload import LandedObject, NewAttempt, decide_upload
from ingest.domain.upload_recorder import UploadOutcome, UploadRecorder

from .builders import ANSWER, T0

BUCKET = "vidsense-test-media-123456789012"


@dataclass
class MemoryRepo:
    items: dict[str, StoredAnswer] = field(default_factory=dict)
    before_save: list = field(default_factory=list)  # callbacks run once before the next save (a racing writer)

    def get(self, answer_id):
        return self.items.get(answer_id)

    def save(self, record: AnswerRecord, expected_revision):
        while self.before_save:
            self.before_save.pop(0)()
        current = self.items.get(record.answer_id)
        if (current.revision if current else None) != expected_revision:
            raise ConcurrentUpdateError(record.answer_id)
        self.items[record.answer_id] = StoredAnswer(record, (expected_revision or 0) + 1)

    def list_step(self, project_step, limit, start_key):
        raise NotImplementedError


@dataclass
class MemoryMedia:
    deleted: list = field(default_factory=list)

    def head_version(self, bucket, key, version_id):
        return ObjectInfo(size_bytes=2048, content_type="video/webm")

    def delete_version(self, bucket, key, version_id):
        self.deleted.append(version_id)


@dataclass
class MemoryBus:
    published: list = field(default_factory=list)

    def publish(self, *events):
        self.published.extend(events)


def test_losing_the_race_for_a_new_answer_removes_the_later_version():
    # Given another notification records version v1 between this one's read and its conditional write
    repo, media, bus = MemoryRepo(), MemoryMedia(), MemoryBus()
    winner = LandedObject(BUCKET, ANSWER, "v1", 2048, "video/webm", T0)
    decision = decide_upload(None, winner, max_bytes=10_000, now=T0)
    assert isinstance(decision, NewAttempt)
    repo.before_save.append(lambda: repo.save(decision.record, None))
    recorder = UploadRecorder(repo, media, bus, BUCKET, 10_000, clock=lambda: T0)  # type: ignore[arg-type]

    # When v2's notification is handled
    outcome = recorder.record(BUCKET, ANSWER.video_key, "v2", T0).outcome

    # Then v2 re-reads, finds the live v1 answer, and removes its own version without announcing it
    assert outcome is UploadOutcome.LOSING_VERSION_REMOVED
    assert media.deleted == ["v2"]
    assert bus.published == []
    assert repo.items[ANSWER.answer_id].record.version_id == "v1"


def test_publish_is_marked_even_when_the_projector_wrote_in_between():
    # Given a pipeline write lands between the publish and the published flag
    repo, media, bus = MemoryRepo(), MemoryMedia(), MemoryBus()
    recorder = UploadRecorder(repo, media, bus, BUCKET, 10_000, clock=lambda: T0)  # type: ignore[arg-type]

    def bump_after_first_save():
        stored = repo.items[ANSWER.answer_id]
        repo.items[ANSWER.answer_id] = StoredAnswer(stored.record, stored.revision + 1)

    original_publish = bus.publish

    def publish_then_race(*events):
        original_publish(*events)
        repo.before_save.append(bump_after_first_save)

    bus.publish = publish_then_race  # type: ignore[method-assign]

    # When v1 is handled
    assert recorder.record(BUCKET, ANSWER.video_key, "v1", T0).outcome is UploadOutcome.PUBLISHED

    # Then the flag write retried on the new revision and the event went out once
    stored = repo.items[ANSWER.answer_id]
    assert stored.record.published and stored.revision == 3
    assert len(bus.published) == 1
