"""MediaConvert stand-in through boto3: CreateJob with the production job template, a real MP3 in S3, and the
"MediaConvert Job State Change" events the transcode relay reads."""

from __future__ import annotations

import copy
import json
import uuid
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from botocore.exceptions import ClientError

from tests.integration.standins.conftest import MEDIA, ROLE_ARN, Endpoint
from vidsense_local.engines.transcode import media_duration_seconds

TEMPLATE = Path(__file__).resolve().parents[3] / "services/transcode/src/transcode/adapters/mediaconvert_job.json"


def job_params(input_uri: str, destination: str, **extra: Any) -> dict[str, Any]:
    """The production CreateJob template filled in as the transcode adapter does."""
    params = {k: v for k, v in json.loads(TEMPLATE.read_text()).items() if not k.startswith("_")}
    params = copy.deepcopy(params)
    params["Settings"]["Inputs"][0]["FileInput"] = input_uri
    params["Settings"]["OutputGroups"][0]["OutputGroupSettings"]["FileGroupSettings"]["Destination"] = destination
    params["Role"] = ROLE_ARN
    params["UserMetadata"] = {"app": "vidsense", "stage": "test", "answer_key": "p/s/u.webm", "attempt": "1"}
    params.update(extra)
    return params


def for_job(job_id: str, status: str) -> Any:
    return lambda e: (
        e["source"] == "aws.mediaconvert"
        and e["detail-type"] == "MediaConvert Job State Change"
        and e["detail"]["jobId"] == job_id
        and e["detail"]["status"] == status
    )


def test_create_job_writes_a_decodable_mp3_and_announces_complete(endpoint: Endpoint, tmp_path: Path) -> None:
    # Given an uploaded spoken answer
    source = MEDIA / "positive.webm"
    input_uri = endpoint.upload("positive.webm")
    prefix = f"test/audio/{uuid.uuid4().hex}/attempt-1/"
    destination = f"s3://{endpoint.bucket}/{prefix}answer"
    client = endpoint.client("mediaconvert")

    # When the transcode adapter's request is sent
    response = client.create_job(**job_params(input_uri, destination))

    # Then AWS's answer comes back (201 with the job) and the job completes with an event like AWS's
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 201
    job = response["Job"]
    assert job["Status"] == "SUBMITTED"
    assert job["Arn"].endswith(f":jobs/{job['Id']}")
    assert job["UserMetadata"]["answer_key"] == "p/s/u.webm"
    progressing = endpoint.events.wait_for(for_job(job["Id"], "PROGRESSING"), timeout=30)
    complete = endpoint.events.wait_for(for_job(job["Id"], "COMPLETE"), timeout=60)
    assert progressing["detail"]["userMetadata"]["stage"] == "test"
    detail = complete["detail"]
    assert complete["resources"] == [job["Arn"]]
    assert detail["accountId"] == "123456789012"
    assert detail["queue"].endswith(":queues/Default")
    assert detail["userMetadata"] == job["UserMetadata"]
    assert isinstance(detail["timestamp"], int)
    [group] = detail["outputGroupDetails"]
    assert group["type"] == "FILE_GROUP"
    [output] = group["outputDetails"]
    assert output["outputFilePaths"] == [f"{destination}.mp3"]

    # And the MP3 is real: decodable, the template's 22.05 kHz mono, as long as the input's audio
    local = tmp_path / "answer.mp3"
    endpoint.client("s3").download_file(endpoint.bucket, f"{prefix}answer.mp3", str(local))
    with av.open(str(local)) as mp3:
        stream = mp3.streams.audio[0]
        assert stream.codec_context.name in ("mp3", "mp3float")
        assert stream.rate == 22050
        assert stream.channels == 1
        samples = np.concatenate([f.to_ndarray().reshape(-1) for f in mp3.decode(stream)])
    expected = media_duration_seconds(source)
    assert abs(len(samples) / 22050 - expected) < 0.15
    assert abs(output["durationInMs"] / 1000 - expected) < 0.15
    assert np.abs(samples).max() > 0.05  # speech, not silence

    # And GetJob tells the same story
    got = client.get_job(Id=job["Id"])["Job"]
    assert got["Status"] == "COMPLETE"
    assert got["OutputGroupDetails"][0]["OutputDetails"][0]["DurationInMs"] == output["durationInMs"]
    assert got["Timing"]["FinishTime"] >= got["Timing"]["StartTime"] >= got["Timing"]["SubmitTime"]
    assert job["Id"] in {j["Id"] for j in client.list_jobs(Status="COMPLETE")["Jobs"]}


