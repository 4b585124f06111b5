"""Security of the local stack end to end: whose answer is whose, who is refused, odd parameters, and S3's checks
of the upload forms the stack hands out, each condition broken against the real local S3 endpoint."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
import requests
from botocore.config import Config

from vidsense_local.auth import issue_token, load_or_create_key
from vidsense_local.clients import aws_environment
from vidsense_local.demo import ApiClient, StackEndpoints
from vidsense_local.paths import REPO_ROOT

from .support import MEDIA, PIPELINE_TIMEOUT, email, new_project

pytestmark = pytest.mark.e2e

SILENT = MEDIA / "silent.webm"
SPEC = REPO_ROOT / "docs" / "openapi.json"
UNAUTHORIZED = {"message": "Unauthorized"}
ANSWER_EXISTS_BODY = "The resource you requested does already exist"
MESSAGES = {
    "project": "invalid project: must match [A-Za-z0-9_-]{1,64}",
    "step": "invalid step: must be 0 or a number from 1 to 999 without leading zeros",
}
# Path segments as a client puts them on the wire (already percent-encoded where HTTP needs it).
ODD_SEGMENTS = {
    "..": "path traversal",
    "%2e%2e": "encoded traversal",
    ".": "dot segment",
    "%252E%252E%252F": "double-encoded traversal with slash",
    "a%252Fb": "double-encoded slash",
    "%C0%AE%C0%AE": "overlong UTF-8 dots",
    "a%5Cb": "encoded backslash",
    "a%00b": "NUL",
    "a%E2%80%AEb": "right-to-left override",
    "pr%D0%BEject": "Cyrillic o homoglyph",
    "%EF%BC%91": "fullwidth digit one",
    "e%CC%81": "combining acute accent",
    "%F0%9F%98%80": "emoji",
    "%FF": "invalid UTF-8",
    "p" * 3000: "very long",
    "a%3Fb": "encoded question mark",
    "a%23b": "encoded hash",
    "%20": "space",
}
# A single-encoded slash is decoded before routing (API Gateway splits it too): no route, no function call.
SPLIT_SEGMENTS = ("a%2Fb", "%2E%2E%2F%2E%2E", "..%2F..", "%2F")


def _operations() -> list[tuple[str, str]]:
    """(method, path template) of every documented operation with project and step in its path."""
    paths = json.loads(SPEC.read_text())["paths"]
    return [
        (method.upper(), template)
        for template, item in paths.items()
        if "{project}" in template and "{step}" in template
        for method in item
        if method in {"get", "put", "post", "delete", "patch"}
    ]


OPERATIONS = _operations()


def _token(stack: StackEndpoints, address: str, **kwargs: Any) -> str:
    key = load_or_create_key(stack.state_dir)
    return issue_token(key, address, issuer=stack.issuer, audience=stack.audience, **kwargs)


def _raw(stack: StackEndpoints, method: str, path: str, token: str | None) -> tuple[int, str, Any]:
    """The request line exactly as given (requests would normalise dot segments and re-encode)."""
    url = urlsplit(stack.api_url)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=120)
    try:
        conn.request(method, path, headers={"Authorization": f"Bearer {token}"} if token else {})
        response = conn.getresponse()
        raw = response.read()
        content_type = response.getheader("Content-Type", "")
    finally:
        conn.close()
    body: Any = json.loads(raw) if content_type.startswith("application/json") else raw.decode()
    return response.status, content_type, body


def _path(template: str, project: str, step: str) -> str:
    return template.replace("{project}", project).replace("{step}", step)


# --- an answer of one person ------------------------------------------------------------------------------


@dataclass
class Answer:
    owner: ApiClient
    project: str
    step: str
    key: str
    form: dict[str, Any]
    bucket: str
    first_version: str


def _s3(stack: StackEndpoints, **config: Any) -> Any:
    env = aws_environment(stack.aws_url)
    return boto3.client(
        "s3",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, **config),
    )


def _versions(s3: Any, bucket: str, key: str) -> list[str]:
    listing = s3.list_object_versions(Bucket=bucket, Prefix=key)
    return [v["VersionId"] for v in listing.get("Versions", []) if v["Key"] == key]


def _bucket_of(form: dict[str, Any]) -> str:
    return form["fields"].get("bucket") or urlsplit(form["url"]).path.strip("/").split("/")[0]


@pytest.fixture(scope="module")
def answer(stack: StackEndpoints) -> Answer:
    """A silent clip uploaded through the stack's form (its pipeline ends NO_SPEECH, never FAILED)."""
    owner = ApiClient(stack, email("owner"))
    project, step = new_project("sec"), "1"
    presigned = owner.presign(project, step)
    assert presigned.status_code == 200, presigned.text
    body = presigned.json()
    upload = owner.upload(body, SILENT.read_bytes())
    assert upload.status_code == 204, upload.text
    deadline = time.monotonic() + PIPELINE_TIMEOUT
    while (own := owner.get(f"/answers/{project}/{step}")).status_code == 404 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert own.status_code == 200, own.text
    bucket = _bucket_of(body["upload"])
    versions = _versions(_s3(stack), bucket, body["key"])
    assert len(versions) == 1
    return Answer(owner, project, step, body["key"], body["upload"], bucket, versions[0])


