"""The CodeCommit path-filter function against stubbed CodeCommit and CodePipeline (botocore Stubber).

The same cases run against the module in pipelines/path_filter and against the copy inlined into each committed
pipeline template (what Lambda actually runs), so the two cannot drift apart.
"""

import json
import types
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from pipelines.definition import SERVICES, path_filters
from pipelines.generate import load_template
from pipelines.path_filter import handler as handler_module

REPO = "vidsense"
OLD = "a" * 40
NEW = "b" * 40


def _inline_module(service: str) -> types.ModuleType:
    template = load_template(service)
    source = template["Resources"]["PathFilterFunction"]["Properties"]["Code"]["ZipFile"]
    module = types.ModuleType(f"inline_path_filter_{service}")
    exec(compile(source, "index.py", "exec"), module.__dict__)
    return module


IMPLEMENTATIONS = {"module": handler_module, **{f"inline-{s}": _inline_module(s) for s in SERVICES}}


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
def impl(request: pytest.FixtureRequest) -> Any:
    return IMPLEMENTATIONS[request.param]


@pytest.fixture(scope="module")
def raw_clients() -> tuple[Any, Any]:
    session = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1")
    return session.client("codecommit"), session.client("codepipeline")


@pytest.fixture
def clients(raw_clients: tuple[Any, Any]) -> Iterator[tuple[Any, Stubber, Any, Stubber]]:
    codecommit, codepipeline = raw_clients
    with Stubber(codecommit) as cc, Stubber(codepipeline) as cp:
        yield codecommit, cc, codepipeline, cp
        cc.assert_no_pending_responses()
        cp.assert_no_pending_responses()


def settings(impl: Any, service: str = "nlp") -> Any:
    return impl.Settings(
        pipeline_name=f"vidsense-{service}",
        repository_name=REPO,
        branch_name="main",
        path_filters=path_filters(service),
    )


def push(event: str = "referenceUpdated", branch: str = "main", old: str | None = OLD, **extra: Any) -> dict:
    detail: dict[str, Any] = {
        "event": event,
        "repositoryName": REPO,
        "repositoryId": "0000",
        "referenceType": "branch",
        "referenceName": branch,
        "referenceFullName": f"refs/heads/{branch}",
        "commitId": NEW,
        **extra,
    }
    if old is not None:
        detail["oldCommitId"] = old
    return {
        "source": "aws.codecommit",
        "detail-type": "CodeCommit Repository State Change",
        "resources": [f"arn:aws:codecommit:us-east-1:123456789012:{REPO}"],
        "detail": detail,
    }


def diff(*paths: str, token: str | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "differences": [
            {"afterBlob": {"blobId": "1" * 40, "path": p, "mode": "100644"}, "changeType": "M"} for p in paths
        ]
    }
    if token:
        response["NextToken"] = token
    return response


def expect_start(cp: Stubber, service: str = "nlp") -> None:
    cp.add_response(
        "start_pipeline_execution",
        {"pipelineExecutionId": "11111111-2222-3333-4444-555555555555"},
        {
            "name": f"vidsense-{service}",
            "clientRequestToken": NEW,
            "sourceRevisions": [{"actionName": "Source", "revisionType": "COMMIT_ID", "revisionValue": NEW}],
        },
    )


def test_starts_pipeline_pinned_to_the_pushed_commit_when_own_folder_changed(impl: Any, clients: Any) -> None:
    codecommit, cc, codepipeline, cp = clients
    cc.add_response(
        "get_differences",
        diff("docs/cicd.md", "services/nlp/src/nlp/handlers/analyze.py"),
        {"repositoryName": REPO, "beforeCommitSpecifier": OLD, "afterCommitSpecifier": NEW},
    )
    expect_start(cp)
    decision = impl.decide_and_start(push(), settings(impl), codecommit, codepipeline)
    assert decision.started
    assert decision.matched_path == "services/nlp/src/nlp/handlers/analyze.py"
    assert decision.execution_id == "11111111-2222-3333-4444-555555555555"


def test_starts_on_a_shared_build_file(impl: Any, clients: Any) -> None:
    codecommit, cc, codepipeline, cp = clients
    cc.add_response("get_differences", diff("package-lock.json"), {**_any_diff_params()})
    expect_start(cp)
    assert impl.decide_and_start(push(), settings(impl), codecommit, codepipeline).started


def test_skips_when_only_other_services_changed(impl: Any, clients: Any) -> None:
    codecommit, cc, codepipeline, _cp = clients
    cc.add_response(
        "get_differences",
        diff("services/ingest/serverless.yml", "services/transcode/src/transcode/x.py", "README.md"),
        _any_diff_params(),
    )
    decision = impl.decide_and_start(push(), settings(impl), codecommit, codepipeline)
    assert not decision.started
    assert decision.reason == "no changed path matches the filters"
    assert decision.pages == 1


