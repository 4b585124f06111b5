"""Presigned URLs (SigV4 query-string auth): signature, expiry and unsigned ``x-amz-*`` headers, as S3 checks them.

The signature is recomputed with botocore's own presigner (``S3SigV4QueryAuth``) over what was received: the
method, the path, every query parameter but ``X-Amz-Signature`` and the *received* values of the signed headers.
A header that was signed but not sent (or sent with another value) therefore changes the canonical request and
fails as SignatureDoesNotMatch, which is what S3 answers."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from urllib.parse import parse_qsl, quote, urlsplit

from botocore.auth import HmacV1QueryAuth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

from vidsense_local.s3guard._common import ALGORITHM, S3Error, header, parse_scope, signature_mismatch, unknown_key

MAX_EXPIRES = 604800  # a week: S3's limit for SigV4 presigned URLs
_CLOCK_SKEW = timedelta(minutes=15)
_TIMESTAMP = "%Y%m%dT%H%M%SZ"


def is_presigned(environ: Mapping[str, Any]) -> bool:
    """A query-string-signed request (no Authorization header), whatever the service: the caller checks S3."""
    if environ.get("HTTP_AUTHORIZATION"):
        return False
    names = {name for name, _ in _params(environ)}
    return bool(names & {"X-Amz-Credential", "X-Amz-Signature"}) or {"AWSAccessKeyId", "Signature"} <= names


def is_sigv2(environ: Mapping[str, Any]) -> bool:
    return "X-Amz-Credential" not in {name for name, _ in _params(environ)}


def _params(environ: Mapping[str, Any]) -> list[tuple[str, str]]:
    return parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)


def _v4_parameters_missing() -> S3Error:
    return S3Error(
        400,
        "AuthorizationQueryParametersError",
        "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, "
        "X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
    )


def _v2_parameters_missing() -> S3Error:
    return S3Error(
        403, "AccessDenied", "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters"
    )


def _single(params: list[tuple[str, str]], name: str, missing: Callable[[], S3Error]) -> str:
    """The one value of a query-string authentication parameter; S3 refuses a missing or repeated one."""
    values = [v for k, v in params if k == name]
    if len(values) != 1:
        raise missing()
    return values[0]


def _path(environ: Mapping[str, Any]) -> str:
    # WSGI gives the decoded path as latin-1 text; S3 canonicalises it by URI-encoding each segment again.
    raw = str(environ.get("PATH_INFO", "/")).encode("latin-1").decode("utf-8", "replace")
    return quote(raw, safe="/~")


def check(environ: Mapping[str, Any], credentials: Mapping[str, str], now: float) -> None:
    """Raise the S3Error S3 would answer for this presigned request, or return if S3 would accept it."""
    if is_sigv2(environ):
        check_v2(environ, credentials, now)
        return
    params = _params(environ)
    algorithm, credential, amz_date, expires_text, signed_headers, signature = (
        _single(params, f"X-Amz-{name}", _v4_parameters_missing)
        for name in ("Algorithm", "Credential", "Date", "Expires", "SignedHeaders", "Signature")
    )
    if algorithm != ALGORITHM:
        raise S3Error(400, "AuthorizationQueryParametersError", 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"')
    scope = parse_scope(credential)
    access_key = scope.access_key
    secret = credentials.get(access_key)
    if secret is None:
        raise unknown_key(access_key)
    try:
        signed_at = datetime.strptime(amz_date, _TIMESTAMP).replace(tzinfo=UTC)
        expires = int(expires_text)
    except ValueError as exc:
        raise S3Error(
            400, "AuthorizationQueryParametersError", "X-Amz-Date must be in the ISO8601 Long Format"
        ) from exc
    if not 0 < expires <= MAX_EXPIRES:
        raise S3Error(
            400,
            "AuthorizationQueryParametersError",
            f"X-Amz-Expires must be less than a week (in seconds) that is {MAX_EXPIRES}",
        )
    if scope.date != amz_date[:8]:
        raise signature_mismatch()

    names = [n for n in signed_headers.lower().split(";") if n]
    sent: dict[str, str] = {}
    for name in names:
        value = header(environ, name)
        if value is not None:
            sent[name] = value
    # S3 refuses x-amz-* headers that travel outside the signature (they could change what is stored).
    unsigned = sorted(
        k[5:].lower().replace("_", "-")
        for k in environ
        if k.startswith("HTTP_X_AMZ_") and k[5:].lower().replace("_", "-") not in names
    )
    if unsigned:
        raise S3Error(
            403,
            "AccessDenied",
            "There were headers present in the request which were not signed",
            HeadersNotSigned=", ".join(unsigned),
        )

    request = AWSRequest(
        method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
        url=f"http://{environ.get('HTTP_HOST', '')}{_path(environ)}",
        headers=sent,
        # A list keeps repeated parameters; botocore's canonicaliser takes pairs as well as a mapping.
        params=cast(Any, [(k, v) for k, v in params if k != "X-Amz-Signature"]),
    )
    request.context["timestamp"] = amz_date
    signer = S3SigV4QueryAuth(Credentials(access_key, secret), scope.service, scope.region, expires=expires)
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected, signature):
        raise signature_mismatch(AWSAccessKeyId=access_key, SignatureProvided=signature)

    current = datetime.fromtimestamp(now, UTC)
    if current > signed_at + timedelta(seconds=expires):
        details: dict[str, str | int] = {
            "X-Amz-Expires": expires,
            "Expires": (signed_at + timedelta(seconds=expires)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "ServerTime": current.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        raise S3Error(403, "AccessDenied", "Request has expired", **details)
    if signed_at > current + _CLOCK_SKEW:
        raise S3Error(403, "AccessDenied", "Request is not valid yet")


class _V2Verifier(HmacV1QueryAuth):
    """botocore's SigV2 presigner with the URL's own ``Expires`` as the signed date (it signs "now + expires")."""

    def __init__(self, credentials: Credentials, expires_at: str) -> None:
        super().__init__(credentials)
        self._expires_at = expires_at

    def _get_date(self) -> str:
        return self._expires_at


def check_v2(environ: Mapping[str, Any], credentials: Mapping[str, str], now: float) -> None:
    """SigV2 query auth (``AWSAccessKeyId``/``Signature``/``Expires``), which boto3 still uses to presign S3
    requests for a custom endpoint unless the client asks for ``s3v4``."""
    params = _params(environ)
    access_key, signature, expires_at = (
        _single(params, name, _v2_parameters_missing) for name in ("AWSAccessKeyId", "Signature", "Expires")
    )
    secret = credentials.get(access_key)
    if secret is None:
        raise unknown_key(access_key)
    # The presigner moves Content-MD5, Content-Type and x-amz-* headers into the query: they were signed as headers.
    signed: dict[str, str] = {}
    for name in ("content-md5", "content-type"):
        value = header(environ, name)
        if value is not None:
            signed[name] = value
    for key, value in environ.items():
        if key.startswith("HTTP_X_AMZ_"):
            signed[key[5:].lower().replace("_", "-")] = str(value)
    for name, value in params:
        if name.lower() in ("content-md5", "content-type") or name.lower().startswith("x-amz-"):
            signed[name.lower()] = value
    headers = HTTPHeaders()
    for name, value in signed.items():
        headers[name] = value
    signer = _V2Verifier(Credentials(access_key, secret), expires_at)
    split = urlsplit(f"http://host{_path(environ)}?{environ.get('QUERY_STRING', '')}")
    expected = signer.sign_string(
        signer.canonical_string(str(environ.get("REQUEST_METHOD", "GET")).upper(), split, cast(Any, headers))
    )
    if not hmac.compare_digest(expected, signature):
        raise signature_mismatch(AWSAccessKeyId=access_key, SignatureProvided=signature)
    try:
        deadline = int(expires_at)
    except ValueError as exc:
        raise S3Error(403, "AccessDenied", "Invalid date (should be seconds since epoch)") from exc
    if now > deadline:
        raise S3Error(
            403,
            "AccessDenied",
            "Request has expired",
            Expires=datetime.fromtimestamp(deadline, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            ServerTime=datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