def test_an_answer_is_read_only_by_its_owner(stack, answer):
    path = f"/answers/{answer.project}/{answer.step}"
    assert answer.owner.get(path).json()["status"] in {"UPLOADED", "TRANSCODED", "TRANSCRIBED", "NO_SPEECH"}
    # Another person, and a reviewer too, asking for the same path get their own (missing) answer
    for other in (
        ApiClient(stack, email("other")),
        ApiClient(stack, email("reviewer"), groups=["reviewers"]),
    ):
        response = other.get(path + f"?user_key={answer.key.rsplit('/', 1)[1][:-5]}&email={answer.owner.email}")
        assert response.status_code == 404, response.text
        assert response.json() == {"message": "no answer to this step yet"}


def test_the_step_listing_is_for_reviewers_only(stack, answer):
    path = f"/projects/{answer.project}/steps/{answer.step}/answers"
    for person in (answer.owner, ApiClient(stack, email("other"))):
        response = person.get(path)
        assert response.status_code == 403, response.text
        assert response.json() == {"message": "only members of the reviewers group may list answers"}
    reviewer = ApiClient(stack, email("reviewer"), groups=["reviewers", "admins"])
    listing = reviewer.get(path)
    assert listing.status_code == 200, listing.text
    items = listing.json()["items"]
    user_key = answer.key.rsplit("/", 1)[1].removesuffix(".webm")
    assert [item["user_key"] for item in items] == [user_key]
    # the summary reviewers may read (the transcript included, issue 13), never the owner's email
    summary = {"user_key", "status", "sentiment", "sentiment_score", "updated_at", "attempt", "transcript"}
    assert set(items[0]) == summary and answer.owner.email not in listing.text


# --- who is refused -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "template"), OPERATIONS)
def test_no_token_and_bad_tokens_are_the_authorizers_401(stack, tmp_path, method, template):
    foreign = load_or_create_key(tmp_path)
    path = _path(template, "sec-auth", "1")
    bad = {
        "none": None,
        "garbage": "garbage",
        "foreign key": issue_token(foreign, "a@example.com", issuer=stack.issuer, audience=stack.audience),
        "expired": _token(stack, "a@example.com", expires_in=1, now=time.time() - 120),
    }
    for name, token in bad.items():
        assert _raw(stack, method, path, token) == (401, "application/json", UNAUTHORIZED), name


@pytest.mark.parametrize(("method", "template"), OPERATIONS)
def test_an_unverified_or_missing_email_is_the_functions_401(stack, method, template):
    # API Gateway's authorizer does not look at email_verified: the function must (JSON 401, not the gateway's)
    path = _path(template, new_project("sec"), "1")
    cases = {
        "unverified": {"email_verified": False},
        "unverified (string)": {"email_verified": "false"},
        "no email_verified": {"email_verified": None},
        "no email": {"email": None},
        "email with a bidi override": {"email": "a\u202e@example.com"},
    }
    for name, claims in cases.items():
        token = _token(stack, "mallory@example.com", groups=["reviewers"], extra_claims=claims)
        status, content_type, body = _raw(stack, method, path, token)
        assert (status, content_type) == (401, "application/json"), (name, body)
        assert body != UNAUTHORIZED and set(body) == {"message"}, name


