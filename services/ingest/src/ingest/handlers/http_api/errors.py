"""The one error map of the HTTP API: each domain error to its status and body, and the refused requests."""

from __future__ import annotations

from collections.abc import Callable, Collection
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

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
from ingest.domain.keys import validate_step_ref
from ingest.domain.limits import WINDOW_NAME, RecordingLimitError
from ingest.domain.views import MAX_PAGE, ErrorBody, LimitBody
from ingest.handlers.http_api.contract import ANSWER_EXISTS_BODY
from vidsense_shared.observability import logger, metrics

# Why each parameter was refused, in words a client developer can act on.
PARAMETER_RULES = {
    "project": "must match [A-Za-z0-9_-]{1,64}",
    "step": "must be 0 or a number from 1 to 999 without leading zeros",
    "limit": f"must be an integer from 1 to {MAX_PAGE}",
    "cursor": "is not a cursor this API returned",
}


def _json(status: HTTPStatus, body: ErrorBody | LimitBody, retry_after: int | None = None) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump(),
        headers={"Retry-After": str(retry_after)} if retry_after is not None else None,
    )


def _message(status: HTTPStatus, message: str) -> Response[Any]:
    return _json(status, ErrorBody(message=message))


def _too_many_recordings(error: RecordingLimitError) -> Response[Any]:
    metrics.add_metric(name="RecordingLimitReached", unit="Count", value=1)
    body = LimitBody(message=str(error), limit=error.limit, window=WINDOW_NAME)
    return _json(HTTPStatus.TOO_MANY_REQUESTS, body, retry_after=error.retry_after_seconds)


def _transcript_unavailable(error: TranscriptUnavailableError) -> Response[Any]:
    logger.error("transcript unavailable", extra={"reason": str(error)})
    return _message(HTTPStatus.BAD_GATEWAY, "the transcript is not available right now")


# Domain error -> the response the API answers with. Messages of the first three name the problem for the
# client; the others are fixed or carry what the client needs to retry.
ERROR_RESPONSES: dict[type[Exception], Callable[[Any], Response[Any]]] = {
    InvalidParameterError: lambda error: _message(HTTPStatus.BAD_REQUEST, str(error)),
    UnauthorizedError: lambda error: _message(HTTPStatus.UNAUTHORIZED, str(error)),
    ForbiddenError: lambda error: _message(HTTPStatus.FORBIDDEN, str(error)),
    AnswerExistsError: lambda _: Response(
        status_code=HTTPStatus.FORBIDDEN, content_type=content_types.TEXT_PLAIN, body=ANSWER_EXISTS_BODY
    ),
    AnswerNotFoundError: lambda _: _message(HTTPStatus.NOT_FOUND, "no answer to this step yet"),
    AnswerBusyError: lambda error: _json(HTTPStatus.CONFLICT, ErrorBody(message=str(error)), RETRY_AFTER_SECONDS),
    RecordingLimitError: _too_many_recordings,
    TranscriptUnavailableError: _transcript_unavailable,
}


def register(app: APIGatewayHttpResolver, route_keys: Collection[str]) -> None:
    """Answer every domain error by the map, and refused requests with 400 naming the parameter or 404."""
    # Powertools leaves exception_handler's return untyped; this typed alias keeps mypy --strict meaningful.
    on_error: Callable[[type[Exception]], Callable[[Callable[[Any], Response[Any]]], object]] = app.exception_handler
    for error, respond in ERROR_RESPONSES.items():
        on_error(error)(respond)

    @on_error(RequestValidationError)
    def invalid_request(exc: RequestValidationError) -> Response[Any]:
        # Powertools answers 422 by default; this API's contract is 400 naming the parameter.
        errors = exc.errors()
        location = errors[0].get("loc", ()) if errors else ()
        name = str(location[-1]) if location else "request"
        reason = PARAMETER_RULES.get(name, str(errors[0].get("msg", "is not valid")) if errors else "is not valid")
        return _message(HTTPStatus.BAD_REQUEST, f"invalid {name}: {reason}")

    @on_error(NotFoundError)
    def no_route_matched(exc: NotFoundError) -> Response[Any]:
        # HTTP API hands Lambda the path URL-decoded: a parameter holding "/", "?", NUL, an emoji or a combining
        # mark makes the resolver's URI pattern miss a route API Gateway did match. Judge such a request by the
        # route and parameters API Gateway matched, so it gets the same 400 naming the parameter.
        event = app.current_event
        if event.route_key in route_keys:
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
