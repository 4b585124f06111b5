"""Local API Gateway (HTTP API, payload format 2.0, JWT authorizers, CORS) in front of the function runtime."""

from __future__ import annotations

from vidsense_local.apigw.payload import BadIntegrationResponse, build_event, map_result
from vidsense_local.apigw.routes import RouteMatch, select_route
from vidsense_local.apigw.server import HttpApiApp, start_api
from vidsense_local.discovery.model import CorsConfig, HttpRoute, JwtAuthorizerConfig, RouteTable

__all__ = [
    "BadIntegrationResponse",
    "CorsConfig",
    "HttpApiApp",
    "HttpRoute",
    "JwtAuthorizerConfig",
    "RouteMatch",
    "RouteTable",
    "build_event",
    "map_result",
    "select_route",
    "start_api",
]
