"""The whole ingest flow through a real HTTP endpoint (moto's threaded server, as the local stack uses):
presign -> browser-style multipart POST -> S3 notification -> VideoUploaded -> pipeline events -> answer."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests
from moto.server import ThreadedMotoServer

from ingest.domain.keys import AnswerKey
from ingest.handlers import api, projector, upload_landed
from tests.unit.ingest.builders import delivery, fixture, sentiment_detected, transcript_pointer, transcript_ready
from vidsense_shared import aws

from .conftest import ADA_CLAIMS, ADA_KEY, MEDIA_BUCKET, WORK_BUCKET, Aws, clear_factories, http_event, s3_event

ADA = AnswerKey("onboarding-2026", "3", ADA_KEY)
WEBM = b"\x1aE\xdf\xa3\x9fB\x86\x81\x01webm-cluster" * 64


@pytest.fixture
def server_cloud(env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    aws.client.cache_clear()  # clients built from now on talk to the server
    clear_factories()
    try:
        handles = Aws()
        handles.create()
        yield handles
    finally:
        requests.post(f"{endpoint}/moto-api/reset", timeout=5)
        server.stop()
        aws.client.cache_clear()


def test_presigned_post_uploads_and_the_answer_flows_to_analyzed(server_cloud, context):
    # Given a verified caller got an upload form
    response = api.handler(http_event("/presignedurl/onboarding-2026/3", "GET /presignedurl/{project}/{step}"), context)
    assert response["statusCode"] == 200
    form = json.loads(response["body"])["upload"]

    # When the browser posts the video with the form's fields
    posted = requests.post(
        form["url"], data=form["fields"], files={"file": ("answer.webm", WEBM, "video/webm")}, timeout=10
    )
    assert posted.status_code in (200, 201, 204), posted.text

    # Then the object is stored as video/webm under the caller's key
    versions = server_cloud.versions(ADA.video_key)
    assert len(versions) == 1
    head = server_cloud.s3.head_object(Bucket=MEDIA_BUCKET, Key=ADA.video_key)
    assert (head["ContentLength"], head["ContentType"]) == (len(WEBM), "video/webm")

    # And its notification announces attempt 1
    upload_landed.handler(s3_event(ADA.video_key, versions[0], size=len(WEBM)), context)
    [raw] = server_cloud.published()
    assert raw["detail"]["data"]["video"]["version_id"] == versions[0]
    assert raw["detail"]["data"]["size_bytes"] == len(WEBM)

    # And a second form is refused while the answer lives
    again = api.handler(http_event("/presignedurl/onboarding-2026/3", "GET /presignedurl/{project}/{step}"), context)
    assert (again["statusCode"], again["body"]) == (403, "The resource you requested does already exist")

    # When the pipeline reports transcript and sentiment
    pointer = transcript_pointer(ADA)
    server_cloud.s3.put_object(Bucket=WORK_BUCKET, Key=pointer.key, Body=json.dumps(fixture("transcribe_output.json")))
    for event in (transcript_ready(ADA), sentiment_detected(ADA, sentiment="POSITIVE")):
        projector.handler(delivery(event), context)

    # Then the caller reads the full answer
    answer = api.handler(
        http_event("/answers/onboarding-2026/3", "GET /answers/{project}/{step}", claims=ADA_CLAIMS), context
    )
    body = json.loads(answer["body"])
    assert (answer["statusCode"], body["status"], body["sentiment"]) == (200, "ANALYZED", "POSITIVE")
    assert body["transcript"].startswith("I really enjoyed the first week.")
