"""A browser upload with the form ingest hands out (its production adapter makes it), then each condition broken."""

from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET

import pytest
import requests

from ingest.adapters.media import S3MediaStore

KEY = "onboarding-2026/3/ada.webm"
MAX = 64
WEBM = b"\x1aE\xdf\xa3" + b"w" * 28


def form(s3, client=None, **overrides):
    made = S3MediaStore(client or s3.client()).presign_post(
        s3.bucket, KEY, content_type="video/webm", max_bytes=MAX, expires_in=900
    )
    fields = {**made.fields, **overrides}
    return made.url, fields


def post(url, fields, body=WEBM, content_type="video/webm"):
    return requests.post(url, data=fields, files={"file": ("answer.webm", body, content_type)}, timeout=10)


def error(response):
    root = ET.fromstring(response.content)
    return response.status_code, root.findtext("Code"), root.findtext("Message")


def test_the_form_as_ingest_makes_it_uploads(s3):
    url, fields = form(s3)
    response = post(url, fields)
    assert response.status_code == 204, response.text
    head = s3.client().head_object(Bucket=s3.bucket, Key=KEY)
    assert (head["ContentLength"], head["ContentType"]) == (len(WEBM), "video/webm")


def test_a_size_at_both_ends_of_the_range_is_accepted(s3):
    url, fields = form(s3)
    assert post(url, fields, body=b"x").status_code == 204
    assert post(url, fields, body=b"x" * MAX).status_code == 204


def test_another_key_fails_the_key_condition(s3):
    url, fields = form(s3, key="onboarding-2026/3/mallory.webm")
    assert error(post(url, fields)) == (
        403,
        "AccessDenied",
        f'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "{KEY}"]',
    )
    assert "Contents" not in s3.client().list_objects_v2(Bucket=s3.bucket)


def test_another_bucket_fails_the_bucket_condition(s3):
    url, fields = form(s3)
    other = f"{s3.bucket}-other"
    s3.client().create_bucket(Bucket=other)
    status, code, message = error(post(url.replace(s3.bucket, other), fields))
    assert (status, code) == (403, "AccessDenied")
    assert message == f'Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "{s3.bucket}"]'


def test_another_content_type_fails_the_type_condition(s3):
    url, fields = form(s3, **{"Content-Type": "text/html"})
    assert error(post(url, fields, content_type="text/html")) == (
        403,
        "AccessDenied",
        'Invalid according to Policy: Policy Condition failed: ["eq", "$Content-Type", "video/webm"]',
    )


def test_a_field_no_condition_covers_is_refused(s3):
    url, fields = form(s3, acl="public-read")
    assert error(post(url, fields)) == (403, "AccessDenied", "Invalid according to Policy: Extra input fields: acl")


def test_too_large_is_entity_too_large(s3):
    url, fields = form(s3)
    response = post(url, fields, body=b"x" * (MAX + 1))
    assert error(response) == (400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
    root = ET.fromstring(response.content)
    assert (root.findtext("ProposedSize"), root.findtext("MaxSizeAllowed")) == (str(MAX + 1), str(MAX))


@pytest.mark.parametrize("body", [b""], ids=["empty"])
def test_empty_is_entity_too_small(s3, body):
    url, fields = form(s3)
    response = post(url, fields, body=body)
    assert error(response) == (400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size")
    assert ET.fromstring(response.content).findtext("MinSizeAllowed") == "1"


def test_an_expired_policy_is_refused(s3):
    url, fields = form(s3)
    s3.clock.offset = 901
    assert error(post(url, fields)) == (403, "AccessDenied", "Invalid according to Policy: Policy expired.")
    s3.clock.offset = 880  # the policy's expiration has whole seconds: keep clear of the boundary
    assert post(url, fields).status_code == 204


def test_a_tampered_policy_fails_the_signature(s3):
    url, fields = form(s3)
    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = policy["conditions"]
    policy["conditions"] = [c for c in conditions if not (isinstance(c, list) and "content-length-range" in c)]
    policy["conditions"].append(["content-length-range", 0, 10**9])
    fields["policy"] = base64.b64encode(json.dumps(policy).encode()).decode()
    status, code, _ = error(post(url, fields, body=b"x" * (MAX + 1)))
    assert (status, code) == (403, "SignatureDoesNotMatch")


def test_a_tampered_signature_is_refused(s3):
    url, fields = form(s3)
    name = "signature" if "signature" in fields else "x-amz-signature"
    signature = fields[name]
    fields[name] = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert error(post(url, fields))[:2] == (403, "SignatureDoesNotMatch")


def test_an_unknown_access_key_is_refused(s3):
    url, fields = form(s3, client=s3.client(key="nobody", secret="guess"))
    assert error(post(url, fields)) == (
        403,
        "InvalidAccessKeyId",
        "The AWS Access Key Id you provided does not exist in our records.",
    )


def test_a_known_key_with_the_wrong_secret_is_a_signature_mismatch(s3):
    url, fields = form(s3, client=s3.client(key="other", secret="not-other"))
    assert error(post(url, fields))[:2] == (403, "SignatureDoesNotMatch")


def test_a_form_without_a_policy_is_an_anonymous_upload_and_refused(s3):
    url, _ = form(s3)
    assert error(post(url, {"key": KEY, "Content-Type": "video/webm"}))[:2] == (403, "AccessDenied")


def test_a_missing_signature_field_is_an_invalid_argument(s3):
    url, fields = form(s3)
    name = "signature" if "signature" in fields else "x-amz-signature"
    del fields[name]
    status, code, message = error(post(url, fields))
    assert (status, code) == (400, "InvalidArgument")
    assert name in message
