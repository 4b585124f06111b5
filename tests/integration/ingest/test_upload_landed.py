"""uploadLanded against moto: attempts, first version wins, duplicates, retries, bad media, bad keys."""

from __future__ import annotations

from typing import Any

import pytest

from ingest import composition
from ingest.domain.errors import MalformedEventError, UnversionedObjectError
from ingest.domain.keys import AnswerKey
from ingest.handlers import projector, upload_landed
from tests.unit.ingest.builders import delivery, transcode_failed
from vidsense_shared.events import VideoUploaded, parse_detail

from .conftest import ADA_KEY, BUS, MEDIA_BUCKET, emitted_metrics, s3_event

ADA = AnswerKey("onboarding-2026", "3", ADA_KEY)


def stored(cloud) -> dict[str, Any]:
    item = cloud.answer_item(ADA.answer_id)
    assert item is not None
    return item


def uploaded_events(cloud) -> list[VideoUploaded]:
    events = []
    for raw in cloud.published():
        assert (raw["source"], raw["detail-type"]) == ("vidsense.ingest", "VideoUploaded")
        event = parse_detail(raw["detail-type"], raw["detail"])
        assert isinstance(event, VideoUploaded)
        events.append(event)
    return events


def test_landed_video_is_recorded_and_announced(cloud, context):
    # Given a video landed in the media bucket
    version = cloud.put_video(ADA.video_key)

    # When its notification is handled
    result = upload_landed.handler(s3_event(ADA.video_key, version), context)

    # Then VideoUploaded carries the object, the answer and attempt 1
    assert result == {"outcomes": ["published"]}
    [event] = uploaded_events(cloud)
    data = event.data
    assert (data.project, data.step, data.user_key, data.attempt) == ("onboarding-2026", "3", ADA_KEY, 1)
    assert (data.video.bucket, data.video.key, data.video.version_id) == (MEDIA_BUCKET, ADA.video_key, version)
    assert (data.size_bytes, data.content_type) == (len(b"\x1aE\xdf\xa3webm"), "video/webm")
    assert event.metadata.correlation_id == ADA.answer_id and event.metadata.causation_id is None
    # And the read model holds the attempt, marked published, with the trail entry
    item = stored(cloud)
    assert item["status"] == {"S": "UPLOADED"} and item["attempt"] == {"N": "1"}
    assert item["published"] == {"BOOL": True}
    assert item["project_step"] == {"S": "onboarding-2026/3"} and item["user_key"] == {"S": ADA_KEY}
    assert item["trail"]["M"][event.metadata.event_id]["M"]["detail_type"] == {"S": "VideoUploaded"}


def test_duplicate_delivery_publishes_nothing_more(cloud, context):
    version = cloud.put_video(ADA.video_key)
    upload_landed.handler(s3_event(ADA.video_key, version), context)
    cloud.published()

    result = upload_landed.handler(s3_event(ADA.video_key, version), context)

    assert result == {"outcomes": ["already_published"]}
    assert cloud.published() == []
    assert stored(cloud)["attempt"] == {"N": "1"}


