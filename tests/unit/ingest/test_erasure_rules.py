"""The pure erasure rules: which statuses may be erased, and the AnswerDeleted event a retry rebuilds."""

from __future__ import annotations

import pytest

from ingest.domain.answers import AnswerRecord, Status
from ingest.domain.erasure import answer_deleted_event, erasure_event_id, mark_deleting
from ingest.domain.errors import AnswerBusyError
from ingest.domain.projection import ProjectionOutcome, project
from tests.unit.ingest.builders import ANSWER, T0, at, sentiment_detected
from vidsense_shared.events import AnswerDeleted


def record(status: Status, attempt: int = 2, version_id: str = "v2") -> AnswerRecord:
    return AnswerRecord(
        answer_id=ANSWER.answer_id,
        project_step=ANSWER.project_step,
        project=ANSWER.project,
        step=ANSWER.step,
        user_key=ANSWER.user_key,
        attempt=attempt,
        status=status,
        status_at=T0,
        status_event_id="e1",
        bucket="vidsense-test-media-123456789012",
        key=ANSWER.video_key,
        version_id=version_id,
        size_bytes=10,
        content_type="video/webm",
        uploaded_at=T0,
        video_event_id="e0",
        updated_at=T0,
    )


@pytest.mark.parametrize("status", [Status.ANALYZED, Status.NO_SPEECH, Status.FAILED])
def test_a_final_answer_is_marked_deleting(status):
    marked = mark_deleting(record(status), now=at(5))
    assert marked is not None and marked.status is Status.DELETING and marked.deleting_at == at(5)


@pytest.mark.parametrize("status", [Status.UPLOADED, Status.TRANSCODED, Status.TRANSCRIBED])
def test_an_answer_in_flight_is_refused(status):
    with pytest.raises(AnswerBusyError, match=status.value):
        mark_deleting(record(status), now=at(5))


def test_a_deleting_answer_needs_no_second_mark_and_rebuilds_the_same_event():
    marked = mark_deleting(record(Status.ANALYZED), now=at(5))
    assert marked is not None and mark_deleting(marked, now=at(9)) is None
    first, again = answer_deleted_event(marked), answer_deleted_event(marked)
    assert isinstance(first, AnswerDeleted) and first == again
    assert first.metadata.occurred_at == at(5) and first.metadata.correlation_id == ANSWER.answer_id
    assert first.data.attempt == 2 and first.data.answer_id == ANSWER.answer_id


def test_a_later_answer_of_the_same_person_gets_another_event_id():
    assert erasure_event_id(record(Status.ANALYZED, version_id="v2")) != erasure_event_id(
        record(Status.ANALYZED, version_id="v9")
    )


def test_only_a_deleting_record_has_an_erasure_event():
    with pytest.raises(ValueError, match="not being erased"):
        answer_deleted_event(record(Status.ANALYZED))


def test_the_projection_writes_nothing_to_a_deleting_answer():
    marked = mark_deleting(record(Status.ANALYZED, attempt=1), now=at(5))
    assert marked is not None
    assert project(marked, sentiment_detected(ANSWER, 1, when=at(99)), now=at(100)) == (
        ProjectionOutcome.ERASING,
        None,
    )
