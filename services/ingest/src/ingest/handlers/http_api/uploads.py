"""GET /presignedurl: a presigned POST form for the caller's video answer."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from ingest import composition
from ingest.domain.views import PresignedUpload
from ingest.handlers.http_api.contract import (
    ANSWER_EXISTS_BODY,
    BAD_REQUEST,
    BUSY,
    TOO_MANY_RECORDINGS,
    UNAUTHORIZED,
    ProjectParam,
    StepParam,
    caller,
)
from vidsense_shared.observability import logger, metrics

router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves Router.__init__ unannotated


@router.get(
    "/presignedurl/<project>/<step>",
    summary="Get a presigned POST form to upload the caller's video answer to a project step",
    responses={
        200: {"description": "Upload form", "content": {"application/json": {"model": PresignedUpload}}},
        400: BAD_REQUEST,
        401: UNAUTHORIZED,
        403: {
            "description": "The answer exists and has not failed",
            "content": {"text/plain": {"schema": {"type": "string", "example": ANSWER_EXISTS_BODY}}},
        },
        409: BUSY,
        429: TOO_MANY_RECORDINGS,
    },
)
def presign(project: ProjectParam, step: StepParam) -> PresignedUpload:
    upload = composition.answer_api().presign(caller(router), project, step)
    logger.info("upload presigned", extra={"project": project, "step": step})
    metrics.add_metric(name="UploadPresigned", unit="Count", value=1)
    return upload