def test_first_version_wins_and_the_later_one_is_removed(cloud, context, capsys, caplog):
    # Given two uploads with forms obtained at the same time
    first = cloud.put_video(ADA.video_key, b"first")
    second = cloud.put_video(ADA.video_key, b"second!")

    # When both notifications are handled
    upload_landed.handler(s3_event(ADA.video_key, first), context)
    outcome = upload_landed.handler(s3_event(ADA.video_key, second), context)

    # Then only the first is announced and kept; the second version is deleted and logged
    assert outcome == {"outcomes": ["losing_version_removed"]}
    assert [e.data.video.version_id for e in uploaded_events(cloud)] == [first]
    assert cloud.versions(ADA.video_key) == [first]
    assert cloud.s3.get_object(Bucket=MEDIA_BUCKET, Key=ADA.video_key)["Body"].read() == b"first"
    warnings = [(r.getMessage(), r.version_id) for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == [("upload losing_version_removed", second)]
    assert emitted_metrics(capsys.readouterr().out)["ConcurrentUploadRemoved"] == 1


def test_the_version_processed_first_wins_even_if_written_later(cloud, context):
    older = cloud.put_video(ADA.video_key, b"older")
    newer = cloud.put_video(ADA.video_key, b"newer")
    upload_landed.handler(s3_event(ADA.video_key, newer), context)
    upload_landed.handler(s3_event(ADA.video_key, older), context)
    # The stored answer is never replaced: the object left is the one the record and the event name
    assert cloud.versions(ADA.video_key) == [newer]
    assert stored(cloud)["version_id"] == {"S": newer}
    assert [e.data.video.version_id for e in uploaded_events(cloud)] == [newer]


def test_retry_after_failed_is_attempt_two(cloud, context):
    # Given attempt 1 failed in transcoding
    first = cloud.put_video(ADA.video_key, b"first")
    upload_landed.handler(s3_event(ADA.video_key, first), context)
    projector.handler(delivery(transcode_failed(ADA)), context)
    cloud.published()

    # When the person uploads again
    second = cloud.put_video(ADA.video_key, b"second")
    upload_landed.handler(s3_event(ADA.video_key, second), context)

    # Then attempt 2 is announced and both versions stay (nothing lost)
    [event] = uploaded_events(cloud)
    assert (event.data.attempt, event.data.video.version_id) == (2, second)
    item = stored(cloud)
    assert (item["attempt"], item["status"], item["error"]) == ({"N": "2"}, {"S": "UPLOADED"}, {"NULL": True})
    assert sorted(cloud.versions(ADA.video_key)) == sorted([first, second])
    # And a late duplicate notification of attempt 1 neither deletes it nor starts attempt 3
    assert upload_landed.handler(s3_event(ADA.video_key, first), context) == {"outcomes": ["earlier_attempt"]}
    assert sorted(cloud.versions(ADA.video_key)) == sorted([first, second])
    assert stored(cloud)["attempt"] == {"N": "2"}


def test_failed_publish_is_retried_with_the_same_event_id(cloud, context):
    # Given the bus is unavailable when the first notification is handled
    version = cloud.put_video(ADA.video_key)
    cloud.events.remove_targets(Rule="capture-ingest", EventBusName=BUS, Ids=["q"])
    cloud.events.delete_rule(Name="capture-ingest", EventBusName=BUS)
    cloud.events.delete_event_bus(Name=BUS)
    with pytest.raises(Exception, match="put_events"):
        upload_landed.handler(s3_event(ADA.video_key, version), context)
    assert stored(cloud)["published"] == {"BOOL": False}

    # When Lambda retries after the bus is back
    cloud.create_bus()
    result = upload_landed.handler(s3_event(ADA.video_key, version), context)

    # Then the event is published once, with the id derived from bucket, key and version
    assert result == {"outcomes": ["published"]}
    [event] = uploaded_events(cloud)
    assert event.metadata.event_id == stored(cloud)["video_event_id"]["S"]
    assert stored(cloud)["published"] == {"BOOL": True} and stored(cloud)["attempt"] == {"N": "1"}


@pytest.mark.parametrize(
    ("body", "content_type", "max_bytes", "reason", "error"),
    [
        (b"x" * 11, "video/webm", "10", "too_large", "InvalidUpload: the video has 11 bytes, more than the 10 allowed"),
        (
            b"x" * 5,
            "video/mp4",
            "10",
            "wrong_content_type",
            "InvalidUpload: content type 'video/mp4' is not video/webm",
        ),
    ],
)
def test_bad_media_is_recorded_failed_and_not_announced(
    cloud, context, monkeypatch, caplog, body, content_type, max_bytes, reason, error
):
    monkeypatch.setenv("MAX_UPLOAD_BYTES", max_bytes)
    composition.upload_recorder.cache_clear()
    version = cloud.put_video(ADA.video_key, body, content_type)

    assert upload_landed.handler(s3_event(ADA.video_key, version), context) == {"outcomes": ["rejected"]}

    assert cloud.published() == []
    item = stored(cloud)
    assert (item["status"], item["error"], item["attempt"]) == ({"S": "FAILED"}, {"S": error}, {"N": "1"})
    # And the warning names the rule and what S3 reported against what was expected
    [logged] = [r for r in caplog.records if r.getMessage() == "upload rejected"]
    assert (logged.rejection_reason, logged.size_bytes, logged.content_type, logged.error) == (
        reason,
        len(body),
        content_type,
        error,
    )
    assert (logged.max_bytes, logged.expected_content_type, logged.version_id) == (10, "video/webm", version)
    assert cloud.versions(ADA.video_key) == [version]  # kept: nothing is lost
    # And the person may record again: a good upload becomes attempt 2
    good = cloud.put_video(ADA.video_key, b"ok", "video/webm")
    upload_landed.handler(s3_event(ADA.video_key, good), context)
    assert [e.data.attempt for e in uploaded_events(cloud)] == [2]


@pytest.mark.parametrize(
    ("encoded", "decoded"),
    [
        ("onboarding-2026/3/my+video+%28copy%29.webm", "onboarding-2026/3/my video (copy).webm"),
        (f"onboarding-2026/03/{ADA_KEY}.webm", f"onboarding-2026/03/{ADA_KEY}.webm"),
        (f"uploads/{ADA_KEY}.webm", f"uploads/{ADA_KEY}.webm"),
    ],
)
def test_keys_that_do_not_fit_are_logged_counted_and_not_emitted(cloud, context, capsys, caplog, encoded, decoded):
    version = cloud.put_video(decoded)

    result = upload_landed.handler(s3_event(decoded, version, encoded_key=encoded), context)

    assert result == {"outcomes": ["unrecognised_key"]}
    assert cloud.published() == []
    assert emitted_metrics(capsys.readouterr().out) == {"UnrecognisedUploadKey": 1}
    logged = [(r.levelname, r.key) for r in caplog.records if r.getMessage() == "upload unrecognised_key"]
    assert logged == [("WARNING", decoded)]


def test_notification_without_version_id_is_an_error(cloud, context):
    cloud.put_video(ADA.video_key)
    with pytest.raises(UnversionedObjectError):
        upload_landed.handler(s3_event(ADA.video_key, None), context)


def test_notification_of_another_bucket_is_ignored(cloud, context, capsys):
    event = s3_event(ADA.video_key, "v1")
    event["Records"][0]["s3"]["bucket"]["name"] = "someone-elses-bucket"
    assert upload_landed.handler(event, context) == {"outcomes": ["foreign_bucket"]}
    assert emitted_metrics(capsys.readouterr().out) == {"ForeignBucketNotification": 1}


def test_malformed_notification_raises(cloud, context):
    for malformed in ({"Records": [{"eventName": "ObjectCreated:Put"}]}, {"Records": "x"}, {}):
        with pytest.raises(MalformedEventError):
            upload_landed.handler(malformed, context)
