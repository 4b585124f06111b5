"""GET /projects/{project}/steps/{step}/answers: every answer to a step, for reviewers, a page at a time."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from ingest import composition
from ingest.domain.views import MAX_PAGE, AnswerPage
from ingest.handlers.http_api.contract import BAD_REQUEST, UNAUTHORIZED, ProjectParam, StepParam, caller, json_error

router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves Router.__init__ unannotated


@router.get(
    "/projects/<project>/steps/<step>/answers",
    summary="All answers to a project step, for reviewers (paginated)",
    responses={
        200: {"description": "One page of answers", "content": {"application/json": {"model": AnswerPage}}},
        400: BAD_REQUEST,
        401: UNAUTHORIZED,
        403: json_error("The caller is not a reviewer"),
    },
)
def list_answers(
    project: ProjectParam,
    step: StepParam,
    limit: Annotated[int | None, Query(ge=1, le=MAX_PAGE, description="Page size")] = None,
    cursor: Annotated[str | None, Query(max_length=2048, description="next_cursor of the previous page")] = None,
) -> AnswerPage:
    return composition.answer_api().list_step(caller(router), project, step, limit, cursor)
