"""The HTTP API's OpenAPI document, generated from the resolver (committed at docs/openapi.json)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

from ingest.handlers.api import app

TITLE = "vidsense ingest API"
VERSION = "1.0.0"


def render() -> str:
    document = app.get_openapi_json_schema(
        title=TITLE,
        version=VERSION,
        description=(
            "Upload forms for video answers, the caller's own answer (status, transcript, sentiment) and "
            "reviewers' listings. Every route sits behind the HTTP API's JWT authorizer: the caller is the "
            "token's issuer and subject (iss, sub), and the token must carry a verified email claim."
        ),
        security_schemes={
            "jwt": HTTPBearer(bearerFormat="JWT", description="ID token of the stage's identity provider")
        },
        security=[{"jwt": []}],
    )
    # Stable formatting so the committed file only changes when the API does.
    return json.dumps(_without_422(json.loads(document)), indent=2, sort_keys=True) + "\n"


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[-1]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


def _without_422(document: dict[str, Any]) -> dict[str, Any]:
    """Powertools documents a 422 for validation errors; this API answers 400 (handlers.api maps them)."""
    for path in document.get("paths", {}).values():
        for operation in path.values():
            operation.get("responses", {}).pop("422", None)
    schemas = document.get("components", {}).get("schemas", {})
    used = _refs({k: v for k, v in document.items() if k != "components"})
    pending = set(used)
    while pending:
        name = pending.pop()
        new = _refs(schemas.get(name, {})) - used
        used |= new
        pending |= new
    for name in set(schemas) - used:
        del schemas[name]
    return document


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/openapi.json")
    target.write_text(render())
    print(target)  # noqa: T201
