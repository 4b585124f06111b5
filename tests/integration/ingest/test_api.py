"""The ingest HTTP API against moto: presign, own answer, reviewers' listing, and every refusal."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ingest import composition
from ingest.domain.identity import caller_from_claims
from ingest.domain.keys import AnswerKey
from ingest.handlers import upload_landed
from tests.unit.ingest.builders import (
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
    SECRET_PARAMETER,
    STEP,
    WORK_BUCKET,
    call,
    http_event,
    land,
    project_events,
    s3_event,
    someone_else,
)

LIST = "GET /projects/{project}/steps/{step}/answers"
EXISTS = "The resource you requested does already exist"
REVIEWER = someone_else("grace", **{"cognito:groups": "[reviewers admins]"})


def presign(context: Any, claims: dict[str, Any] | None = ADA_CLAIMS, project: str = PROJECT, step: str = STEP):
    return call(http_event(f"/presignedurl/{project}/{step}", PRESIGN, claims=claims), context)


# --- presign ---------------------------------------------------------------------------------------------------


def test_presign_returns_a_post_form_for_the_callers_key(cloud, context):
    # Given a verified caller with no answer yet, When they ask for an upload form
    before = datetime.now(UTC)
    status, headers, body = presign(context)
    after = datetime.now(UTC)

    # Then the form targets {project}/{step}/{hmac(iss, sub)}.webm with the exact response shape
    assert status == 200 and headers["content-type"] == "application/json"
    assert set(body) == {"key", "expires_in", "upload"} and set(body["upload"]) == {"method", "url", "fields"}
    assert body["key"] == f"{PROJECT}/{STEP}/{ADA_KEY}.webm"
    assert body["expires_in"] == 900
    assert body["upload"]["method"] == "POST"
    assert MEDIA_BUCKET in body["upload"]["url"]
    fields = body["upload"]["fields"]
    assert fields["key"] == body["key"] and fields["Content-Type"] == "video/webm"

    # And the signed policy pins bucket, exact key, content type and size range, for at most 900 s
    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = policy["conditions"]
    assert {"bucket": MEDIA_BUCKET} in conditions
    assert {"key": body["key"]} in conditions
    assert {"Content-Type": "video/webm"} in conditions
    assert ["content-length-range", 1, 209715200] in conditions
    expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert (expires - before).total_seconds() >= 899 and (expires - after).total_seconds() <= 900


def test_presign_uses_the_stage_maximum_and_expiry(cloud, context, monkeypatch):
    monkeypatch.setenv("MAX_UPLOAD_BYTES", "5000000")
    monkeypatch.setenv("PRESIGN_EXPIRES_SECONDS", "300")
    composition.answer_api.cache_clear()
    _, _, body = presign(context)
    assert body["expires_in"] == 300
    conditions = json.loads(base64.b64decode(body["upload"]["fields"]["policy"]))["conditions"]
    assert ["content-length-range", 1, 5000000] in conditions


def test_user_key_secret_is_read_from_ssm_and_cached(cloud, context):
    # Given a first request read the secret, When operators rotate it, Then the warm container keeps its copy
    first = presign(context)[2]["key"]
    cloud.ssm.put_parameter(Name=SECRET_PARAMETER, Value="rotated", Type="SecureString", Overwrite=True)
    assert presign(context)[2]["key"] == first
    # And a cold start reads the new value
    composition.answer_api.cache_clear()
    assert presign(context)[2]["key"] != first


@pytest.mark.parametrize(
    ("project", "step", "message"),
    [
        ("bad.project", STEP, "invalid project: must match [A-Za-z0-9_-]{1,64}"),
        ("p" * 65, STEP, "invalid project: must match [A-Za-z0-9_-]{1,64}"),
        (PROJECT, "03", "invalid step: must be 0 or a number from 1 to 999 without leading zeros"),
        (PROJECT, "1000", "invalid step: must be 0 or a number from 1 to 999 without leading zeros"),
        (PROJECT, "-1", "invalid step: must be 0 or a number from 1 to 999 without leading zeros"),
    ],
)
@pytest.mark.parametrize("route", [PRESIGN, ANSWER, LIST])
def test_malformed_path_parameters_are_400_naming_the_parameter(cloud, context, route, project, step, message):
    path = route.split(" ", 1)[1].replace("{project}", project).replace("{step}", step)
    status, headers, body = call(http_event(path, route, claims=REVIEWER), context)
    assert (status, headers["content-type"], body) == (400, "application/json", {"message": message})


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        (None, "no identity in the request"),
        ({}, "no identity in the request"),
        ({**ADA_CLAIMS, "email_verified": "false"}, "the email address is not verified"),
        ({k: v for k, v in ADA_CLAIMS.items() if k != "email_verified"}, "the email address is not verified"),
        ({k: v for k, v in ADA_CLAIMS.items() if k != "email"}, "the token carries no usable email claim"),
        ({**ADA_CLAIMS, "email": "   "}, "the token carries no usable email claim"),
        ({k: v for k, v in ADA_CLAIMS.items() if k != "sub"}, "the token carries no usable sub claim"),
        ({k: v for k, v in ADA_CLAIMS.items() if k != "iss"}, "the token carries no usable iss claim"),
    ],
)
@pytest.mark.parametrize("route", [PRESIGN, ANSWER, LIST])
def test_unusable_identity_is_401(cloud, context, route, claims, message):
    path = route.split(" ", 1)[1].replace("{project}", PROJECT).replace("{step}", STEP)
    status, headers, body = call(http_event(path, route, claims=claims), context)
    assert (status, headers["content-type"], body) == (401, "application/json", {"message": message})


def test_email_from_a_query_parameter_is_ignored(cloud, context):
    event = http_event(f"/presignedurl/{PROJECT}/{STEP}", PRESIGN, claims=None)
    event["queryStringParameters"] = {"email": "ada.lovelace@example.org"}
    event["rawQueryString"] = "email=ada.lovelace@example.org"
    assert call(event, context)[0] == 401


def test_second_presign_for_a_live_answer_is_403_plain_text(cloud, context):
    # Given the caller's answer landed
    land(cloud, context)
    # When they ask for another upload form, Then the original contract's exact plain-text refusal
    status, headers, body = presign(context)
    assert (status, headers["content-type"], body) == (
        403,
        "text/plain",
        "The resource you requested does already exist",
    )


def test_presign_is_refused_while_an_upload_is_not_yet_recorded(cloud, context):
    # Given the object is in S3 but its notification has not been processed
    cloud.put_video(ADA.video_key)
    status, headers, body = presign(context)
    assert (status, headers["content-type"], body) == (
        403,
        "text/plain",
        "The resource you requested does already exist",
    )


def test_after_a_failed_answer_presign_works_again(cloud, context):
    land(cloud, context)
    project_events(context, transcode_failed(ADA))
    status, _, body = presign(context)
    assert status == 200 and body["key"] == ADA.video_key


# --- own answer ------------------------------------------------------------------------------------------------


def own_answer(context, claims=ADA_CLAIMS):
    return call(http_event(f"/answers/{PROJECT}/{STEP}", ANSWER, claims=claims), context)


def test_no_answer_is_404_json(cloud, context):
    assert own_answer(context) == (404, {"content-type": "application/json"}, {"message": "no answer to this step yet"})


def test_own_answer_right_after_upload(cloud, context):
    land(cloud, context)
    status, _, body = own_answer(context)
    assert status == 200
    assert set(body) == {"status", "transcript", "sentiment", "sentiment_score", "error", "updated_at"}
    assert body | {"updated_at": None} == {
        "status": "UPLOADED",
        "transcript": None,
        "sentiment": None,
        "sentiment_score": None,
        "error": None,
        "updated_at": None,
    }
    assert datetime.fromisoformat(body["updated_at"]).tzinfo is not None


def test_own_answer_carries_the_full_transcript_and_sentiment(cloud, context):
    # Given an analysed answer whose transcript is in the work bucket
    land(cloud, context)
    pointer = transcript_pointer(ADA)
    cloud.s3.put_object(Bucket=WORK_BUCKET, Key=pointer.key, Body=json.dumps(fixture("transcribe_output.json")))
    project_events(context, transcoder_completed(ADA), transcript_ready(ADA), sentiment_detected(ADA))

    status, _, body = own_answer(context)

    assert status == 200
    assert body["status"] == "ANALYZED"
    assert body["transcript"] == fixture("transcribe_output.json")["results"]["transcripts"][0]["transcript"]
    assert body["sentiment"] == "MIXED"
    assert body["sentiment_score"] == {"Positive": 0.41, "Negative": 0.32, "Neutral": 0.07, "Mixed": 0.2}
    assert body["error"] is None


def test_failed_answer_shows_the_reason(cloud, context):
    land(cloud, context)
    project_events(context, transcode_failed(ADA))
    body = own_answer(context)[2]
    assert (body["status"], body["error"], body["transcript"]) == ("FAILED", "1010: Unsupported codec in input", None)


def test_missing_transcript_object_is_502(cloud, context):
    land(cloud, context)
    project_events(context, transcript_ready(ADA))
    assert own_answer(context) == (
        502,
        {"content-type": "application/json"},
        {"message": "the transcript is not available right now"},
    )


def test_failed_answer_whose_transcript_is_gone_shows_the_reason_not_a_502(cloud, context):
    # TranscriptReady set the pointer, then nlp found no object there and failed the answer
    land(cloud, context)
    failed = sentiment_failed(ADA)
    reason = {"error_code": "TranscriptMissing", "error_message": "no transcript at s3://...: NoSuchKey"}
    gone = failed.model_copy(update={"data": failed.data.model_copy(update=reason)})
    project_events(context, transcript_ready(ADA), gone)
    status, _, body = own_answer(context)
    assert status == 200
    assert (body["status"], body["transcript"]) == ("FAILED", None)
    assert body["error"] == "TranscriptMissing: no transcript at s3://...: NoSuchKey"


def test_another_person_does_not_see_the_answer(cloud, context):
    land(cloud, context)
    other = someone_else("grace")
    assert own_answer(context, claims=other)[0] == 404


def test_an_email_change_keeps_the_answer_and_the_next_holder_of_the_address_gets_nothing(cloud, context):
    # Given Ada recorded an answer
    land(cloud, context)
    # When her account's email changes, Then she still reads her answer and may not record it again
    renamed = {**ADA_CLAIMS, "email": "ada.king@example.net"}
    assert own_answer(context, claims=renamed)[0] == 200
    assert presign(context, claims=renamed)[:2] == (403, {"content-type": "text/plain"})
    # And another account that now holds her old address sees no answer and gets its own upload form
    newcomer = someone_else("newcomer", email=ADA_CLAIMS["email"])
    assert own_answer(context, claims=newcomer)[0] == 404
    status, _, body = presign(context, claims=newcomer)
    assert status == 200 and ADA_KEY not in body["key"]


def test_the_same_subject_from_another_issuer_is_another_person(cloud, context):
    land(cloud, context)
    impostor = {**ADA_CLAIMS, "iss": "https://login.example.net/"}
    assert own_answer(context, claims=impostor)[0] == 404


# --- reviewers' listing ----------------------------------------------------------------------------------------


def listing(context, claims=REVIEWER, query=None, project=PROJECT, step=STEP):
    path = f"/projects/{project}/steps/{step}/answers"
    return call(http_event(path, LIST, claims=claims, query=query), context)


def test_non_reviewers_get_403_json(cloud, context):
    for claims in (ADA_CLAIMS, {**ADA_CLAIMS, "cognito:groups": "[admins]"}):
        assert listing(context, claims=claims) == (
            403,
            {"content-type": "application/json"},
            {"message": "only members of the reviewers group may list answers"},
        )


def test_listing_without_identity_is_401(cloud, context):
    assert listing(context, claims=None)[0] == 401


def _land_for(cloud, context, name: str) -> str:
    claims = someone_else(name)
    key = presign(context, claims=claims)[2]["key"]
    version = cloud.put_video(key)
    upload_landed.handler(s3_event(key, version), context)
    return key.split("/")[2].removesuffix(".webm")


@pytest.mark.parametrize("groups", ["[reviewers admins]", ["reviewers"], "reviewers"])
def test_reviewers_page_through_a_step(cloud, context, groups):
    # Given three people answered step 3 and one answered step 4
    keys = sorted(_land_for(cloud, context, f"person{i}") for i in range(3))
    version = cloud.put_video(f"{PROJECT}/4/{'a' * 64}.webm")
    upload_landed.handler(s3_event(f"{PROJECT}/4/{'a' * 64}.webm", version), context)

    # When a reviewer pages with limit=2
    claims = {**REVIEWER, "cognito:groups": groups}
    status, _, first = listing(context, claims=claims, query={"limit": "2"})
    assert status == 200 and len(first["items"]) == 2 and first["next_cursor"]
    _, _, second = listing(context, claims=claims, query={"limit": "2", "cursor": first["next_cursor"]})

    # Then every answer of the step appears once, with its summary fields
    items = first["items"] + second["items"]
    assert [i["user_key"] for i in items] == keys
    assert set(items[0]) == {
        "user_key",
        "status",
        "sentiment",
        "sentiment_score",
        "updated_at",
        "attempt",
        "transcript",
    }
    assert {(i["status"], i["attempt"], i["sentiment"], i["transcript"]) for i in items} == {
        ("UPLOADED", 1, None, None)
    }
    if second["next_cursor"]:
        _, _, third = listing(context, claims=claims, query={"limit": "2", "cursor": second["next_cursor"]})
        assert third == {"items": [], "next_cursor": None}


def _analyse(cloud, context, answer: AnswerKey = ADA, text: str | None = None) -> str:
    """An analysed answer (already landed) with its transcript object in the work bucket; returns its text."""
    document = fixture("transcribe_output.json")
    if text is not None:
        document["results"]["transcripts"][0]["transcript"] = text
    pointer = transcript_pointer(answer)
    cloud.s3.put_object(Bucket=WORK_BUCKET, Key=pointer.key, Body=json.dumps(document))
    project_events(context, transcoder_completed(answer), transcript_ready(answer), sentiment_detected(answer))
    return str(document["results"]["transcripts"][0]["transcript"])


def _analyse_ada(cloud, context) -> str:
    land(cloud, context)
    return _analyse(cloud, context)


def test_reviewers_read_each_answers_transcript_in_the_listing(cloud, context):
    # Given Ada's and three others' analysed answers (each its own words) and two not transcribed yet
    texts = {ADA_KEY: _analyse_ada(cloud, context)}
    for i in range(3):
        key = _land_for(cloud, context, f"speaker{i}")
        texts[key] = _analyse(cloud, context, AnswerKey(PROJECT, STEP, key), text=f"Speaker {i} said this, in full.")
    waiting = {_land_for(cloud, context, f"person{i}") for i in range(2)}

    # When a reviewer lists the step
    status, _, page = listing(context)

    # Then each analysed row carries its own full transcript beside its sentiment, the others none yet
    assert status == 200
    rows = {item["user_key"]: item for item in page["items"]}
    assert {key: rows[key]["transcript"] for key in texts} == texts
    assert {(rows[key]["status"], rows[key]["sentiment"]) for key in texts} == {("ANALYZED", "MIXED")}
    assert {rows[key]["transcript"] for key in waiting} == {None}


def test_a_listed_answer_whose_transcript_object_is_gone_has_no_transcript_and_the_page_still_loads(cloud, context):
    # Given an analysed answer whose transcript object has since expired (the work bucket's retention)
    _analyse_ada(cloud, context)
    cloud.s3.delete_object(Bucket=WORK_BUCKET, Key=transcript_pointer(ADA).key)

    # When a reviewer lists the step, Then the row is there with its results and no transcript (not a 502)
    status, _, page = listing(context)
    assert status == 200
    (item,) = page["items"]
    assert (item["status"], item["sentiment"], item["transcript"]) == ("ANALYZED", "MIXED", None)


def test_a_listed_answer_whose_transcript_read_is_refused_has_no_transcript_and_the_page_still_loads(
    cloud, context, monkeypatch, caplog
):
    # Given two analysed answers, and S3 refusing (AccessDenied) the read of Ada's transcript object only
    _analyse_ada(cloud, context)
    other = _land_for(cloud, context, "speaker")
    other_text = _analyse(cloud, context, AnswerKey(PROJECT, STEP, other), text="Another answer, in full.")
    media: Any = composition.answer_api().media  # the S3 adapter: its client, so the refusal goes through its mapping
    s3 = media._s3
    real_get_object = s3.get_object

    def refused(**request: Any) -> Any:
        if request["Key"] == transcript_pointer(ADA).key:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "GetObject")
        return real_get_object(**request)

    monkeypatch.setattr(s3, "get_object", refused)

    # When a reviewer lists the step
    status, _, page = listing(context)

    # Then the page loads: Ada's row without transcript, the other with its text, and a warning without the text
    assert status == 200
    rows = {item["user_key"]: item for item in page["items"]}
    assert (rows[ADA_KEY]["status"], rows[ADA_KEY]["sentiment"], rows[ADA_KEY]["transcript"]) == (
        "ANALYZED",
        "MIXED",
        None,
    )
    assert rows[other]["transcript"] == other_text
    warnings = [r.getMessage() for r in caplog.records if "could not be read" in r.getMessage()]
    assert len(warnings) == 1 and "AccessDenied" in warnings[0]


def test_an_answer_being_erased_shows_no_transcript_and_an_erased_one_is_not_listed(cloud, context, monkeypatch):
    # Given an analysed answer whose erasure stopped half way (DELETING, transcript object still there)
    _analyse_ada(cloud, context)
    service = composition.answer_api()

    def broken(bucket: str, key: str) -> int:
        raise RuntimeError("S3 is down")

    monkeypatch.setattr(service.media, "delete_all_versions", broken)
    with pytest.raises(RuntimeError):
        service.delete(caller_from_claims(ADA_CLAIMS), PROJECT, STEP)
    monkeypatch.undo()

    # When a reviewer lists the step, Then the row shows DELETING and none of its results
    (item,) = listing(context)[2]["items"]
    assert (item["status"], item["sentiment"], item["transcript"]) == ("DELETING", None, None)

    # And once the erasure finishes the answer is not listed at all
    erase = http_event(f"/answers/{PROJECT}/{STEP}", "DELETE /answers/{project}/{step}", claims=ADA_CLAIMS)
    erase["requestContext"]["http"]["method"] = "DELETE"
    assert call(erase, context)[0] == 202
    assert listing(context)[2]["items"] == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"limit": "0"}, "invalid limit: must be an integer from 1 to 100"),
        ({"limit": "101"}, "invalid limit: must be an integer from 1 to 100"),
        ({"limit": "ten"}, "invalid limit: must be an integer from 1 to 100"),
        ({"cursor": "bm90LWEtY3Vyc29y"}, "invalid cursor: is not a cursor this API returned"),
        ({"cursor": "!!"}, "invalid cursor: is not a cursor this API returned"),
    ],
)
def test_bad_paging_parameters_are_400(cloud, context, query, message):
    assert listing(context, query=query) == (400, {"content-type": "application/json"}, {"message": message})


def test_a_cursor_of_another_step_is_400(cloud, context):
    keys = [_land_for(cloud, context, f"person{i}") for i in range(2)]
    assert keys
    cursor = listing(context, query={"limit": "1"})[2]["next_cursor"]
    status, _, body = listing(context, query={"cursor": cursor}, step="4")
    assert (status, body) == (400, {"message": "invalid cursor: is not a cursor this API returned for this step"})
