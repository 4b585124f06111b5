"""In-memory stand-ins for the transcode ports, with the jobs table's semantics (markers, open attempts)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

from transcode.domain.ports import JobRecord, OpenAttempt, TranscodeJob, TranscodeRequest
from transcode.domain.transcribe import TranscriptionJob, TranscriptionRequest
from vidsense_shared.events import DomainEvent


class InMemoryJobs:
    def __init__(self, *records: JobRecord, clock: datetime | None = None) -> None:
        self.records = {r.job_key: r for r in records}
        self.clock = clock or datetime.now(UTC)

    def claim(self, record: JobRecord) -> JobRecord | None:
        if record.job_key in self.records:
            return self.records[record.job_key]
        self.records[record.job_key] = replace(record, open_since=self.clock)
        return None

    def replace(self, record: JobRecord, *, previous_event_id: str) -> bool:
        current = self.records.get(record.job_key)
        if current is None or current.video_uploaded_event_id != previous_event_id:
            return False
        self.records[record.job_key] = replace(record, open_since=self.clock)
        return True

    def _update(self, job_key: str, **changes: object) -> bool:
        if job_key not in self.records:
            return False
        self.records[job_key] = replace(self.records[job_key], **changes)  # type: ignore[arg-type]
        return True

    def mark_transcode_started(self, job_key: str, mediaconvert_job_id: str) -> None:
        assert self._update(job_key, mediaconvert_job_id=mediaconvert_job_id, open_since=self.clock)

    def record_transcription(self, job_key, job_name, transcoder_completed_event_id, audio_duration_ms) -> None:  # type: ignore[no-untyped-def]
        if job_key not in self.records:
            self.records[job_key] = JobRecord(job_key=job_key, client_request_token="", video_uploaded_event_id="")
        self._update(
            job_key,
            transcription_job_name=job_name,
            transcoder_completed_event_id=transcoder_completed_event_id,
            audio_duration_ms=audio_duration_ms,
        )

    def mark_transcription_started(self, job_key: str) -> None:
        assert self._update(job_key, transcription_started=True, open_since=self.clock)

    def mark_emitted(self, job_key: str, marker: str, *, final: bool) -> bool:
        record = self.records.get(job_key)
        if record is None:
            return False
        open_since = None if final else (self.clock if record.open_since else None)
        return self._update(job_key, emitted=record.emitted | {marker}, open_since=open_since)

    def close(self, job_key: str) -> None:
        self._update(job_key, open_since=None)

    def get(self, job_key: str) -> JobRecord | None:
        return self.records.get(job_key)

    def open_attempts(self, older_than: datetime, page_size: int) -> Iterator[OpenAttempt]:
        entries = sorted(
            (OpenAttempt(r.job_key, r.open_since) for r in self.records.values() if r.open_since is not None),
            key=lambda e: e.open_since,
        )
        yield from (e for e in entries if e.open_since <= older_than)


class Published:
    def __init__(self) -> None:
        self.events: list[DomainEvent] = []

    def publish(self, *events: DomainEvent) -> None:
        self.events.extend(events)


class FakeTranscoder:
    def __init__(self, job_id: str = "1764378551482-q7w2zk") -> None:
        self.job_id = job_id
        self.requests: list[TranscodeRequest] = []

    def create_job(self, request: TranscodeRequest) -> str:
        self.requests.append(request)
        return self.job_id


class FakeTranscriber:
    def __init__(self, job: TranscriptionJob | None = None) -> None:
        self.job = job
        self.started: list[TranscriptionRequest] = []
        self.described: list[str] = []

    def start(self, request: TranscriptionRequest) -> bool:
        self.started.append(request)
        return True

    def describe(self, job_name: str) -> TranscriptionJob:
        self.described.append(job_name)
        assert self.job is not None
        return self.job

    def find(self, job_name: str) -> TranscriptionJob | None:
        self.described.append(job_name)
        return self.job


class FakeMediaConvertJobs:
    def __init__(self, job: TranscodeJob | None = None) -> None:
        self.job = job
        self.asked: list[str] = []

    def find(self, job_id: str) -> TranscodeJob | None:
        self.asked.append(job_id)
        return self.job
