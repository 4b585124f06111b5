"""The limit of new recordings per person (maxAnswersPerUserPerDay) against moto: the window item in the answers
table, and GET /presignedurl's 429 with Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ingest import composition
from ingest.adapters.recording_limits import DynamoRecordingWindows
from ingest.domain.errors import ConcurrentUpdateError
from ingest.domain.limits import WINDOW, Grant, RecordingWindow
from tests.unit.ingest.builders import T0, at, transcode_failed

from .conftest import (
    ADA,
    ADA_CLAIMS,
    ADA_KEY,
    ANSWERS_TABLE,
    PRESIGN,
    PROJECT,
    STEP,
    call,
    http_event,
    land,
    project_events,
    someone_else,
)

DELETE = "DELETE /answers/{project}/{step}"
LIST = "GET /projects/{project}/steps/{step}/answers"
DAY = int(WINDOW.total_seconds())


def presign(context: Any, step: str = STEP, claims: dict[str, Any] = ADA_CLAIMS) -> tuple[int, dict[str, str], Any]:
    return call(http_event(f"/presignedurl/{PROJECT}/{step}", PRESIGN, claims=claims), context)


def delete(context: Any) -> tuple[int, dict[str, str], Any]:
    event = http_event(f"/answers/{PROJECT}/{STEP}", DELETE)
    event["requestContext"]["http"]["method"] = "DELETE"
    return call(event, context)


@pytest.fixture
def limit_of(monkeypatch: pytest.MonkeyPatch):
    def set_limit(limit: int) -> None:
        monkeypatch.setenv("MAX_ANSWERS_PER_USER_PER_DAY", str(limit))
        composition.answer_api.cache_clear()

    return set_limit


# --- the window item -----------------------------------------------------------------------------------------


def test_a_window_is_stored_in_the_answers_table_with_its_ttl(cloud):
    windows = DynamoRecordingWindows(ANSWERS_TABLE, cloud.ddb)
    window = RecordingWindow((Grant(T0, "p/1#1"), Grant(at(60), None)))
    windows.save(ADA_KEY, window, None)

    stored = windows.get(ADA_KEY)
    assert stored is not None and stored.window == window and stored.revision == 1
    item = cloud.answer_item(f"recordings#{ADA_KEY}")
    assert item is not None and int(item["expires_at"]["N"]) == int((at(60) + WINDOW).timestamp())
    assert "project_step" not in item  # so no step listing (by_step index) ever holds it
    assert windows.get("0" * 64) is None


def test_a_window_write_on_a_stale_revision_is_a_concurrent_update(cloud):
    windows = DynamoRecordingWindows(ANSWERS_TABLE, cloud.ddb)
    windows.save(ADA_KEY, RecordingWindow((Grant(T0, "p/1#1"),)), None)
    with pytest.raises(ConcurrentUpdateError):
        windows.save(ADA_KEY, RecordingWindow((Grant(T0, "p/2#1"),)), None)
    windows.save(ADA_KEY, RecordingWindow((Grant(T0, "p/2#1"),)), 1)
    with pytest.raises(ConcurrentUpdateError):
        windows.save(ADA_KEY, RecordingWindow(), 1)
    stored = windows.get(ADA_KEY)
    assert stored is not None and stored.revision == 2 and stored.window.grants[0].attempt == "p/2#1"


# --- GET /presignedurl -----------------------------------------------------------------------------------------


def test_beyond_the_limit_the_presign_is_429_naming_the_limit_with_retry_after(cloud, context, limit_of):
    # Given a stage that allows 2 new recordings per person and day, and Ada started two
    limit_of(2)
    first = datetime.now(UTC)
    assert presign(context, step="1")[0] == 200
    assert presign(context, step="2")[0] == 200

    # When she asks for a third
    status, headers, body = presign(context, step="3")

    # Then it is refused with the API's JSON error shape, naming the limit and the window
    assert status == 429 and headers["content-type"] == "application/json"
    assert set(body) == {"message", "limit", "window"}
    assert body["limit"] == 2 and body["window"] == "24h"
    assert "at most 2 new recordings per person in 24h" in body["message"]
    # And Retry-After is the time until her first recording leaves the rolling day
    waited = (datetime.now(UTC) - first).total_seconds()
    assert DAY - waited - 1 <= int(headers["retry-after"]) <= DAY


def test_presigning_the_same_attempt_again_does_not_count(cloud, context, limit_of):
    limit_of(2)
    assert presign(context, step="1")[0] == 200
    # The form expired or the page reloaded: the same attempt, presigned again and again
    for _ in range(3):
        assert presign(context, step="1")[0] == 200
    assert presign(context, step="2")[0] == 200
    assert presign(context, step="3")[0] == 429


def test_the_limit_is_per_person(cloud, context, limit_of):
    limit_of(1)
    assert presign(context, step="1")[0] == 200
    assert presign(context, step="2")[0] == 429
    assert presign(context, step="2", claims=someone_else("grace"))[0] == 200


def test_a_retake_after_failed_counts(cloud, context, limit_of):
    # Given Ada's only recording of the day failed
    limit_of(1)
    assert presign(context)[0] == 200
    land(cloud, context)
    project_events(context, transcode_failed(ADA))
    # When she asks to record it again, Then it is a new recording beyond her limit
    assert presign(context)[0] == 429


def test_recording_again_after_an_erasure_counts(cloud, context, limit_of):
    # Given Ada recorded her one answer of the day, it failed, and she erased it
    limit_of(1)
    assert presign(context)[0] == 200
    land(cloud, context)
    project_events(context, transcode_failed(ADA))
    assert delete(context)[0] == 202
    # When she records the step again (attempt 1 again), Then it counts: record, erase, record is no loophole
    assert presign(context)[0] == 429


def test_refused_presigns_do_not_count(cloud, context, limit_of):
    limit_of(1)
    assert presign(context, step="bad!")[0] == 400
    assert presign(context)[0] == 200
    land(cloud, context)
    assert presign(context)[0] == 403  # a live answer: refused before counting
    assert presign(context, step="2")[0] == 429


def test_the_reviewers_listing_is_not_limited_and_lists_answers_only(cloud, context, limit_of):
    # Given Ada's answer, and a reviewer who used up her recordings of the day
    limit_of(1)
    assert presign(context)[0] == 200
    land(cloud, context)
    reviewer = someone_else("grace", **{"cognito:groups": "[reviewers]"})
    assert presign(context, step="1", claims=reviewer)[0] == 200
    assert presign(context, step="2", claims=reviewer)[0] == 429
    # When she lists the step, again and again, Then it is served and holds Ada's answer only (no window item)
    path = f"/projects/{PROJECT}/steps/{STEP}/answers"
    for _ in range(3):
        status, _, body = call(http_event(path, LIST, claims=reviewer), context)
        assert status == 200 and [item["user_key"] for item in body["items"]] == [ADA_KEY]
