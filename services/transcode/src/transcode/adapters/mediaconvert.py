"""MediaConvert CreateJob from the committed job template (mediaconvert_job.json)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from transcode.domain.mediaconvert import FILE_GROUP, JobStateChangeDetail, OutputDetail, OutputGroupDetail
from transcode.domain.ports import TranscodeJob, TranscodeRejectedError, TranscodeRequest
from vidsense_shared.aws_errors import error_code, error_message

if TYPE_CHECKING:
    from mypy_boto3_mediaconvert import MediaConvertClient

TEMPLATE_NAME = "mediaconvert_job.json"
# CreateJob errors that mean "this request will never succeed"; everything else (TooManyRequests,
# InternalServerError, ServiceQuotaExceeded, Forbidden, NotFound, Conflict) is raised for a retry.
PERMANENT_ERRORS = frozenset({"BadRequestException"})


class TemplateError(ValueError):
    """The committed job template does not have the shape the adapter fills in."""


@cache
def load_template() -> dict[str, Any]:
    text = resources.files("transcode.adapters").joinpath(TEMPLATE_NAME).read_text(encoding="utf-8")
    template: dict[str, Any] = {k: v for k, v in json.loads(text).items() if not k.startswith("_")}
    _check_shape(template)
    return template


def _check_shape(template: dict[str, Any]) -> None:
    settings = template.get("Settings", {})
    inputs = settings.get("Inputs", [])
    file_groups = [
        g
        for g in settings.get("OutputGroups", [])
        if g.get("OutputGroupSettings", {}).get("Type") == "FILE_GROUP_SETTINGS"
    ]
    if len(inputs) != 1 or len(file_groups) != 1:
        raise TemplateError("the job template needs exactly one input and one FILE_GROUP output group")


def build_create_job_request(
    template: dict[str, Any], request: TranscodeRequest, *, role_arn: str, queue_arn: str | None
) -> dict[str, Any]:
    """The CreateJob parameters: the template with this job's input, destination and identity filled in."""
    params = copy.deepcopy(template)
    settings = params["Settings"]
    settings["Inputs"][0]["FileInput"] = request.input_uri
    for group in settings["OutputGroups"]:
        group_settings = group["OutputGroupSettings"]
        if group_settings["Type"] == "FILE_GROUP_SETTINGS":
            group_settings["FileGroupSettings"]["Destination"] = request.destination_uri
    params["Role"] = role_arn
    params["UserMetadata"] = dict(request.user_metadata)
    params["ClientRequestToken"] = request.client_request_token
    if queue_arn:
        params["Queue"] = queue_arn
    return params


class MediaConvertTranscoder:
    def __init__(
        self,
        client: MediaConvertClient,
        *,
        role_arn: str,
        queue_arn: str | None = None,
        template: dict[str, Any] | None = None,
    ) -> None:
        self._client = client
        self._role_arn = role_arn
        self._queue_arn = queue_arn
        self._template = template if template is not None else load_template()

    def create_job(self, request: TranscodeRequest) -> str:
        params = build_create_job_request(self._template, request, role_arn=self._role_arn, queue_arn=self._queue_arn)
        try:
            response = self._client.create_job(**params)
        except ClientError as exc:
            code = error_code(exc)
            if code in PERMANENT_ERRORS:
                raise TranscodeRejectedError(code, error_message(exc) or str(exc)) from exc
            raise
        return response["Job"]["Id"]


def _file_outputs(job: Any) -> list[OutputGroupDetail]:
    """The written files of a finished job, as its COMPLETE event lists them.

    GetJob's OutputGroupDetails carry durations but no file paths; MediaConvert names each file
    ``{Destination}{NameModifier}.{Extension}``, so the paths follow from the job's own settings. The details
    list follows the settings' output groups and outputs one for one.
    """
    details = job.get("OutputGroupDetails", [])
    groups: list[OutputGroupDetail] = []
    for index, group in enumerate(job.get("Settings", {}).get("OutputGroups", [])):
        group_settings = group.get("OutputGroupSettings", {})
        if group_settings.get("Type") != "FILE_GROUP_SETTINGS":
            continue
        destination = group_settings.get("FileGroupSettings", {}).get("Destination", "")
        durations = [
            d.get("DurationInMs") for d in (details[index].get("OutputDetails", []) if index < len(details) else [])
        ]
        outputs = []
        for position, output in enumerate(group.get("Outputs", [])):
            path = f"{destination}{output.get('NameModifier', '')}.{output.get('Extension', '')}"
            duration = durations[position] if position < len(durations) else None
            outputs.append(OutputDetail.model_validate({"outputFilePaths": [path], "durationInMs": duration}))
        groups.append(OutputGroupDetail.model_validate({"type": FILE_GROUP, "outputDetails": outputs}))
    return groups


class MediaConvertJobs:
    """GetJob for the reconciler (no role or template needed to read a job)."""

    def __init__(self, client: MediaConvertClient) -> None:
        self._client = client

    def find(self, job_id: str) -> TranscodeJob | None:
        try:
            job: Any = self._client.get_job(Id=job_id)["Job"]
        except ClientError as exc:
            if error_code(exc) == "NotFoundException":
                return None
            raise
        status = job.get("Status", "UNKNOWN")
        detail = JobStateChangeDetail.model_validate(
            {
                "jobId": job.get("Id", job_id),
                "status": status,
                "userMetadata": job.get("UserMetadata", {}),
                "errorCode": job.get("ErrorCode"),
                "errorMessage": job.get("ErrorMessage"),
                "outputGroupDetails": _file_outputs(job) if status == "COMPLETE" else [],
            }
        )
        return TranscodeJob(detail=detail, finished_at=job.get("Timing", {}).get("FinishTime"))


def discover_endpoint(client: MediaConvertClient) -> str:
    """The account's MediaConvert endpoint via DescribeEndpoints (older accounts; new ones use the regional one)."""
    endpoints = client.describe_endpoints(Mode="DEFAULT").get("Endpoints", [])
    if not endpoints or "Url" not in endpoints[0]:
        raise RuntimeError("DescribeEndpoints returned no MediaConvert endpoint")
    return endpoints[0]["Url"]


def resolve_endpoint(
    configured: str | None, discover: bool, client_factory: Callable[[str | None], MediaConvertClient]
) -> str | None:
    """The endpoint to use: the configured one, a discovered one, or None for the client's default."""
    if configured:
        return configured
    if discover:
        return discover_endpoint(client_factory(None))
    return None
