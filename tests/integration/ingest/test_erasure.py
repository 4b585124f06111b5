"""DELETE /answers/{project}/{step} against moto: the order of the erasure, its refusals, and that nothing in
ingest (upload notification, projector) brings an erased answer back."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from ingest import composition
from ingest.domain.identity import caller_from_claims
from ingest.handlers import projector, upload_landed
from tests.unit.ingest.builders import (
    delivery,
    fixture,
    sentiment_detected,
    sentiment_failed,
    transcode_failed,
    transcoder_completed,
    transcript_pointer,
    transcript_ready,
)

from .conftest import (
    ADA,
    ADA_CLAIMS,
    ADA_KEY,
    ANSWER,
    MEDIA_BUCKET,
    PRESIGN,
    PROJECT,
    STEP,
    WORK_BUCKET,
    call,
    http_event,
    land,
    project_events,
    s3_event,
    someone_else,
)

DELETE = "DELETE /answers/{project}/{step}"


def delete(context: Any, claims: dict[str, Any] | None = ADA_CLAIMS, project: str = PROJECT, step: str = STEP):
    event = http_event(f"/answers/{project}/{step}", DELETE, claims=claims)
    event["requestContext"]["http"]["method"] = "DELETE"
    return call(event, context)


def get(context: Any, route: str = ANSWER) -> tuple[int, dict[str, str], Any]:
    path = f"/answers/{PROJECT}/{STEP}" if route == ANSWER else f"/presignedurl/{PROJECT}/{STEP}"
    return call(http_event(path, route), context)


def analysed(cloud, context, attempt: int = 1) -> None:
    pointer = transcript_pointer(ADA, attempt)
    cloud.s3.put_object(Bucket=WORK_BUCKET, Key=pointer.key, Body=json.dumps(fixture("transcribe_output.json")))
    project_events(
        context, transcoder_completed(ADA, attempt), transcript_ready(ADA, attempt), sentiment_detected(ADA, attempt)
    )


def deleted_events(cloud) -> list[dict[str, Any]]:
    return [e for e in cloud.published() if e["detail-type"] == "AnswerDeleted"]


def all_versions(cloud) -> list[str]:
    listed = cloud.s3.list_object_versions(Bucket=MEDIA_BUCKET, Prefix=ADA.video_key)
    entries = [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])]
    return [v["VersionId"] for v in entries if v["Key"] == ADA.video_key]


def test_erasing_an_analysed_answer_removes_every_version_and_the_record_and_announces_it(cloud, context):
    # Given a first attempt that failed and a second one analysed (two versions of the video, one delete marker)
    land(cloud, context)
    projector.handler(delivery(transcode_failed(ADA)), context)
    land(cloud, context)
    analysed(cloud, context, attempt=2)
    cloud.s3.delete_object(Bucket=MEDIA_BUCKET, Key=ADA.video_key)  # a delete marker on top
    cloud.s3.put_object(Bucket=MEDIA_BUCKET, Key=f"{ADA.video_key}.other", Body=b"not this answer's")
    cloud.published()

    status, headers, body = delete(context)

    # Then 202 names the erased answer
    assert (status, headers["content-type"]) == (202, "application/json")
    assert body == {
        "answer_id": ADA.answer_id,
        "project": PROJECT,
        "step": STEP,
        "user_key": ADA_KEY,
        "attempt": 2,
        "status": "DELETED",
    }
    # And no version or delete marker of the video is left (a longer key sharing the prefix is untouched)
    assert all_versions(cloud) == []
    assert cloud.versions(f"{ADA.video_key}.other") != []
    # And the read model holds nothing of it
    assert cloud.answer_item(ADA.answer_id) is None
    # And one AnswerDeleted with ids only, for the highest attempt
    (event,) = deleted_events(cloud)
    assert event["source"] == "vidsense.ingest"
    assert event["detail"]["data"] == {"project": PROJECT, "step": STEP, "user_key": ADA_KEY, "attempt": 2}
    assert event["detail"]["metadata"]["correlation_id"] == ADA.answer_id
    assert "example.org" not in json.dumps(event)
    # And the person sees no answer, and may record again
    assert get(context)[0] == 404
    assert get(context, PRESIGN)[0] == 200


def test_an_answer_still_processing_is_409_with_retry_after_and_stays(cloud, context):
    land(cloud, context)
    projector.handler(delivery(transcoder_completed(ADA)), context)
    before = cloud.answer_item(ADA.answer_id)

    status, headers, body = delete(context)

    assert status == 409 and headers["content-type"] == "application/json"
    assert int(headers["retry-after"]) > 0
    assert body == {"message": "the answer is still being processed (status TRANSCODED)"}
    assert cloud.answer_item(ADA.answer_id) == before
    assert len(cloud.versions(ADA.video_key)) == 1 and deleted_events(cloud) == []


def test_an_upload_landed_but_not_recorded_is_409(cloud, context):
    cloud.put_video(ADA.video_key)
    status, headers, body = delete(context)
    assert status == 409 and "retry-after" in headers
    assert body == {"message": "the upload has landed and is not recorded yet"}


def test_no_answer_is_404_json(cloud, context):
    assert delete(context) == (404, {"content-type": "application/json"}, {"message": "no answer to this step yet"})


def test_no_token_is_401_and_a_bad_parameter_400(cloud, context):
    status, _, body = delete(context, claims=None)
    assert (status, body) == (401, {"message": "no identity in the request"})
    status, _, body = delete(context, project="bad.project")
    assert status == 400 and body["message"].startswith("invalid project")


def test_only_the_callers_own_answer_is_erased(cloud, context):
    land(cloud, context)
    analysed(cloud, context)
    other = someone_else("grace")
    assert delete(context, claims=other)[0] == 404
    assert cloud.answer_item(ADA.answer_id) is not None


def test_a_retried_delete_continues_an_interrupted_erasure_with_the_same_event(cloud, context, monkeypatch):
    # Given an erasure that stopped after announcing AnswerDeleted (S3 failed)
    land(cloud, context)
    projector.handler(delivery(transcode_failed(ADA)), context)
    cloud.published()
    service = composition.answer_api()

    def broken(bucket: str, key: str) -> int:
        raise RuntimeError("S3 is down")

    monkeypatch.setattr(service.media, "delete_all_versions", broken)
    with pytest.raises(RuntimeError):
        service.delete(caller_from_claims(ADA_CLAIMS), PROJECT, STEP)
    monkeypatch.undo()
    (first,) = deleted_events(cloud)
    item = cloud.answer_item(ADA.answer_id)
    assert item is not None and item["status"]["S"] == "DELETING"

    # While it is DELETING: the person sees that, cannot get a new upload form, and the pipeline cannot write
    status, _, body = get(context)
    assert (status, body["status"], body["sentiment"], body["error"]) == (200, "DELETING", None, None)
    status, headers, body = get(context, PRESIGN)
    assert status == 409 and body == {"message": "the answer is being deleted"} and "retry-after" in headers
    late = projector.handler(delivery(transcode_failed(ADA)), context)
    assert late == {"changed": False, "projection": "erasing"}
    stray = cloud.put_video(ADA.video_key, b"\x1aE\xdf\xa3late")
    assert upload_landed.handler(s3_event(ADA.video_key, stray), context) == {
        "outcomes": ["erasing_answer_version_removed"]
    }
    assert stray not in cloud.versions(ADA.video_key)

    # When the person retries, Then the erasure finishes and announces the very same event again
    assert delete(context)[0] == 202
    (again,) = deleted_events(cloud)
    assert again["detail"] == first["detail"]
    assert cloud.answer_item(ADA.answer_id) is None and all_versions(cloud) == []


def test_late_pipeline_events_after_an_erasure_never_recreate_the_answer(cloud, context):
    land(cloud, context)
    analysed(cloud, context)
    assert delete(context)[0] == 202
    with pytest.raises(Exception, match="no answer"):
        projector.handler(delivery(sentiment_detected(ADA)), context)
    assert cloud.answer_item(ADA.answer_id) is None


def test_a_new_answer_after_an_erasure_is_processed_as_attempt_one(cloud, context):
    land(cloud, context)
    analysed(cloud, context)
    assert delete(context)[0] == 202
    cloud.published()
    assert get(context, PRESIGN)[0] == 200
    land(cloud, context)
    item = cloud.answer_item(ADA.answer_id)
    assert item is not None and item["attempt"]["N"] == "1" and item["status"]["S"] == "UPLOADED"
    assert [e["detail-type"] for e in cloud.published()] == ["VideoUploaded"]


def test_a_late_event_of_the_erased_answer_is_not_applied_to_the_answer_recorded_after_it(cloud, context):
    # Given Ada's answer was analysed and erased, and she recorded again (attempt 1 of a new video)
    land(cloud, context)
    (first,) = [e for e in cloud.published() if e["detail-type"] == "VideoUploaded"]
    erased_video = first["detail"]["metadata"]["event_id"]
    analysed(cloud, context)
    assert delete(context)[0] == 202
    land(cloud, context)
    (again,) = [e for e in cloud.published() if e["detail-type"] == "VideoUploaded"]
    new_video = again["detail"]["metadata"]["event_id"]
    assert new_video != erased_video
    # When the erased answer's failure is redriven from a dead-letter queue (same attempt number, later in time)
    late = sentiment_failed(ADA, 1, when=datetime.now(UTC), video=erased_video)
    result = projector.handler(delivery(late), context)
    # Then the new answer is untouched
    assert result == {"changed": False, "projection": "other_recording"}
    item = cloud.answer_item(ADA.answer_id)
    assert item is not None and item["status"]["S"] == "UPLOADED"
    # And its own events still move it forward
    project_events(context, transcoder_completed(ADA, 1, when=datetime.now(UTC), video=new_video))
    item = cloud.answer_item(ADA.answer_id)
    assert item is not None and item["status"]["S"] == "TRANSCODED"
