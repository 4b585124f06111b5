"""The one reader of a SigV4 request's credential scope, from its ``Authorization`` header or its presigned query.

``Credential=<access key>/<yyyymmdd>/<region>/<service>/aws4_request``: the edge dispatches on the service, fault
rules match on it and the access key, and S3's presigned checks verify the signature against it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

_IN_HEADER = re.compile(r"Credential=([^,\s]+)")


@dataclass(frozen=True)
class CredentialScope:
    access_key: str
    date: str
    region: str
    service: str  # as signed; compare it lower-cased

    @classmethod
    def parse(cls, credential: str) -> CredentialScope | None:
        """The scope of a ``Credential`` value; None when it is not ``<key>/<date>/<region>/<service>/aws4_request``."""
        parts = credential.split("/")
        if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts):
            return None
        return cls(parts[0], parts[1], parts[2], parts[3])


def credential(environ: Mapping[str, Any]) -> str | None:
    """The raw ``Credential`` of a signed request: the header's, else the query's ``X-Amz-Credential``; None when
    unsigned (S3 form uploads and the like) or signed with SigV2."""
    match = _IN_HEADER.search(str(environ.get("HTTP_AUTHORIZATION", "")))
    if match:
        return match.group(1)
    for name, value in parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True):
        if name.lower() == "x-amz-credential":
            return value
    return None


def credential_scope(environ: Mapping[str, Any]) -> CredentialScope | None:
    """The request's credential scope; None when it has none or a malformed one."""
    found = credential(environ)
    return None if found is None else CredentialScope.parse(found)
