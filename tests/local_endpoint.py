"""Test plumbing for the local stack's parts: a WSGI app served on a free port, and a template's HTTP API."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from vidsense_local.discovery import DeployedStack, RouteTable, http_api
from vidsense_local.serving import WSGIApp, serve


@contextmanager
def served(app: WSGIApp) -> Iterator[str]:
    """``app`` on a free port (threaded, as the stack serves) for the block; yields its URL."""
    server = serve(app, 0, name="test-endpoint")
    try:
        yield server.url
    finally:
        server.stop()


def routes_from_template(
    template: Mapping[str, Any], *, function_names: Mapping[str, str] | None = None, api_id: str = "local"
) -> RouteTable:
    """The HTTP API of a template as the stack reads a deployed one; ``function_names`` maps Lambda logical ids to
    deployed names (a stack's physical ids), else a function is known by its template's ``FunctionName``."""
    declared = {
        logical_id: name
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("Type") == "AWS::Lambda::Function"
        and isinstance(name := resource.get("Properties", {}).get("FunctionName"), str)
    }
    stack = DeployedStack.of(
        "template", dict(template), declared | dict(function_names or {}), region="us-east-1", account_id="123456789012"
    )
    table = http_api(stack)
    return RouteTable(table.routes, table.cors, api_id)
