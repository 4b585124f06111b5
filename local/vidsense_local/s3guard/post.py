"""Browser-based uploads (S3 POST with a SigV4-signed policy): the policy signature, its expiration, every
condition and ``content-length-range``, in that order, with S3's error codes and wording."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from typing import Any

from botocore.auth import HmacV1PostAuth, S3SigV4PostAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from werkzeug.formparser import parse_form_data

from vidsense_local.s3guard._common import ALGORITHM, S3Error, parse_scope, signature_mismatch, unknown_key

# Fields S3 does not require a condition for (besides the x-ignore- prefix).
_EXEMPT = frozenset({"policy", "x-amz-signature", "file", "awsaccesskeyid", "signature"})
_VIRTUAL_HOST = re.compile(r"^(?P<bucket>[a-z0-9][a-z0-9.-]*)\.(?:s3[.-]|localhost$)")


@dataclass(frozen=True)
class Upload:
    bucket: str
    fields: dict[str, str]  # lower-case field names, as S3 compares them
    size: int
    filename: str


def is_form_upload(environ: Mapping[str, Any]) -> bool:
    content_type = str(environ.get("CONTENT_TYPE", "")).lower()
    return (
        str(environ.get("REQUEST_METHOD", "")).upper() == "POST"
        and content_type.startswith("multipart/form-data")
        and not environ.get("HTTP_AUTHORIZATION")
    )


def _bucket(environ: Mapping[str, Any]) -> str:
    host = str(environ.get("HTTP_HOST", "")).split(":")[0].lower()
    match = _VIRTUAL_HOST.match(host)
    if match:
        return match.group("bucket")
    return str(environ.get("PATH_INFO", "/")).lstrip("/").split("/")[0]


def read_upload(environ: Mapping[str, Any], body: bytes) -> Upload:
    form_environ = {**environ, "wsgi.input": BytesIO(body), "CONTENT_LENGTH": str(len(body))}
    try:
        _, form, files = parse_form_data(form_environ, silent=False)
    except ValueError as exc:
        raise S3Error(
            400, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data."
        ) from exc
    fields = {str(name).lower(): str(value) for name, value in form.items()}
    uploads = files.getlist("file")
    if len(uploads) != 1 or len(files) != 1:
        raise S3Error(400, "InvalidArgument", "POST requires exactly one file upload per request.")
    upload = uploads[0]
    size = len(upload.stream.read())
    return Upload(_bucket(environ), fields, size, upload.filename or "")


def _required(fields: Mapping[str, str], name: str) -> str:
    value = fields.get(name)
    if value is None:
        raise S3Error(
            400,
            "InvalidArgument",
            f"Bucket POST must contain a field named '{name}'.  If it is specified, please check the order of the "
            "fields.",
            ArgumentName=name,
        )
    return value


def check(upload: Upload, credentials: Mapping[str, str], now: float) -> None:
    """Raise the S3Error S3 would answer for this form upload, or return if S3 would store it."""
    fields = upload.fields
    policy_b64 = fields.get("policy")
    if policy_b64 is None:
        # No policy: an anonymous upload, which only a public-write bucket takes. The local buckets have no ACLs.
        raise S3Error(403, "AccessDenied", "Access Denied")
    if "awsaccesskeyid" in fields and "x-amz-signature" not in fields:
        _verify_signature_v2(fields, policy_b64, credentials)
    else:
        _verify_signature(fields, policy_b64, credentials)
    policy = _decode(policy_b64)
    if datetime.fromtimestamp(now, UTC) >= _expiration(policy):
        raise S3Error(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
    size_range = _check_conditions(upload, policy["conditions"])
    if size_range is not None:
        _check_size(upload.size, *size_range)


def _verify_signature(fields: Mapping[str, str], policy_b64: str, credentials: Mapping[str, str]) -> None:
    _required(fields, "key")
    algorithm = _required(fields, "x-amz-algorithm")
    credential = _required(fields, "x-amz-credential")
    _required(fields, "x-amz-date")  # its value is checked by the policy's own x-amz-date condition
    signature = _required(fields, "x-amz-signature")
    if algorithm != ALGORITHM:
        raise S3Error(400, "InvalidArgument", f"Unsupported algorithm: {algorithm}", ArgumentName="x-amz-algorithm")
    scope = parse_scope(credential)
    access_key = scope.access_key
    secret = credentials.get(access_key)
    if secret is None:
        raise unknown_key(access_key)
    # The signing key is derived from the credential scope's date; botocore reads it from the timestamp.
    request = AWSRequest(method="POST", url="http://localhost/")
    request.context["timestamp"] = scope.date + "T000000Z"
    signer = S3SigV4PostAuth(Credentials(access_key, secret), scope.service, scope.region)
    expected = signer.signature(policy_b64, request)
    if not hmac.compare_digest(expected, signature):
        raise signature_mismatch(AWSAccessKeyId=access_key)


def _verify_signature_v2(fields: Mapping[str, str], policy_b64: str, credentials: Mapping[str, str]) -> None:
    """SigV2 form: what boto3's generate_presigned_post makes for a custom endpoint unless the client asks s3v4."""
    _required(fields, "key")
    access_key = _required(fields, "awsaccesskeyid")
    signature = _required(fields, "signature")
    secret = credentials.get(access_key)
    if secret is None:
        raise unknown_key(access_key)
    expected = HmacV1PostAuth(Credentials(access_key, secret)).sign_string(policy_b64)
    if not hmac.compare_digest(expected, signature):
        raise signature_mismatch(AWSAccessKeyId=access_key)


