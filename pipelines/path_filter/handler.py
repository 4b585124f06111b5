"""Lambda entry point: a "CodeCommit Repository State Change" event in, maybe a pipeline start out.

The rule in the pipeline template already selects pushes (``referenceCreated``/``referenceUpdated``) to one
branch of one repository; the function checks again (a rule edited by hand must not start the wrong
pipeline), pages through ``GetDifferences`` between the old and the new commit, and calls
``StartPipelineExecution`` pinned to the pushed commit when a changed path matches the service's filters.

Settings (environment): ``PIPELINE_NAME``, ``REPOSITORY_NAME``, ``BRANCH_NAME``, ``PATH_FILTERS`` (a JSON
list of globs), ``SOURCE_ACTION_NAME`` (default ``Source``).
"""

import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import boto3

from pipelines.path_filter.matching import changed_paths, first_match

LOGGER = logging.getLogger("vidsense.path_filter")
LOGGER.setLevel(os.environ.get("LOG_LEVEL", "INFO"))

PUSH_EVENTS = frozenset({"referenceCreated", "referenceUpdated"})


class CodeCommitClient(Protocol):
    def get_differences(self, **kwargs: Any) -> Mapping[str, Any]: ...


class CodePipelineClient(Protocol):
    def start_pipeline_execution(self, **kwargs: Any) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class Settings:
    pipeline_name: str
    repository_name: str
    branch_name: str
    path_filters: tuple[str, ...]
    source_action_name: str = "Source"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "Settings":
        filters = json.loads(env["PATH_FILTERS"])
        if not isinstance(filters, list) or not filters or not all(isinstance(f, str) and f for f in filters):
            raise ValueError("PATH_FILTERS must be a non-empty JSON list of glob strings")
        return cls(
            pipeline_name=env["PIPELINE_NAME"],
            repository_name=env["REPOSITORY_NAME"],
            branch_name=env["BRANCH_NAME"],
            path_filters=tuple(filters),
            source_action_name=env.get("SOURCE_ACTION_NAME", "Source"),
        )


@dataclass(frozen=True)
class Decision:
    started: bool
    reason: str
    matched_path: str | None = None
    execution_id: str | None = None
    pages: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "started": self.started,
            "reason": self.reason,
            "matched_path": self.matched_path,
            "execution_id": self.execution_id,
            "pages": self.pages,
        }


def _skip_reason(detail: Mapping[str, Any], settings: Settings) -> str | None:
    if detail.get("event") not in PUSH_EVENTS:
        return f"not a push: {detail.get('event')!r}"
    if detail.get("referenceType") != "branch":
        return f"not a branch: {detail.get('referenceType')!r}"
    if detail.get("repositoryName") != settings.repository_name:
        return f"other repository: {detail.get('repositoryName')!r}"
    if detail.get("referenceName") != settings.branch_name:
        return f"other branch: {detail.get('referenceName')!r}"
    if not isinstance(detail.get("commitId"), str) or not detail["commitId"]:
        return "no commitId"
    return None


def _find_match(
    codecommit: CodeCommitClient, settings: Settings, old_commit: str | None, new_commit: str
) -> tuple[str | None, int]:
    """The first changed path matching the filters (None if none) and the number of pages read."""
    request: dict[str, Any] = {"repositoryName": settings.repository_name, "afterCommitSpecifier": new_commit}
    if old_commit:
        request["beforeCommitSpecifier"] = old_commit
    pages = 0
    while True:
        page = codecommit.get_differences(**request)
        pages += 1
        differences: Sequence[Mapping[str, Any]] = page.get("differences", [])
        matched = first_match(changed_paths(differences), settings.path_filters)
        if matched is not None:
            return matched, pages
        token = page.get("NextToken")
        if not token:
            return None, pages
        request["NextToken"] = token


def decide_and_start(
    event: Mapping[str, Any],
    settings: Settings,
    codecommit: CodeCommitClient,
    codepipeline: CodePipelineClient,
) -> Decision:
    """Start ``settings.pipeline_name`` for this push when a changed path matches; otherwise do nothing."""
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        return Decision(False, "event has no detail")
    reason = _skip_reason(detail, settings)
    if reason is not None:
        return Decision(False, reason)
    new_commit: str = detail["commitId"]
    old_commit = detail.get("oldCommitId") if isinstance(detail.get("oldCommitId"), str) else None
    matched, pages = _find_match(codecommit, settings, old_commit, new_commit)
    if matched is None:
        return Decision(False, "no changed path matches the filters", pages=pages)
    response = codepipeline.start_pipeline_execution(
        name=settings.pipeline_name,
        clientRequestToken=new_commit,
        sourceRevisions=[
            {
                "actionName": settings.source_action_name,
                "revisionType": "COMMIT_ID",
                "revisionValue": new_commit,
            }
        ],
    )
    return Decision(
        True,
        "changed path matches",
        matched_path=matched,
        execution_id=str(response.get("pipelineExecutionId")),
        pages=pages,
    )


def handler(event: Mapping[str, Any], context: object) -> dict[str, Any]:
    """Lambda handler (``index.handler`` once inlined into the pipeline template)."""
    settings = Settings.from_env(os.environ)
    decision = decide_and_start(event, settings, boto3.client("codecommit"), boto3.client("codepipeline"))
    LOGGER.info(json.dumps({"pipeline": settings.pipeline_name, **decision.as_dict()}))
    return decision.as_dict()
