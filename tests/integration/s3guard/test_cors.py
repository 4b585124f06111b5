"""S3's CORS rules enforced in front of moto (which allows any origin on a preflight): what a browser sees."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from tests.local_endpoint import served
from vidsense_local import s3guard
from vidsense_local.clients import local_client
from vidsense_local.s3guard import cors

WEB = "http://127.0.0.1:5173"
EVIL = "http://evil.example"
TIMEOUT = 30
ACCOUNT = "123456789012"  # moto's account for any access key it does not know


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    guarded = s3guard.wrap(DomainDispatcherApplication(create_backend_app), s3guard.LOCAL_CREDENTIALS)
    app = cors.wrap(guarded, cors.moto_rules(ACCOUNT))
    with served(app) as endpoint:
        yield endpoint


def _s3(url: str) -> Any:
    return local_client("s3", url, "us-east-1")


@pytest.fixture
def bucket(url: str) -> str:
    name = f"media-{uuid.uuid4().hex[:10]}"
    s3 = _s3(url)
    s3.create_bucket(Bucket=name)
    # As services/ingest/serverless.yml configures the media bucket.
    s3.put_bucket_cors(
        Bucket=name,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": [WEB],
                    "AllowedMethods": ["PUT", "POST"],
                    "AllowedHeaders": ["*"],
                    "ExposeHeaders": ["ETag"],
                    "MaxAgeSeconds": 600,
                }
            ]
        },
    )
    return name


def _preflight(url: str, bucket: str, origin: str, method: str = "POST") -> requests.Response:
    return requests.options(
        f"{url}/{bucket}",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=TIMEOUT,
    )


def test_a_preflight_from_a_listed_origin_is_allowed_with_the_rules_values(url: str, bucket: str) -> None:
    # Given the media bucket's CORS rule for the web origin
    # When the browser asks before a form upload
    answer = _preflight(url, bucket, WEB)
    # Then S3 allows that origin, the rule's methods, the asked headers and the max age
    assert answer.status_code == 200, answer.text
    assert answer.headers["Access-Control-Allow-Origin"] == WEB
    assert "POST" in answer.headers["Access-Control-Allow-Methods"]
    assert answer.headers["Access-Control-Allow-Headers"] == "content-type"
    assert answer.headers["Access-Control-Max-Age"] == "600"


def test_a_preflight_from_an_unlisted_origin_or_method_is_refused(url: str, bucket: str) -> None:
    # Given the same rule (moto alone answers both with 200 and the request's origin)
    # When another origin, or the listed origin with a method the rule does not allow, asks
    for origin, method in ((EVIL, "POST"), (WEB, "DELETE")):
        answer = _preflight(url, bucket, origin, method)
        # Then S3 refuses with 403 AccessForbidden and no CORS headers
        assert answer.status_code == 403, (origin, method, answer.text)
        assert "<Code>AccessForbidden</Code>" in answer.text
        assert "Access-Control-Allow-Origin" not in answer.headers


def test_a_bucket_without_cors_refuses_every_preflight(url: str) -> None:
    # Given a bucket with no CORS configuration
    name = f"plain-{uuid.uuid4().hex[:10]}"
    _s3(url).create_bucket(Bucket=name)
    # When the web origin asks
    answer = _preflight(url, name, WEB)
    # Then CORS is not enabled
    assert answer.status_code == 403
    assert "CORS is not enabled for this bucket" in answer.text


def test_a_response_carries_cors_headers_only_for_an_allowed_origin(url: str, bucket: str) -> None:
    # Given an object in the bucket
    _s3(url).put_object(Bucket=bucket, Key="a.txt", Body=b"x")
    # When the web origin and another origin post to the bucket (an anonymous form: refused, with or without CORS)
    allowed = requests.post(f"{url}/{bucket}", headers={"Origin": WEB}, files={"file": b"x"}, timeout=TIMEOUT)
    other = requests.post(f"{url}/{bucket}", headers={"Origin": EVIL}, files={"file": b"x"}, timeout=TIMEOUT)
    # Then only the listed origin may read the answer, with the rule's exposed headers
    assert allowed.headers["Access-Control-Allow-Origin"] == WEB
    assert allowed.headers["Access-Control-Expose-Headers"] == "ETag"
    assert "Access-Control-Allow-Origin" not in other.headers


def test_requests_without_origin_pass_untouched(url: str, bucket: str) -> None:
    # Given an SDK call (no Origin header), When it reads the bucket, Then moto answers as before
    assert _s3(url).list_objects_v2(Bucket=bucket)["KeyCount"] == 0
