"""Deterministic names and keys (docs/architecture.md) and S3 location parsing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.transcode.fixtures import JOB_NAME, STAGE, USER_KEY
from transcode.domain import naming
from vidsense_shared.events import AnswerRef, S3Pointer

REF = AnswerRef(project="acme-onboarding", step="2", user_key=USER_KEY, attempt=1)

_PROJECT_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
refs = st.builds(
    AnswerRef,
    project=st.text(_PROJECT_CHARS, min_size=1, max_size=64),
    step=st.integers(min_value=0, max_value=999).map(str),
    user_key=st.text("0123456789abcdef", min_size=64, max_size=64),
    attempt=st.integers(min_value=1, max_value=1000),
)
stages = st.builds(
    lambda head, tail: head + tail,
    st.sampled_from("abcdefghijklmnopqrstuvwxyz"),
    st.text("abcdefghijklmnopqrstuvwxyz0123456789-", max_size=15),
)


def test_keys_follow_the_architecture_contract():
    assert naming.job_key(REF) == f"acme-onboarding/2/{USER_KEY}#1"
    assert naming.audio_destination("dev", REF) == f"dev/audio/acme-onboarding/2/{USER_KEY}/attempt-1/answer"
    assert naming.transcript_key("dev", REF) == f"dev/transcripts/acme-onboarding/2/{USER_KEY}/attempt-1.json"
    assert naming.transcription_job_name(STAGE, REF) == JOB_NAME


@given(ref=refs, stage=stages)
def test_job_name_round_trips_and_fits_transcribe_limits(ref, stage):
    # Given any valid answer attempt, When its job name is built and parsed back, Then it is the same attempt
    name = naming.transcription_job_name(stage, ref)
    assert len(name) <= 200
    assert all(c.isalnum() or c in "._-" for c in name)
    assert naming.parse_transcription_job_name(stage, name) == ref


@given(ref=refs)
def test_a_stage_never_claims_another_stages_job(ref):
    # "dev" is a prefix of "dev2" as text, but the trailing dot keeps their job names apart
    name = naming.transcription_job_name("dev2", ref)
    assert naming.parse_transcription_job_name("dev", name) is None


@pytest.mark.parametrize(
    "name",
    [
        "vidsense.dev.acme.2.notahexkey.1",
        f"vidsense.dev.acme.2.{USER_KEY}",
        f"vidsense.dev.acme.2.{USER_KEY}.one",
        f"vidsense.dev.acme.2.{USER_KEY}.1.extra",
        f"vidsense.dev.acme.2.{USER_KEY}.0",
        "someone-elses-job",
    ],
)
def test_unparseable_job_names_are_not_ours(name):
    assert naming.parse_transcription_job_name("dev", name) is None


def test_client_request_token_is_stable_per_attempt_video_and_stage():
    video = S3Pointer(bucket="vidsense-dev-media", key="acme-onboarding/2/u.webm", version_id="v1")
    token = naming.client_request_token("dev", REF, video)
    assert token == naming.client_request_token("dev", REF, video)
    assert token != naming.client_request_token("dev", REF.model_copy(update={"attempt": 2}), video)
    assert token != naming.client_request_token("prod", REF, video)
    # An answer recorded again after an erasure is attempt 1 again, of another version of the video.
    assert token != naming.client_request_token("dev", REF, video.model_copy(update={"version_id": "v2"}))


def test_s3_uri_parses_into_a_pointer():
    pointer = naming.parse_s3_uri("s3://work-bucket/dev/audio/a/b/answer.mp3")
    assert (pointer.bucket, pointer.key) == ("work-bucket", "dev/audio/a/b/answer.mp3")


@pytest.mark.parametrize("uri", ["https://bucket/key", "s3://bucket", "s3://bucket/", "s3:///key", "answer.mp3"])
def test_malformed_s3_uris_are_rejected(uri):
    with pytest.raises(naming.InvalidS3UriError):
        naming.parse_s3_uri(uri)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://s3.us-east-1.amazonaws.com/work-b/dev/t/a.json", ("work-b", "dev/t/a.json")),
        ("https://s3.amazonaws.com/work-b/dev/t/a.json", ("work-b", "dev/t/a.json")),
        ("https://work-b.s3.us-east-1.amazonaws.com/dev/t/a.json", ("work-b", "dev/t/a.json")),
        ("https://s3-bucket.s3.eu-west-1.amazonaws.com/dev/t/a.json", ("s3-bucket", "dev/t/a.json")),
        ("https://s3.us-east-1.amazonaws.com/work-b/dev/t/a%20b.json", ("work-b", "dev/t/a b.json")),
        ("s3://work-b/dev/t/a.json", ("work-b", "dev/t/a.json")),
    ],
)
def test_transcribe_output_urls_are_understood(url, expected):
    pointer = naming.parse_s3_https_url(url)
    assert pointer is not None
    assert (pointer.bucket, pointer.key) == expected


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:4566/work-b/dev/t/a.json", "https://example.org/a.json", "https://s3.amazonaws.com/"]
)
def test_urls_that_are_not_recognisably_s3_are_not_guessed(url):
    assert naming.parse_s3_https_url(url) is None
