"""What every route of the HTTP API shares: its path parameters, the caller, documented error responses."""

from __future__ import annotations

from typing import Annotated, cast

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from ingest.domain.identity import Caller, caller_from_claims
from ingest.domain.keys import PROJECT_PATTERN, STEP_PATTERN
from ingest.domain.views import ErrorBody, LimitBody

ANSWER_EXISTS_BODY = "The resource you requested does already exist"

ProjectParam = Annotated[str, Path(pattern=PROJECT_PATTERN, description="Project identifier")]
StepParam = Annotated[str, Path(pattern=STEP_PATTERN, description="Step number (0 to 999)")]


def caller(router: Router) -> Caller:
    """Who calls: the claims the HTTP API's JWT authorizer verified."""
    event = cast(APIGatewayProxyEventV2, router.current_event)  # the app is an APIGatewayHttpResolver
    return caller_from_claims(event.request_context.authorizer.jwt_claim)


def json_error(description: str) -> OpenAPIResponse:
    return {"description": description, "content": {"application/json": {"model": ErrorBody}}}


BAD_REQUEST = json_error("A parameter is malformed; the message names it")
UNAUTHORIZED = json_error("No usable identity (iss or sub claim missing, email claim missing or not verified)")
NO_ANSWER = json_error("The caller has no answer to this step")
BUSY: OpenAPIResponse = {
    "description": "The answer is being processed or erased: retry after the Retry-After seconds",
    "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
    "content": {"application/json": {"model": ErrorBody}},
}
TOO_MANY_RECORDINGS: OpenAPIResponse = {
    "description": "The caller started maxAnswersPerUserPerDay new recordings in the last 24 hours: retry after the "
    "Retry-After seconds (when the oldest of them leaves the window)",
    "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
    "content": {"application/json": {"model": LimitBody}},
}