def test_client_request_token_makes_create_job_idempotent(endpoint: Endpoint) -> None:
    input_uri = endpoint.upload("neutral.webm")
    params = job_params(input_uri, f"s3://{endpoint.bucket}/idem/{uuid.uuid4().hex}/answer")
    params["ClientRequestToken"] = f"token-{uuid.uuid4().hex}"
    client = endpoint.client("mediaconvert")
    first = client.create_job(**params)["Job"]["Id"]
    second = client.create_job(**params)["Job"]["Id"]
    assert first == second
    endpoint.events.wait_for(for_job(first, "COMPLETE"), timeout=60)
    assert len(endpoint.events.all(for_job(first, "COMPLETE"))) == 1


@pytest.mark.parametrize(
    ("upload", "code", "words"),
    [
        ("corrupt.webm", 1010, "Unable to process input"),
        (None, 1010, "Unable to open input file"),
        ("video-only", 1040, "no audio"),
    ],
    ids=["corrupt", "missing", "no-audio-track"],
)
def test_unusable_input_ends_in_error_event(
    endpoint: Endpoint, tmp_path: Path, upload: str | None, code: int, words: str
) -> None:
    if upload == "video-only":
        path = tmp_path / "video-only.webm"
        with av.open(str(path), mode="w", format="webm") as out:
            video = out.add_stream("libvpx", rate=5)
            video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
            for i in range(5):
                frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 90, np.uint8), format="rgb24")
                frame.pts, frame.time_base = i, Fraction(1, 5)
                out.mux(video.encode(frame))
            out.mux(video.encode(None))
        key = f"media/{uuid.uuid4().hex}/video-only.webm"
        endpoint.client("s3").upload_file(str(path), endpoint.bucket, key)
        input_uri = f"s3://{endpoint.bucket}/{key}"
    elif upload is None:
        input_uri = f"s3://{endpoint.bucket}/media/{uuid.uuid4().hex}/never-uploaded.webm"
    else:
        input_uri = endpoint.upload(upload)
    destination = f"s3://{endpoint.bucket}/err/{uuid.uuid4().hex}/answer"
    client = endpoint.client("mediaconvert")
    job = client.create_job(**job_params(input_uri, destination))["Job"]

    event = endpoint.events.wait_for(for_job(job["Id"], "ERROR"), timeout=60)

    assert event["detail"]["errorCode"] == code
    assert words.lower() in event["detail"]["errorMessage"].lower()
    assert input_uri in event["detail"]["errorMessage"]
    assert event["detail"]["userMetadata"]["app"] == "vidsense"
    got = client.get_job(Id=job["Id"])["Job"]
    assert (got["Status"], got["ErrorCode"]) == ("ERROR", code)
    listing = endpoint.client("s3").list_objects_v2(Bucket=endpoint.bucket, Prefix=destination[5:].split("/", 1)[1])
    assert listing.get("KeyCount", 0) == 0


def test_invalid_requests_raise_modelled_exceptions(endpoint: Endpoint) -> None:
    client = endpoint.client("mediaconvert")
    good = job_params(f"s3://{endpoint.bucket}/in.webm", f"s3://{endpoint.bucket}/out/answer")
    with pytest.raises(client.exceptions.BadRequestException, match="role"):
        client.create_job(**{**good, "Role": "not-an-arn"})
    video = copy.deepcopy(good)
    video["Settings"]["OutputGroups"][0]["Outputs"][0]["VideoDescription"] = {"Width": 640}
    with pytest.raises(client.exceptions.BadRequestException, match="audio-only"):
        client.create_job(**video)
    aac = copy.deepcopy(good)
    aac["Settings"]["OutputGroups"][0]["Outputs"][0]["AudioDescriptions"][0]["CodecSettings"] = {"Codec": "AAC"}
    with pytest.raises(client.exceptions.BadRequestException, match="MP3"):
        client.create_job(**aac)
    with pytest.raises(client.exceptions.NotFoundException):
        client.get_job(Id="1700000000000-nosuch")


def test_describe_endpoints_returns_the_local_endpoint(endpoint: Endpoint) -> None:
    answer = endpoint.client("mediaconvert").describe_endpoints(Mode="DEFAULT")
    assert answer["Endpoints"] == [{"Url": endpoint.url}]


def test_error_shape_is_what_botocore_maps(endpoint: Endpoint) -> None:
    with pytest.raises(ClientError) as caught:
        endpoint.client("mediaconvert").get_job(Id="missing")
    assert caught.value.response["Error"]["Code"] == "NotFoundException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
