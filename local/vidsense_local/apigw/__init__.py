"""Local API Gateway (HTTP API, payload format 2.0, JWT authorizers, CORS) in front of the function runtime; the
routes it serves are the deployment's (``vidsense_local.discovery.RouteTable``)."""

from __future__ import annotations

from vidsense_local.apigw.routes import select_route
from vidsense_local.apigw.server import HttpApiApp, start_api

__all__ = ["HttpApiApp", "select_route", "start_api"]