def _decode(policy_b64: str) -> dict[str, Any]:
    try:
        policy = json.loads(base64.b64decode(policy_b64, validate=True))
    except (ValueError, binascii.Error) as exc:
        raise S3Error(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.") from exc
    if not isinstance(policy, dict) or not isinstance(policy.get("conditions"), list):
        raise S3Error(400, "InvalidPolicyDocument", "Invalid Policy: Policy missing conditions.")
    return policy


def _expiration(policy: Mapping[str, Any]) -> datetime:
    text = str(policy.get("expiration"))
    for layout in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z"):
        try:
            parsed = datetime.strptime(text, layout)  # noqa: DTZ007 - every layout ends in %z
        except ValueError:
            continue
        return parsed
    raise S3Error(400, "InvalidPolicyDocument", "Invalid Policy: Invalid 'expiration' value.")


def _parse_condition(condition: Any) -> tuple[str, str, Any]:
    """(operator, field, value); ``{"field": value}`` is an exact match, as ``["eq", "$field", value]``."""
    if isinstance(condition, dict) and len(condition) == 1:
        name, value = next(iter(condition.items()))
        return "eq", str(name).lstrip("$"), value
    if isinstance(condition, list) and len(condition) == 3 and condition[0] == "content-length-range":
        return "content-length-range", "", (int(condition[1]), int(condition[2]))
    if isinstance(condition, list) and len(condition) == 3 and condition[0] in ("eq", "starts-with"):
        return str(condition[0]), str(condition[1]).lstrip("$"), condition[2]
    raise S3Error(400, "InvalidPolicyDocument", f"Invalid Policy: Invalid Condition: {json.dumps(condition)}")


def _holds(op: str, field: str, actual: str | None, expected: str) -> bool:
    if actual is None:
        return False
    if op == "eq":
        return actual == expected
    if field == "content-type":
        # S3 applies starts-with to each comma-separated Content-Type.
        return all(part.strip().startswith(expected) for part in actual.split(","))
    return actual.startswith(expected)


def _check_conditions(upload: Upload, conditions: list[Any]) -> tuple[int, int] | None:
    """Check each condition in order, then that no field went unchecked; return the content-length-range."""
    fields = upload.fields
    values = {**fields, "bucket": upload.bucket, "key": fields["key"].replace("${filename}", upload.filename)}
    covered: set[str] = set()
    size_range: tuple[int, int] | None = None
    for condition in conditions:
        op, field, expected = _parse_condition(condition)
        if op == "content-length-range":
            size_range = expected
            continue
        covered.add(field.lower())
        if not _holds(op, field.lower(), values.get(field.lower()), str(expected)):
            raise S3Error(
                403,
                "AccessDenied",
                f"Invalid according to Policy: Policy Condition failed: {json.dumps([op, f'${field}', expected])}",
            )
    extra = sorted(
        name for name in fields if name not in _EXEMPT and not name.startswith("x-ignore-") and name not in covered
    )
    if extra:
        raise S3Error(403, "AccessDenied", f"Invalid according to Policy: Extra input fields: {', '.join(extra)}")
    return size_range


def _check_size(size: int, low: int, high: int) -> None:
    if size > high:
        raise S3Error(
            400,
            "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed size",
            ProposedSize=size,
            MaxSizeAllowed=high,
        )
    if size < low:
        raise S3Error(
            400,
            "EntityTooSmall",
            "Your proposed upload is smaller than the minimum allowed size",
            ProposedSize=size,
            MinSizeAllowed=low,
        )
