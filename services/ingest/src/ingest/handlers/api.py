"""HTTP API (payload v2) of the ingest service: presigned uploads, the caller's answer, reviewers' listings."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.typing import LambdaContext

from ingest.adapters.answers_table import DynamoAnswerRepository
from ingest.adapters.media import S3MediaStore
from ingest.adapters.recording_limits import DynamoRecordingWindows
from ingest.adapters.secrets import SsmUserKeySecret
from ingest.domain.answer_api import AnswerApi
from ingest.domain.erasure import RETRY_AFTER_SECONDS
from ingest.domain.errors import (
    AnswerBusyError,
    AnswerExistsError,
    AnswerNotFoundError,
    ForbiddenError,
    InvalidParameterError,
    TranscriptUnavailableError,
    UnauthorizedError,
)
from ingest.domain.identity import Caller, caller_from_claims
from ingest.domain.keys import PROJECT_PATTERN, STEP_PATTERN, validate_step_ref
from ingest.domain.limits import WINDOW_NAME, RecordingLimitError
from ingest.domain.views import (
    MAX_PAGE,
    AnswerPage,
    AnswerView,
    DeletedAnswer,
    ErrorBody,
    LimitBody,
    PresignedUpload,
)
from ingest.settings import ApiSettings
from vidsense_shared.aws import client
from vidsense_shared.bus import EventBridgePublisher
from vidsense_shared.config import load_settings
from vidsense_shared.events import utc_now
from vidsense_shared.handler import lambda_handler
from vidsense_shared.observability import logger, metrics

ANSWER_EXISTS_BODY = "The resource you requested does already exist"
# Why each parameter was refused, in words a client developer can act on.
PARAMETER_RULES = {
    "project": "must match [A-Za-z0-9_-]{1,64}",
    "step": "must be 0 or a number from 1 to 999 without leading zeros",
    "limit": f"must be an integer from 1 to {MAX_PAGE}",
    "cursor": "is not a cursor this API returned",
}

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

ProjectParam = Annotated[str, Path(pattern=PROJECT_PATTERN, description="Project identifier")]
StepParam = Annotated[str, Path(pattern=STEP_PATTERN, description="Step number (0 to 999)")]


def _json_error(description: str) -> OpenAPIResponse:
    return {"description": description, "content": {"application/json": {"model": ErrorBody}}}


_BAD_REQUEST = _json_error("A parameter is malformed; the message names it")
_UNAUTHORIZED = _json_error("No usable identity (iss or sub claim missing, email claim missing or not verified)")
_BUSY: OpenAPIResponse = {
    "description": "The answer is being processed or erased: retry after the Retry-After seconds",
    "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
    "content": {"application/json": {"model": ErrorBody}},
}
_TOO_MANY_RECORDINGS: OpenAPIResponse = {
    "description": "The caller started maxAnswersPerUserPerDay new recordings in the last 24 hours: retry after the "
    "Retry-After seconds (when the oldest of them leaves the window)",
    "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
    "content": {"application/json": {"model": LimitBody}},
}


@cache
def api_service() -> AnswerApi:
    settings = load_settings(ApiSettings)
    return AnswerApi(
        repo=DynamoAnswerRepository(settings.answers_table, client("dynamodb")),
        media=S3MediaStore(client("s3")),
        secret=SsmUserKeySecret(
            SSMProvider(boto3_client=client("ssm")),
            settings.user_key_parameter,
            settings.user_key_cache_seconds,
        ),
        media_bucket=settings.media_bucket,
        max_upload_bytes=settings.max_upload_bytes,
        expires_in=settings.presign_expires_seconds,
        reviewer_group=settings.reviewer_group,
        publisher=EventBridgePublisher(settings.event_bus_name, client("events")),
        clock=utc_now,
        recordings=DynamoRecordingWindows(settings.answers_table, client("dynamodb")),
        max_recordings_per_day=settings.max_answers_per_user_per_day,
    )


def _caller() -> Caller:
    return caller_from_claims(app.current_event.request_context.authorizer.jwt_claim)


@app.get(
    "/presignedurl/<project>/<step>",
    summary="Get a presigned POST form to upload the caller's video answer to a project step",
    responses={
        200: {"description": "Upload form", "content": {"application/json": {"model": PresignedUpload}}},
        400: _BAD_REQUEST,
        401: _UNAUTHORIZED,
        403: {
            "description": "The answer exists and has not failed",
            "content": {"text/plain": {"schema": {"type": "string", "example": ANSWER_EXISTS_BODY}}},
        },
        409: _BUSY,
        429: _TOO_MANY_RECORDINGS,
    },
)
def presign(project: ProjectParam, step: StepParam) -> PresignedUpload:
    upload = api_service().presign(_caller(), project, step)
    logger.info("upload presigned", extra={"project": project, "step": step})
    metrics.add_metric(name="UploadPresigned", unit="Count", value=1)
    return upload


@app.get(
    "/answers/<project>/<step>",
    summary="The caller's own answer to a project step: status, transcript and sentiment",
    responses={
        200: {"description": "The answer", "content": {"application/json": {"model": AnswerView}}},
        400: _BAD_REQUEST,
        401: _UNAUTHORIZED,
        404: _json_error("The caller has no answer to this step"),
        502: _json_error("The transcript object could not be read"),
    },
)
def own_answer(project: ProjectParam, step: StepParam) -> AnswerView:
    return api_service().own_answer(_caller(), project, step)


@app.delete(
    "/answers/<project>/<step>",
    summary="Erase the caller's own answer: video, audio, transcript, results and read model, in every service",
    responses={
        202: {
            "description": "Erasure accepted: the video and the answer record are gone, the other services follow",
            "content": {"application/json": {"model": DeletedAnswer}},
        },
        400: _BAD_REQUEST,
        401: _UNAUTHORIZED,
        404: _json_error("The caller has no answer to this step"),
        409: _BUSY,
    },
)
def delete_answer(project: ProjectParam, step: StepParam) -> Response[Any]:
    deleted = api_service().delete(_caller(), project, step)
    logger.info("answer erased", extra={"answer_id": deleted.answer_id, "attempt": deleted.attempt})
    metrics.add_metric(name="AnswerErased", unit="Count", value=1)
    return Response(
        status_code=HTTPStatus.ACCEPTED,
        content_type=content_types.APPLICATION_JSON,
        body=deleted.model_dump(mode="json"),
    )


@app.get(
    "/projects/<project>/steps/<step>/answers",
    summary="All answers to a project step, for reviewers (paginated)",
    responses={
        200: {"description": "One page of answers", "content": {"application/json": {"model": AnswerPage}}},
        400: _BAD_REQUEST,
        401: _UNAUTHORIZED,
        403: _json_error("The caller is not a reviewer"),
    },
)
def list_answers(
    project: ProjectParam,
    step: StepParam,
    limit: Annotated[int | None, Query(ge=1, le=MAX_PAGE, description="Page size")] = None,
    cursor: Annotated[str | None, Query(max_length=2048, description="next_cursor of the previous page")] = None,
) -> AnswerPage:
    return api_service().list_step(_caller(), project, step, limit, cursor)


# --- one place that maps errors to HTTP responses ----------------------------------------------------------


ErrorMapper = Callable[[Any], Response[Any]]
# Powertools leaves exception_handler's return untyped; this typed alias keeps mypy --strict meaningful.
_on_error: Callable[[type[Exception]], Callable[[ErrorMapper], ErrorMapper]] = app.exception_handler


def _message(status: HTTPStatus, message: str) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=ErrorBody(message=message).model_dump(),
    )


@_on_error(RequestValidationError)
def _invalid_request(exc: RequestValidationError) -> Response[Any]:
    # Powertools answers 422 by default; this API's contract is 400 naming the parameter.
    errors = exc.errors()
    location = errors[0].get("loc", ()) if errors else ()
    name = str(location[-1]) if location else "request"
    reason = PARAMETER_RULES.get(name, str(errors[0].get("msg", "is not valid")) if errors else "is not valid")
    return _message(HTTPStatus.BAD_REQUEST, f"invalid {name}: {reason}")


@_on_error(NotFoundError)
def _no_route_matched(exc: NotFoundError) -> Response[Any]:
    # HTTP API hands Lambda the path URL-decoded: a parameter holding "/", "?", NUL, an emoji or a combining
    # mark makes the resolver's URI pattern miss a route API Gateway did match. Judge such a request by the
    # route and parameters API Gateway matched, so it gets the same 400 naming the parameter.
    event = app.current_event
    if event.route_key in ROUTE_KEYS:
        parameters = event.path_parameters or {}
        try:
            validate_step_ref(str(parameters.get("project", "")), str(parameters.get("step", "")))
        except InvalidParameterError as invalid:
            return _message(HTTPStatus.BAD_REQUEST, str(invalid))
    return Response(
        status_code=HTTPStatus.NOT_FOUND,
        content_type=content_types.APPLICATION_JSON,
        body={"statusCode": HTTPStatus.NOT_FOUND.value, "message": "Not found"},
    )


@_on_error(InvalidParameterError)
def _invalid_parameter(exc: InvalidParameterError) -> Response[Any]:
    return _message(HTTPStatus.BAD_REQUEST, str(exc))


@_on_error(UnauthorizedError)
def _unauthorized(exc: UnauthorizedError) -> Response[Any]:
    return _message(HTTPStatus.UNAUTHORIZED, str(exc))


@_on_error(ForbiddenError)
def _forbidden(exc: ForbiddenError) -> Response[Any]:
    return _message(HTTPStatus.FORBIDDEN, str(exc))


@_on_error(AnswerExistsError)
def _answer_exists(exc: AnswerExistsError) -> Response[Any]:
    return Response(status_code=HTTPStatus.FORBIDDEN, content_type=content_types.TEXT_PLAIN, body=ANSWER_EXISTS_BODY)


@_on_error(AnswerBusyError)
def _busy(exc: AnswerBusyError) -> Response[Any]:
    return Response(
        status_code=HTTPStatus.CONFLICT,
        content_type=content_types.APPLICATION_JSON,
        body=ErrorBody(message=str(exc)).model_dump(),
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


@_on_error(RecordingLimitError)
def _too_many_recordings(exc: RecordingLimitError) -> Response[Any]:
    metrics.add_metric(name="RecordingLimitReached", unit="Count", value=1)
    return Response(
        status_code=HTTPStatus.TOO_MANY_REQUESTS,
        content_type=content_types.APPLICATION_JSON,
        body=LimitBody(message=str(exc), limit=exc.limit, window=WINDOW_NAME).model_dump(),
        headers={"Retry-After": str(exc.retry_after_seconds)},
    )


@_on_error(AnswerNotFoundError)
def _not_found(exc: AnswerNotFoundError) -> Response[Any]:
    return _message(HTTPStatus.NOT_FOUND, "no answer to this step yet")


@_on_error(TranscriptUnavailableError)
def _transcript_unavailable(exc: TranscriptUnavailableError) -> Response[Any]:
    logger.error("transcript unavailable", extra={"reason": str(exc)})
    return _message(HTTPStatus.BAD_GATEWAY, "the transcript is not available right now")


@lambda_handler(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
