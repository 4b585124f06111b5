"""HTTP API (payload v2) of the ingest service: presigned uploads, the caller's answer, reviewers' listings.

The routes live in one router per concern (handlers/http_api); the error map answers every domain error."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from ingest.handlers.http_api import answers, errors, reviews, uploads
from vidsense_shared.handler import lambda_handler

# The routes as API Gateway names them in routeKey (serverless.yml declares the same four).
ROUTE_KEYS = frozenset(
    {
        "GET /presignedurl/{project}/{step}",
        "GET /answers/{project}/{step}",
        "DELETE /answers/{project}/{step}",
        "GET /projects/{project}/steps/{step}/answers",
    }
)

app = APIGatewayHttpResolver(enable_validation=True)
for concern in (uploads, answers, reviews):
    app.include_router(concern.router)
errors.register(app, ROUTE_KEYS)


@lambda_handler(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