# --- odd parameters -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "template"), OPERATIONS)
@pytest.mark.parametrize("parameter", ["project", "step"])
def test_odd_parameters_are_400_naming_the_parameter(stack, method, template, parameter):
    token = _token(stack, email("odd"), groups=["reviewers"])
    for segment, why in ODD_SEGMENTS.items():
        project, step = (segment, "1") if parameter == "project" else (new_project("sec"), segment)
        status, content_type, body = _raw(stack, method, _path(template, project, step), token)
        assert (status, content_type, body) == (400, "application/json", {"message": MESSAGES[parameter]}), why


@pytest.mark.parametrize(("method", "template"), OPERATIONS)
def test_encoded_slashes_match_no_route(stack, method, template):
    token = _token(stack, email("odd"), groups=["reviewers"])
    for segment in SPLIT_SEGMENTS:
        for project, step in ((segment, "1"), (new_project("sec"), segment)):
            response = _raw(stack, method, _path(template, project, step), token)
            assert response == (404, "application/json", {"message": "Not Found"}), segment


# --- S3's conditions on the stack's upload form -------------------------------------------------------------


def _post(form: dict[str, Any], fields: dict[str, str], body: bytes, content_type: str = "video/webm") -> Any:
    return requests.post(form["url"], data=fields, files={"file": ("a.webm", body, content_type)}, timeout=60)


def _error(response: requests.Response) -> tuple[int, str | None, str | None]:
    root = ET.fromstring(response.content)
    return response.status_code, root.findtext("Code"), root.findtext("Message")


def _policy(fields: dict[str, str]) -> dict[str, Any]:
    policy: dict[str, Any] = json.loads(base64.b64decode(fields["policy"]))
    return policy


