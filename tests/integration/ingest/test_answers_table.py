"""The DynamoDB adapter: conditional writes on the revision, round trip of every field."""

from __future__ import annotations

import pytest

from ingest.adapters.answers_table import DynamoAnswerRepository
from ingest.domain.errors import ConcurrentUpdateError
from ingest.domain.projection import project
from ingest.domain.upload import LandedObject, NewAttempt, decide_upload
from tests.unit.ingest.builders import ANSWER, T0, at, sentiment_detected, transcoder_completed
from vidsense_shared import aws

from .conftest import ANSWERS_TABLE, MEDIA_BUCKET


def _record():
    decision = decide_upload(
        None, LandedObject(MEDIA_BUCKET, ANSWER, "v1", 2048, "video/webm", T0), max_bytes=10_000, now=T0
    )
    assert isinstance(decision, NewAttempt)
    return decision.record


def test_records_round_trip_and_stale_writes_are_refused(cloud):
    repo = DynamoAnswerRepository(ANSWERS_TABLE, aws.client("dynamodb"))
    record = _record()
    repo.save(record, None)
    with pytest.raises(ConcurrentUpdateError):
        repo.save(record, None)  # a second "new answer" for the same id

    transcoded = project(record, transcoder_completed(), now=at(1))[1]
    assert transcoded is not None
    analysed = project(transcoded, sentiment_detected(), now=at(2))[1]
    assert analysed is not None
    repo.save(analysed, 1)
    with pytest.raises(ConcurrentUpdateError):
        repo.save(analysed, 1)  # revision 1 is gone

    stored = repo.get(ANSWER.answer_id)
    assert stored is not None and stored.revision == 2
    assert stored.record == analysed
    assert repo.get("onboarding-2026/3/" + "0" * 64) is None
