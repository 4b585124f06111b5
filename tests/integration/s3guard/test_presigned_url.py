"""Presigned URLs (query-string auth): signature over the signed headers, expiry, If-None-Match create-only."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import requests

KEY = "onboarding-2026/3/ada v2.webm"  # a space: the canonical path must be re-encoded as S3 does
BODY = b"\x1aE\xdf\xa3webm"


def error(response):
    root = ET.fromstring(response.content)
    return response.status_code, root.findtext("Code"), root.findtext("Message")


def presign_put(s3, client=None, **params):
    return (client or s3.client()).generate_presigned_url(
        "put_object", Params={"Bucket": s3.bucket, "Key": KEY, **params}, ExpiresIn=300
    )


@pytest.fixture
def v4(s3):
    if s3.signature_version != "s3v4":
        pytest.skip("SigV2 signs no If-None-Match or Content-Length")
    return s3


def test_create_only_put_signed_with_if_none_match_then_412(v4):
    url = presign_put(v4, IfNoneMatch="*", ContentLength=len(BODY))
    assert "if-none-match" in url and "content-length" in url  # both are in X-Amz-SignedHeaders
    headers = {"If-None-Match": "*"}
    first = requests.put(url, data=BODY, headers=headers, timeout=10)
    assert first.status_code == 200, first.text
    second = requests.put(url, data=BODY, headers=headers, timeout=10)
    assert error(second)[:2] == (412, "PreconditionFailed")
    assert v4.client().get_object(Bucket=v4.bucket, Key=KEY)["Body"].read() == BODY


def test_a_signed_header_left_out_is_a_signature_mismatch(v4):
    url = presign_put(v4, IfNoneMatch="*", ContentLength=len(BODY))
    response = requests.put(url, data=BODY, timeout=10)  # no If-None-Match: it would overwrite
    assert error(response)[:2] == (403, "SignatureDoesNotMatch")
    assert "Contents" not in v4.client().list_objects_v2(Bucket=v4.bucket)


def test_another_content_length_than_signed_is_a_signature_mismatch(v4):
    url = presign_put(v4, IfNoneMatch="*", ContentLength=len(BODY))
    response = requests.put(url, data=BODY + b"more", headers={"If-None-Match": "*"}, timeout=10)
    assert error(response)[:2] == (403, "SignatureDoesNotMatch")


def test_an_unsigned_amz_header_is_refused(v4):
    url = presign_put(v4)
    response = requests.put(url, data=BODY, headers={"x-amz-acl": "public-read"}, timeout=10)
    assert error(response) == (403, "AccessDenied", "There were headers present in the request which were not signed")


def test_a_presigned_put_and_get_work_and_the_signed_content_type_binds(s3):
    url = presign_put(s3, ContentType="video/webm")
    assert requests.put(url, data=BODY, headers={"Content-Type": "text/html"}, timeout=10).status_code == 403
    assert requests.put(url, data=BODY, headers={"Content-Type": "video/webm"}, timeout=10).status_code == 200
    get = s3.client().generate_presigned_url("get_object", Params={"Bucket": s3.bucket, "Key": KEY}, ExpiresIn=60)
    response = requests.get(get, timeout=10)
    assert (response.status_code, response.content) == (200, BODY)


def test_a_url_for_another_key_does_not_open_this_one(s3):
    s3.client().put_object(Bucket=s3.bucket, Key=KEY, Body=BODY)
    url = s3.client().generate_presigned_url(
        "get_object", Params={"Bucket": s3.bucket, "Key": "onboarding-2026/3/mallory.webm"}, ExpiresIn=60
    )
    tampered = url.replace("mallory.webm", "ada%20v2.webm")
    assert error(requests.get(tampered, timeout=10))[:2] == (403, "SignatureDoesNotMatch")


def test_an_expired_url_is_refused(s3):
    s3.client().put_object(Bucket=s3.bucket, Key=KEY, Body=BODY)
    url = s3.client().generate_presigned_url("get_object", Params={"Bucket": s3.bucket, "Key": KEY}, ExpiresIn=60)
    s3.clock.offset = 120
    assert error(requests.get(url, timeout=10)) == (403, "AccessDenied", "Request has expired")
    s3.clock.offset = 0
    assert requests.get(url, timeout=10).status_code == 200


def test_an_extended_expiry_is_a_signature_mismatch(v4):
    url = v4.client().generate_presigned_url("get_object", Params={"Bucket": v4.bucket, "Key": KEY}, ExpiresIn=60)
    assert error(requests.get(url.replace("X-Amz-Expires=60", "X-Amz-Expires=600"), timeout=10))[:2] == (
        403,
        "SignatureDoesNotMatch",
    )


def test_an_unknown_access_key_is_refused(s3):
    url = presign_put(s3, client=s3.client(key="nobody", secret="guess"))
    assert error(requests.put(url, data=BODY, timeout=10))[:2] == (403, "InvalidAccessKeyId")


def test_sdk_calls_with_an_authorization_header_pass_unchanged(s3):
    # Signed with a key the guard does not know: only moto judges header-signed requests.
    stranger = s3.client(key="nobody", secret="guess")
    stranger.put_object(Bucket=s3.bucket, Key=KEY, Body=BODY)
    assert stranger.get_object(Bucket=s3.bucket, Key=KEY)["Body"].read() == BODY