def _signature(fields: dict[str, str], encoded_policy: str, secret: str) -> tuple[str, str]:
    """(field name, value) of the policy's signature, made as the stack's signer makes it (SigV2 or SigV4)."""
    if "x-amz-signature" in fields:
        _, date, region, service, _ = fields["x-amz-credential"].split("/")
        key = ("AWS4" + secret).encode()
        for part in (date, region, service, "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        return "x-amz-signature", hmac.new(key, encoded_policy.encode(), hashlib.sha256).hexdigest()
    digest = hmac.new(secret.encode(), encoded_policy.encode(), hashlib.sha1).digest()
    return "signature", base64.b64encode(digest).decode()


def _encoded(policy: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(policy).encode()).decode()


def _signed(fields: dict[str, str], policy: dict[str, Any], secret: str) -> dict[str, str]:
    encoded = _encoded(policy)
    name, value = _signature(fields, encoded, secret)
    return {**fields, "policy": encoded, name: value}


@pytest.fixture(scope="module")
def fresh_form(stack: StackEndpoints) -> dict[str, Any]:
    """A form for an answer nobody uploads: every attempt below must be refused."""
    client = ApiClient(stack, email("form"))
    response = client.presign(new_project("sec"), "2")
    assert response.status_code == 200, response.text
    presigned: dict[str, Any] = response.json()
    return presigned


def test_each_broken_form_condition_gets_s3s_error(stack, fresh_form):
    form, key = fresh_form["upload"], fresh_form["key"]
    fields: dict[str, str] = dict(form["fields"])
    secret = aws_environment(stack.aws_url)["AWS_SECRET_ACCESS_KEY"]
    policy = _policy(fields)
    # Signing as the stack does gives the stack's own signature: the re-signed cases break only what they change
    signature, value = _signature(fields, fields["policy"], secret)
    assert fields[signature] == value
    conditions = policy["conditions"]
    assert {"key": key} in conditions or ["eq", "$key", key] in conditions
    size_range = next(c for c in conditions if isinstance(c, list) and c[0] == "content-length-range")
    assert size_range[1] == 1
    other_key = key.rsplit("/", 1)[0] + "/" + "0" * 64 + ".webm"
    past = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    small = {**policy, "conditions": [c for c in conditions if c is not size_range] + [["content-length-range", 1, 16]]}
    wider = {
        **policy,
        "conditions": [c for c in conditions if c is not size_range] + [["content-length-range", 0, 10**12]],
    }
    cases: dict[str, tuple[dict[str, str], bytes, str, tuple[int, str, str | None]]] = {
        "tampered signature": (
            {**fields, signature: ("A" if fields[signature][0] != "A" else "B") + fields[signature][1:]},
            b"x",
            "video/webm",
            (403, "SignatureDoesNotMatch", None),
        ),
        "policy changed without re-signing": (
            {**fields, "policy": _encoded(wider)},
            b"x",
            "video/webm",
            (403, "SignatureDoesNotMatch", None),
        ),
        "expired": (
            _signed(fields, {**policy, "expiration": past}, secret),
            b"x",
            "video/webm",
            (403, "AccessDenied", "Invalid according to Policy: Policy expired."),
        ),
        "another key": (
            {**fields, "key": other_key},
            b"x",
            "video/webm",
            (403, "AccessDenied", f'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "{key}"]'),
        ),
        "another content type": (
            {**fields, "Content-Type": "text/html"},
            b"<script>",
            "text/html",
            (
                403,
                "AccessDenied",
                'Invalid according to Policy: Policy Condition failed: ["eq", "$Content-Type", "video/webm"]',
            ),
        ),
        "an extra field": (
            {**fields, "acl": "public-read"},
            b"x",
            "video/webm",
            (403, "AccessDenied", "Invalid according to Policy: Extra input fields: acl"),
        ),
        "empty": (
            fields,
            b"",
            "video/webm",
            (400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size"),
        ),
        # The stack's maximum is hundreds of MB: the same condition, re-signed with a 16-byte maximum
        "too large": (
            _signed(fields, small, secret),
            b"x" * 17,
            "video/webm",
            (400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"),
        ),
    }
    for name, (sent, body, content_type, (status, code, message)) in cases.items():
        got = _error(_post(form, sent, body, content_type))
        assert got[:2] == (status, code), (name, got)
        if message is not None:
            assert got[2] == message, name
    # Nothing of all that landed
    assert _versions(_s3(stack), _bucket_of(form), key) == []


def test_first_version_wins(stack, answer):
    # The form is still valid: S3 takes a second version, and ingest removes it (the first version stays)
    second = _post(answer.form, answer.form["fields"], SILENT.read_bytes())
    assert second.status_code == 204, second.text
    s3 = _s3(stack)
    deadline = time.monotonic() + PIPELINE_TIMEOUT
    while (versions := _versions(s3, answer.bucket, answer.key)) != [answer.first_version]:
        assert time.monotonic() < deadline, versions
        time.sleep(0.2)
    # And no new form is handed out while the answer lives
    again = answer.owner.presign(answer.project, answer.step)
    assert (again.status_code, again.text) == (403, ANSWER_EXISTS_BODY)


def test_a_create_only_put_is_refused_on_an_existing_key(stack, answer):
    # The stack hands out POST forms; S3's If-None-Match is checked on a SigV4 presigned PUT that signs it
    s3 = _s3(stack, signature_version="s3v4")
    url = s3.generate_presigned_url(
        "put_object",
        Params={"Bucket": answer.bucket, "Key": answer.key, "ContentType": "video/webm", "IfNoneMatch": "*"},
        ExpiresIn=60,
    )
    headers = {"Content-Type": "video/webm", "If-None-Match": "*"}
    assert _error(requests.put(url, data=b"x", headers=headers, timeout=60))[:2] == (412, "PreconditionFailed")
    # Leaving out the signed header breaks the signature instead
    unsigned = requests.put(url, data=b"x", headers={"Content-Type": "video/webm"}, timeout=60)
    assert _error(unsigned)[:2] == (403, "SignatureDoesNotMatch")
    assert _versions(s3, answer.bucket, answer.key) == [answer.first_version]