def test_pages_through_differences_until_a_match(impl: Any, clients: Any) -> None:
    codecommit, cc, codepipeline, cp = clients
    cc.add_response(
        "get_differences",
        diff("services/ingest/a.py", token="page-2"),
        {"repositoryName": REPO, "beforeCommitSpecifier": OLD, "afterCommitSpecifier": NEW},
    )
    cc.add_response(
        "get_differences",
        diff("docs/b.md", token="page-3"),
        {"repositoryName": REPO, "beforeCommitSpecifier": OLD, "afterCommitSpecifier": NEW, "NextToken": "page-2"},
    )
    cc.add_response(
        "get_differences",
        diff("shared/vidsense_shared/bus.py", token="page-4"),
        {"repositoryName": REPO, "beforeCommitSpecifier": OLD, "afterCommitSpecifier": NEW, "NextToken": "page-3"},
    )
    expect_start(cp)
    decision = impl.decide_and_start(push(), settings(impl), codecommit, codepipeline)
    assert decision.started
    assert decision.pages == 3  # stops at the first match: page-4 is never requested


def test_reads_every_page_before_skipping(impl: Any, clients: Any) -> None:
    codecommit, cc, codepipeline, _cp = clients
    cc.add_response("get_differences", diff("services/ingest/a.py", token="t2"), _any_diff_params())
    cc.add_response("get_differences", diff("README.md"), {**_any_diff_params(), "NextToken": "t2"})
    decision = impl.decide_and_start(push(), settings(impl), codecommit, codepipeline)
    assert not decision.started
    assert decision.pages == 2


def test_new_branch_without_old_commit_compares_against_nothing(impl: Any, clients: Any) -> None:
    codecommit, cc, codepipeline, cp = clients
    cc.add_response(
        "get_differences",
        diff("services/nlp/serverless.yml"),
        {"repositoryName": REPO, "afterCommitSpecifier": NEW},
    )
    expect_start(cp)
    event = push(event="referenceCreated", old=None)
    assert impl.decide_and_start(event, settings(impl), codecommit, codepipeline).started


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (push(branch="feature/x"), "other branch: 'feature/x'"),
        (push(event="referenceDeleted"), "not a push: 'referenceDeleted'"),
        (push(referenceType="tag"), "not a branch: 'tag'"),
        (push(repositoryName="someone-else"), "other repository: 'someone-else'"),
        (push(commitId=""), "no commitId"),
        ({"source": "aws.codecommit"}, "event has no detail"),
    ],
)
def test_ignores_other_branches_and_non_pushes_without_calling_aws(
    impl: Any, clients: Any, event: dict, reason: str
) -> None:
    codecommit, _cc, codepipeline, _cp = clients  # no responses queued: any AWS call would fail the test
    decision = impl.decide_and_start(event, settings(impl), codecommit, codepipeline)
    assert not decision.started
    assert decision.reason == reason


def test_codecommit_errors_propagate_so_eventbridge_retries(impl: Any, clients: Any) -> None:
    codecommit, cc, codepipeline, _cp = clients
    cc.add_client_error("get_differences", service_error_code="CommitDoesNotExistException")
    with pytest.raises(codecommit.exceptions.CommitDoesNotExistException):
        impl.decide_and_start(push(), settings(impl), codecommit, codepipeline)


def _any_diff_params() -> dict[str, Any]:
    return {"repositoryName": REPO, "beforeCommitSpecifier": ANY, "afterCommitSpecifier": ANY}


def _env(service: str = "nlp") -> dict[str, str]:
    return {
        "PIPELINE_NAME": f"vidsense-{service}",
        "REPOSITORY_NAME": REPO,
        "BRANCH_NAME": "main",
        "PATH_FILTERS": json.dumps(list(path_filters(service))),
    }


def test_settings_from_env() -> None:
    s = handler_module.Settings.from_env(_env("ingest"))
    assert s.pipeline_name == "vidsense-ingest"
    assert s.path_filters == path_filters("ingest")
    assert s.source_action_name == "Source"


@pytest.mark.parametrize("bad", ["[]", '"services/**"', '[""]', "[1]"])
def test_settings_reject_bad_filters(bad: str) -> None:
    with pytest.raises(ValueError, match="PATH_FILTERS"):
        handler_module.Settings.from_env({**_env(), "PATH_FILTERS": bad})


def test_lambda_handler_reads_env_and_uses_boto3_clients(clients: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    codecommit, cc, codepipeline, cp = clients
    for key, value in _env().items():
        monkeypatch.setenv(key, value)
    by_name = {"codecommit": codecommit, "codepipeline": codepipeline}
    monkeypatch.setattr(boto3, "client", lambda name: by_name[name])
    cc.add_response("get_differences", diff("services/nlp/x.py"), _any_diff_params())
    expect_start(cp)
    result = handler_module.handler(push(), None)
    assert result["started"] is True
    assert result["matched_path"] == "services/nlp/x.py"
    json.dumps(result)  # the Lambda response must be JSON-serialisable
