"""S3's CORS for browsers, which moto does not enforce (it allows every origin and method on a preflight).

A request with an ``Origin`` header to an existing bucket is answered by the bucket's CORS rules as S3 does:
a preflight (``OPTIONS`` with ``Access-Control-Request-Method``) gets 200 with the allowed origin, methods,
headers and max age from the first matching rule, or 403 ``AccessForbidden`` when the bucket has no CORS
configuration or no rule allows the origin, method and requested headers; any other request is passed on and its
answer carries ``Access-Control-*`` headers only when a rule allows the origin and method (moto's own are removed).
Requests without ``Origin`` (SDKs, the functions) and requests to other services pass untouched.
"""

from __future__ import annotations

import fnmatch
import ipaddress
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from vidsense_local.s3guard._common import S3Error, WSGIApp, header

NOT_ENABLED = "CORSResponse: CORS is not enabled for this bucket."
NOT_ALLOWED = (
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request "
    "method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the "
    "resource's CORS spec."
)


@dataclass(frozen=True)
class CorsRule:
    allowed_origins: tuple[str, ...]
    allowed_methods: tuple[str, ...]
    allowed_headers: tuple[str, ...] = ()
    exposed_headers: tuple[str, ...] = ()
    max_age_seconds: int | None = None

    def allows(self, origin: str, method: str, headers: Sequence[str] = ()) -> bool:
        return (
            any(_wildcard(pattern, origin) for pattern in self.allowed_origins)
            and method.upper() in (m.upper() for m in self.allowed_methods)
            and all(any(_wildcard(p.lower(), h.lower()) for p in self.allowed_headers) for h in headers)
        )


# The bucket's rules by name: None when there is no such bucket, () when it has no CORS configuration.
RulesOf = Callable[[str], Sequence[CorsRule] | None]


def _wildcard(pattern: str, value: str) -> bool:
    # S3 allows one '*' wildcard in an origin or header; nothing else is special.
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]").replace("?", "[?]"))


def bucket_of(environ: Mapping[str, Any]) -> str | None:
    """The bucket a request addresses: virtual-hosted (``<bucket>.s3...``) or path style (``/<bucket>/...``)."""
    host = (header(environ, "host") or "").rsplit(":", 1)[0]
    if host and host != "localhost" and ".s3" in host:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return host.split(".s3", 1)[0] or None
    path = unquote(str(environ.get("PATH_INFO", ""))).lstrip("/")
    return path.split("/", 1)[0] or None


def moto_rules(account_id: str, partition: str = "aws") -> RulesOf:
    """The bucket's CORS rules as moto stores them (PutBucketCors, CloudFormation's CorsConfiguration)."""

    def rules_of(bucket: str) -> Sequence[CorsRule] | None:
        from moto.s3.models import s3_backends  # noqa: PLC0415 - moto only when the edge runs

        found = s3_backends[account_id][partition].buckets.get(bucket)
        if found is None:
            return None
        return tuple(
            CorsRule(
                allowed_origins=tuple(rule.allowed_origins or ()),
                allowed_methods=tuple(rule.allowed_methods or ()),
                allowed_headers=tuple(rule.allowed_headers or ()),
                exposed_headers=tuple(rule.exposed_headers or ()),
                max_age_seconds=int(rule.max_age_seconds) if rule.max_age_seconds else None,
            )
            for rule in (found.cors or ())
        )

    return rules_of


def _cors_headers(rule: CorsRule, origin: str) -> list[tuple[str, str]]:
    wildcard = "*" in rule.allowed_origins
    headers = [
        ("Access-Control-Allow-Origin", "*" if wildcard else origin),
        ("Access-Control-Allow-Methods", ", ".join(rule.allowed_methods)),
        ("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"),
    ]
    if not wildcard:
        headers.append(("Access-Control-Allow-Credentials", "true"))
    if rule.exposed_headers:
        headers.append(("Access-Control-Expose-Headers", ", ".join(rule.exposed_headers)))
    if rule.max_age_seconds is not None:
        headers.append(("Access-Control-Max-Age", str(rule.max_age_seconds)))
    return headers


class S3Cors:
    def __init__(self, app: WSGIApp, rules_of: RulesOf) -> None:
        self.app = app
        self.rules_of = rules_of

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        origin = header(environ, "origin")
        bucket = bucket_of(environ) if origin else None
        rules = self.rules_of(bucket) if bucket else None
        if origin is None or rules is None:
            return self.app(environ, start_response)
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        requested = header(environ, "access-control-request-method")
        if method == "OPTIONS" and requested:
            return self._preflight(environ, start_response, rules, origin, requested)
        rule = next((r for r in rules if r.allows(origin, method)), None)

        def respond(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            kept = [(k, v) for k, v in headers if not k.lower().startswith("access-control-")]
            if rule is not None:
                kept.extend(_cors_headers(rule, origin))
            return start_response(status, kept, exc_info) if exc_info else start_response(status, kept)

        return self.app(environ, respond)

    def _preflight(
        self, environ: dict[str, Any], start_response: Any, rules: Sequence[CorsRule], origin: str, method: str
    ) -> Iterable[bytes]:
        if not rules:
            return S3Error(403, "AccessForbidden", NOT_ENABLED, Method=method, ResourceType="BUCKET").respond(
                environ, start_response
            )
        asked = [h.strip() for h in (header(environ, "access-control-request-headers") or "").split(",") if h.strip()]
        rule = next((r for r in rules if r.allows(origin, method, asked)), None)
        if rule is None:
            return S3Error(403, "AccessForbidden", NOT_ALLOWED, Method=method, ResourceType="OBJECT").respond(
                environ, start_response
            )
        headers = _cors_headers(rule, origin)
        if asked:
            headers.append(("Access-Control-Allow-Headers", ", ".join(asked)))
        headers.append(("Content-Length", "0"))
        start_response("200 OK", headers)
        return [b""]


def wrap(app: WSGIApp, rules_of: RulesOf) -> WSGIApp:
    """``app`` behind S3's CORS rules of each bucket (``rules_of``: see :func:`moto_rules`)."""
    return S3Cors(app, rules_of)
