"""Local API Gateway (HTTP API, payload format 2.0, JWT authorizers, CORS) in front of the function runtime; the
routes it serves are the deployment's (``vidsense_local.discovery.RouteTable``)."""

from __future__ import annotations

from vidsense_local.apigw.payload import BadIntegrationResponse, build_event, map_result
from vidsense_local.apigw.routes import RouteMatch, select_route
from vidsense_local.apigw.server import HttpApiApp, start_api

__all__ = [
    "BadIntegrationResponse",
    "HttpApiApp",
    "RouteMatch",
    "build_event",
    "map_result",
    "select_route",
    "start_api",
]
