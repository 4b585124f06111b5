"""GET and DELETE /answers: the caller's own answer (status, transcript, sentiment) and its erasure."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from ingest import composition
from ingest.domain.views import AnswerView, DeletedAnswer
from ingest.handlers.http_api.contract import (
    BAD_REQUEST,
    BUSY,
    NO_ANSWER,
    UNAUTHORIZED,
    ProjectParam,
    StepParam,
    caller,
    json_error,
)
from vidsense_shared.observability import logger, metrics

router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves Router.__init__ unannotated


@router.get(
    "/answers/<project>/<step>",
    summary="The caller's own answer to a project step: status, transcript and sentiment",
    responses={
        200: {"description": "The answer", "content": {"application/json": {"model": AnswerView}}},
        400: BAD_REQUEST,
        401: UNAUTHORIZED,
        404: NO_ANSWER,
        502: json_error("The transcript object could not be read"),
    },
)
def own_answer(project: ProjectParam, step: StepParam) -> AnswerView:
    return composition.answer_api().own_answer(caller(router), project, step)


@router.delete(
    "/answers/<project>/<step>",
    summary="Erase the caller's own answer: video, audio, transcript, results and read model, in every service",
    responses={
        202: {
            "description": "Erasure accepted: the video and the answer record are gone, the other services follow",
            "content": {"application/json": {"model": DeletedAnswer}},
        },
        400: BAD_REQUEST,
        401: UNAUTHORIZED,
        404: NO_ANSWER,
        409: BUSY,
    },
)
def delete_answer(project: ProjectParam, step: StepParam) -> Response[Any]:
    deleted = composition.answer_api().delete(caller(router), project, step)
    logger.info("answer erased", extra={"answer_id": deleted.answer_id, "attempt": deleted.attempt})
    metrics.add_metric(name="AnswerErased", unit="Count", value=1)
    return Response(
        status_code=HTTPStatus.ACCEPTED,
        content_type=content_types.APPLICATION_JSON,
        body=deleted.model_dump(mode="json"),
    )
