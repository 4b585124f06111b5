"""The committed pipeline templates: cfn-lint clean, stage order, smoke test and notified approval before prod,
per-service paths in both source modes, least-privilege IAM that cannot escalate (permissions boundary, guard
denials, no people's data) and an encrypted artifact store."""

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pipelines import deploy_policy, lint
from pipelines.definition import (
    BOUNDARY_ACTIONS,
    SERVICE_RESOURCE_TYPES,
    SERVICES,
    SITE_PATHS,
    SITE_PIPELINE,
    SITE_RESOURCE_TYPES,
    SITE_SPEC,
    SMOKE_COGNITO_ACTIONS,
    STAGE_NAMES,
    STAGES,
    path_filters,
)
from pipelines.generate import DEPLOY_STAGE_PARAMETERS, MANAGED_POLICY_LIMIT, load_template, resolved_size, yaml
from tests.integration.pipelines import iam
from vidsense_shared.resources import StageResources

ROOT = Path(__file__).resolve().parents[3]

SOURCE_MODES = {
    "connections": {"UseConnections": True, "UseCodeCommit": False, "CreateRepository": False},
    "codecommit": {"UseConnections": False, "UseCodeCommit": True, "CreateRepository": True},
    "codecommit-existing-repo": {"UseConnections": False, "UseCodeCommit": True, "CreateRepository": False},
}
# The other conditions, at their defaults (empty e-mail addresses, cognito identity, GitHub links).
DEFAULT_SETTINGS = {
    "HasAlertEmail": False,
    "HasApprovalEmail": False,
    "HasCommitUrlPrefix": False,
    "UseExternalIdentity": False,
    "HasDevWebCertificate": False,
    "HasProdWebCertificate": False,
}
MODES = {name: {**DEFAULT_SETTINGS, **conditions} for name, conditions in SOURCE_MODES.items()}
NO_VALUE = {"Ref": "AWS::NoValue"}


def resolve(node: Any, conditions: dict[str, bool]) -> Any:
    """``node`` with every Fn::If decided and AWS::NoValue removed (what CloudFormation would see)."""
    if isinstance(node, dict):
        if set(node) == {"Fn::If"}:
            name, then, otherwise = node["Fn::If"]
            return resolve(then if conditions[name] else otherwise, conditions)
        out = {}
        for key, value in node.items():
            resolved = resolve(value, conditions)
            if resolved != NO_VALUE:
                out[key] = resolved
        return out
    if isinstance(node, list):
        return [r for r in (resolve(v, conditions) for v in node) if r != NO_VALUE]
    return node


def effective(service: str, mode: str) -> dict[str, Any]:
    template = load_template(service)
    conditions = MODES[mode]
    resources = {
        name: resource
        for name, resource in template["Resources"].items()
        if conditions.get(resource.get("Condition", ""), True)
    }
    return resolve({**template, "Resources": resources}, conditions)


@pytest.fixture(scope="module")
def lint_findings() -> list[dict[str, Any]]:
    return lint.run_cfn_lint(lint.templates())


def test_cfn_lint_reports_no_errors_and_only_listed_warnings(lint_findings: list[dict[str, Any]]) -> None:
    assert not lint.unexpected(lint_findings), "\n".join(map(lint.describe, lint.unexpected(lint_findings)))
    assert {Path(f["Filename"]).name for f in lint_findings} <= {f"pipeline-{s}.yml" for s in SERVICES}


def test_lint_gate_rejects_errors_and_unlisted_warnings() -> None:
    def finding(rule: str, level: str, path: list[str]) -> dict[str, Any]:
        return {"Rule": {"Id": rule}, "Level": level, "Location": {"Path": path}}

    allowed = finding("W1030", "Warning", ["Parameters", "ConnectionArn", "Default"])
    assert lint.unexpected([allowed]) == []
    for bad in (
        finding("W1030", "Warning", ["Resources", "Pipeline"]),
        finding("W3005", "Warning", ["Parameters", "ConnectionArn", "Default"]),
        finding("E3012", "Error", ["Parameters", "ConnectionArn", "Default"]),
    ):
        assert lint.unexpected([allowed, bad]) == [bad]


def stages(template: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = template["Resources"]["Pipeline"]["Properties"]["Stages"]
    return result


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("service", SERVICES)
def test_stages_in_order_with_manual_approval_before_prod(service: str, mode: str) -> None:
    template = effective(service, mode)
    pipeline = template["Resources"]["Pipeline"]["Properties"]
    assert pipeline["PipelineType"] == "V2"
    assert [s["Name"] for s in stages(template)] == list(STAGE_NAMES)
    assert list(STAGE_NAMES) == ["Source", "Build", "DeployDev", "SmokeDev", "ApprovalBeforeProd", "DeployProd"]
    by_name = {s["Name"]: s["Actions"] for s in stages(template)}
    approval = by_name["ApprovalBeforeProd"]
    assert len(approval) == 1
    assert approval[0]["ActionTypeId"] == {"Category": "Approval", "Owner": "AWS", "Provider": "Manual", "Version": "1"}
    for stage in ("Build", "SmokeDev"):
        assert [a["ActionTypeId"]["Provider"] for a in by_name[stage]] == ["CodeBuild"]
    for stage in ("DeployDev", "DeployProd"):
        # ingest's deploy is followed, in the same stage, by the web site stack that imports its API's origin.
        runs = [1, 2] if service == SITE_PIPELINE else [1]
        assert [a["ActionTypeId"]["Provider"] for a in by_name[stage]] == ["CodeBuild"] * len(runs)
        assert [a["RunOrder"] for a in by_name[stage]] == runs
    # The smoke test of dev runs right after its deploy; nothing but the approval stands between it and prod.
    names = [s["Name"] for s in stages(template)]
    at = names.index("DeployDev")
    assert names[at : at + 4] == ["DeployDev", "SmokeDev", "ApprovalBeforeProd", "DeployProd"]
    assert by_name["SmokeDev"][0]["Configuration"]["ProjectName"] == {"Ref": "SmokeDevProject"}


@pytest.mark.parametrize("service", SERVICES)
def test_build_and_deploy_projects_run_the_committed_buildspecs_for_this_service(service: str) -> None:
    resources = effective(service, "connections")["Resources"]
    by_stage = {s["Name"]: s["Actions"][0] for s in stages(effective(service, "connections"))}

    def deploy_env(stage: str) -> dict[str, Any]:
        return {
            "SERVICE": service,
            "STAGE": stage,
            "VIDSENSE_PERMISSIONS_BOUNDARY_ARN": {"Ref": f"{stage.capitalize()}RolesBoundary"},
            "VIDSENSE_IDENTITY": {"Ref": "Identity"},
        }

    expected = {
        "Build": ("BuildProject", "pipelines/buildspec-build.yml", {"SERVICE": service}),
        "DeployDev": ("DeployDevProject", "pipelines/buildspec-deploy.yml", deploy_env("dev")),
        "SmokeDev": (
            "SmokeDevProject",
            "pipelines/buildspec-smoke.yml",
            {"SERVICE": service, "STAGE": "dev", "VIDSENSE_IDENTITY": {"Ref": "Identity"}},
        ),
        "DeployProd": ("DeployProdProject", "pipelines/buildspec-deploy.yml", deploy_env("prod")),
    }
    for stage, (project, spec, variables) in expected.items():
        assert by_stage[stage]["Configuration"]["ProjectName"] == {"Ref": project}
        props = resources[project]["Properties"]
        assert props["Source"] == {"Type": "CODEPIPELINE", "BuildSpec": spec}
        assert (ROOT / spec).is_file()
        env = {v["Name"]: v["Value"] for v in props["Environment"]["EnvironmentVariables"]}
        assert env == variables  # (defaults: no alert e-mail, cognito identity)
        assert props["EncryptionKey"] == {"Fn::GetAtt": ["ArtifactKey", "Arn"]}
    # Deploys use the build's output (the tested revision), never the raw source.
    assert by_stage["DeployDev"]["InputArtifacts"] == by_stage["Build"]["OutputArtifacts"]
    assert by_stage["DeployProd"]["InputArtifacts"] == by_stage["Build"]["OutputArtifacts"]
    assert by_stage["SmokeDev"]["InputArtifacts"] == by_stage["Build"]["OutputArtifacts"]


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return {m.group(1) for m in re.finditer(r"^([A-Za-z][\w-]*)\s*:(?!=)", text, re.MULTILINE)}


@pytest.mark.parametrize("name", ["build", "deploy", "smoke", "deploy-web"])
def test_buildspecs_are_codebuild_0_2_with_python_312_and_node_20(name: str) -> None:
    spec = yaml.safe_load((ROOT / "pipelines" / f"buildspec-{name}.yml").read_text())
    assert spec["version"] == 0.2
    assert spec["phases"]["install"]["runtime-versions"] == {"python": "3.12", "nodejs": "20"}
    assert spec["phases"]["build"]["commands"]


def test_buildspecs_call_the_makefile_targets_ci_uses() -> None:
    build = (ROOT / "pipelines" / "buildspec-build.yml").read_text()
    called = set(re.findall(r"\bmake ([a-z][\w-]*)", build))
    assert {"test", "package"} <= called
    ci = (ROOT / ".ci" / "run").read_text()
    assert set(re.findall(r"\bmake ([a-z][\w-]*)", ci)) <= called  # the pipeline runs what CI runs
    missing = called - makefile_targets()
    assert not missing, f"buildspec-build.yml calls Makefile targets that do not exist: {sorted(missing)}"
    deploy = (ROOT / "pipelines" / "buildspec-deploy.yml").read_text()
    assert 'cd "services/${SERVICE}" && npx serverless deploy --stage "${STAGE}"' in deploy
    smoke = (ROOT / "pipelines" / "buildspec-smoke.yml").read_text()
    assert "make smoke STAGE=$STAGE" in smoke
    assert "smoke" in makefile_targets()


def test_smoke_role_grants_every_cognito_call_of_the_smoke_test() -> None:
    source = (ROOT / "ops" / "vidsense_ops" / "smoke.py").read_text()
    calls = set(re.findall(r"\.(admin_[a-z_]+)\(", source))
    assert calls, "the smoke test makes no Cognito admin call"
    needed = {"cognito-idp:" + "".join(part.capitalize() for part in call.split("_")) for call in calls}
    assert needed == set(SMOKE_COGNITO_ACTIONS)  # all it calls, nothing more


@pytest.mark.parametrize("service", SERVICES)
def test_connections_mode_triggers_on_own_and_shared_paths_only(service: str) -> None:
    template = effective(service, "connections")
    pipeline = template["Resources"]["Pipeline"]["Properties"]
    [trigger] = pipeline["Triggers"]
    assert trigger["ProviderType"] == "CodeStarSourceConnection"
    assert trigger["GitConfiguration"]["SourceActionName"] == "Source"
    [push] = trigger["GitConfiguration"]["Push"]
    assert push["Branches"] == {"Includes": [{"Ref": "BranchName"}]}
    includes = push["FilePaths"]["Includes"]
    assert f"services/{service}/**" in includes
    for shared in ("shared/**", "deploy/**", "requirements/**", "pipelines/buildspec-*.yml"):
        assert shared in includes
    root_files = next(p for p in includes if p.startswith("{"))
    for name in ("Makefile", "package.json", "package-lock.json", "serverless-compose.yml", "pyproject.toml"):
        assert name in root_files[1:-1].split(",")
    for other in SERVICES:
        if other != service:
            assert not any(other in p for p in includes), (other, includes)
    [source] = stages(template)[0]["Actions"]
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"]["DetectChanges"] is False  # only the filtered trigger starts it
    assert source["Configuration"]["ConnectionArn"] == {"Ref": "ConnectionArn"}
    assert not any(name.startswith("PathFilter") for name in template["Resources"])
    assert "CodeCommitRepository" not in template["Resources"]


@pytest.mark.parametrize("mode", ["codecommit", "codecommit-existing-repo"])
@pytest.mark.parametrize("service", SERVICES)
def test_codecommit_mode_is_started_only_by_the_path_filter_function(service: str, mode: str) -> None:
    template = effective(service, mode)
    resources = template["Resources"]
    pipeline = resources["Pipeline"]["Properties"]
    assert "Triggers" not in pipeline
    [source] = stages(template)[0]["Actions"]
    assert source["ActionTypeId"]["Provider"] == "CodeCommit"
    assert source["Configuration"]["PollForSourceChanges"] is False
    assert ("CodeCommitRepository" in resources) == (mode == "codecommit")

    rule = resources["PathFilterRule"]["Properties"]
    pattern = rule["EventPattern"]
    assert pattern["source"] == ["aws.codecommit"]
    assert pattern["detail-type"] == ["CodeCommit Repository State Change"]
    assert pattern["detail"]["event"] == ["referenceCreated", "referenceUpdated"]
    assert pattern["detail"]["referenceType"] == ["branch"]
    assert pattern["detail"]["referenceName"] == [{"Ref": "BranchName"}]
    [target] = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["PathFilterFunction", "Arn"]}
    assert "DeadLetterConfig" in target

    function = resources["PathFilterFunction"]["Properties"]
    env = function["Environment"]["Variables"]
    assert env["PIPELINE_NAME"] == pipeline["Name"] == f"vidsense-{service}"
    assert tuple(json.loads(env["PATH_FILTERS"])) == path_filters(service)
    # Both source modes filter on the same paths.
    trigger_paths = effective(service, "connections")["Resources"]["Pipeline"]["Properties"]["Triggers"][0]
    assert trigger_paths["GitConfiguration"]["Push"][0]["FilePaths"]["Includes"] == json.loads(env["PATH_FILTERS"])
    assert function["Handler"] == "index.handler"
    assert function["Runtime"] == "python3.12"

    role = resources["PathFilterRole"]["Properties"]
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    actions = {a for s in statements for a in s["Action"]}
    assert actions == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "codecommit:GetDifferences",
        "codepipeline:StartPipelineExecution",
        "sqs:SendMessage",
    }
    start = next(s for s in statements if s["Action"] == ["codepipeline:StartPipelineExecution"])
    assert start["Resource"] == [
        {"Fn::Sub": f"arn:${{AWS::Partition}}:codepipeline:${{AWS::Region}}:${{AWS::AccountId}}:vidsense-{service}"}
    ]
    diff = next(s for s in statements if s["Action"] == ["codecommit:GetDifferences"])
    assert diff["Resource"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:codecommit:${AWS::Region}:${AWS::AccountId}:${CodeCommitRepositoryName}"}
    ]


def policy_documents(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for name, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        for policy in props.get("Policies", []):
            docs.append((f"{name}/{policy['PolicyName']}", policy["PolicyDocument"]))
        for key in ("PolicyDocument", "KeyPolicy", "AssumeRolePolicyDocument"):
            if key in props:
                docs.append((f"{name}/{key}", props[key]))
    return docs


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("service", SERVICES)
def test_no_wildcard_actions_and_star_resources_only_where_iam_allows_nothing_else(service: str, mode: str) -> None:
    template = effective(service, mode)
    docs = policy_documents(template)
    assert len(docs) >= 8
    for where, doc in docs:
        for statement in doc["Statement"]:
            if statement["Effect"] != "Allow":
                continue
            actions = as_list(statement["Action"])
            assert not [a for a in actions if "*" in a], where
            assert "NotAction" not in statement and "NotResource" not in statement, where
            if "*" in as_list(statement.get("Resource", [])) and not where.endswith("/KeyPolicy"):
                if where.endswith("RolesBoundary/PolicyDocument"):  # the functions' own unscoped actions
                    assert all(
                        a in deploy_policy.BOUNDARY_UNSCOPED
                        or a.split(":")[0] in deploy_policy.BOUNDARY_UNSCOPED_PREFIXES
                        for a in actions
                    ), (where, actions)
                else:
                    assert set(actions) <= deploy_policy.NO_RESOURCE_LEVEL, (where, actions)


def role_statements(resources: dict[str, Any], role_name: str) -> list[dict[str, Any]]:
    """Every statement ``role_name`` holds: its inline policies and the managed policies attached to it."""
    inline = [s for p in resources[role_name]["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]
    managed = [
        s
        for r in resources.values()
        if r["Type"] == "AWS::IAM::ManagedPolicy" and {"Ref": role_name} in r["Properties"].get("Roles", [])
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    ]
    return inline + managed


def deploy_statements_of(resources: dict[str, Any], stage: str) -> list[dict[str, Any]]:
    """The Allow statements of the deploy role of ``stage`` (inline and attached managed policies)."""
    statements = role_statements(resources, f"Deploy{stage.capitalize()}Role")
    assert len(statements) > 5, f"no deploy permissions attached to Deploy{stage.capitalize()}Role"
    return [s for s in statements if s["Effect"] == "Allow"]


@pytest.mark.parametrize("service", SERVICES)
def test_deploy_roles_are_scoped_to_their_service_and_stage(service: str) -> None:
    resources = effective(service, "connections")["Resources"]
    for stage, other_stage in (("dev", "prod"), ("prod", "dev")):
        statements = deploy_statements_of(resources, stage)
        text = json.dumps(statements)
        assert f"stack/vidsense-{service}-{stage}/*" in text
        assert f"-{other_stage}" not in text and f"/{other_stage}/" not in text
        for other in SERVICES:
            if other != service:  # neither the other stacks (vidsense-<other>-<stage>) nor their names
                assert f"-{other}" not in text, other
        for name, owner in (
            ("-answers", "ingest"),
            ("-media-", "ingest"),
            ("-work-", "transcode"),
            ("-metadata", "nlp"),
        ):
            assert (name in text) == (service == owner), name
        stack_statement = next(s for s in statements if s.get("Sid") == "ServiceStack")
        assert stack_statement["Resource"] == [
            {
                "Fn::Sub": "arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:"
                f"stack/vidsense-{service}-{stage}/*"
            }
        ]
        pass_role = next(s for s in statements if s["Action"] == ["iam:PassRole"])
        assert "iam:PassedToService" in pass_role["Condition"]["StringEquals"]
    # Only ingest (the API and bus owner) may touch API Gateway and the bus.
    text = json.dumps(deploy_statements_of(resources, "dev"))
    assert ("apigateway:" in text) == (service == "ingest")
    assert ("events:CreateEventBus" in text) == (service == "ingest")


@pytest.mark.parametrize("service", SERVICES)
def test_policies_fit_iam_size_limits(service: str) -> None:
    resources = load_template(service)["Resources"]
    for name, resource in resources.items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::ManagedPolicy":
            assert resolved_size(props["PolicyDocument"]) <= MANAGED_POLICY_LIMIT, name
        if resource["Type"] == "AWS::IAM::Role":
            inline = sum(resolved_size(p["PolicyDocument"]) + len(p["PolicyName"]) for p in props["Policies"])
            assert inline <= 10240, name  # IAM: aggregate inline policy size per role
            attached = [
                r
                for r in resources.values()
                if r["Type"] == "AWS::IAM::ManagedPolicy" and {"Ref": name} in r["Properties"].get("Roles", [])
            ]
            assert len(attached) <= 10, name  # IAM: managed policies per role (default quota)


@pytest.mark.parametrize("service", SERVICES)
def test_build_role_cannot_deploy(service: str) -> None:
    role = effective(service, "connections")["Resources"]["BuildRole"]["Properties"]
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    actions = {a for s in statements if s["Effect"] == "Allow" for a in s["Action"]}
    assert {a.split(":")[0] for a in actions} == {"logs", "s3", "kms"}
    assert "s3:PutObject" in actions


@pytest.mark.parametrize("service", SERVICES)
def test_artifact_bucket_is_encrypted_private_versioned_and_tls_only(service: str) -> None:
    resources = effective(service, "connections")["Resources"]
    bucket = resources["ArtifactBucket"]["Properties"]
    [rule] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": {"Fn::GetAtt": ["ArtifactKey", "Arn"]},
    }
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert resources["ArtifactKey"]["Properties"]["EnableKeyRotation"] is True
    policy = resources["ArtifactBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    tls = next(s for s in policy if s["Sid"] == "DenyInsecureTransport")
    assert tls["Effect"] == "Deny"
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    store = resources["Pipeline"]["Properties"]["ArtifactStore"]
    assert store["Location"] == {"Ref": "ArtifactBucket"}
    assert store["EncryptionKey"] == {"Id": {"Fn::GetAtt": ["ArtifactKey", "Arn"]}, "Type": "KMS"}


def deploy_actions(resources: dict[str, Any], stage: str) -> list[str]:
    """The actions of the managed policies attached to the deploy role (the serverless deploy permissions)."""
    role = {"Ref": f"Deploy{stage.capitalize()}Role"}
    return [
        a
        for r in resources.values()
        if r["Type"] == "AWS::IAM::ManagedPolicy" and role in r["Properties"].get("Roles", [])
        for s in r["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Allow"
        for a in s["Action"]
    ]


@pytest.mark.parametrize("service", SERVICES)
def test_deploy_roles_hold_cloudformations_handler_permissions_for_the_stacks_resource_types(service: str) -> None:
    resources = effective(service, "connections")["Resources"]
    required = deploy_policy.required_actions(service)
    assert {"lambda:CreateFunction", "iam:PassRole", "cloudformation:UpdateStack", "s3:PutObject"} <= required
    for stage in ("dev", "prod"):
        granted = deploy_actions(resources, stage)
        # An action sits in one statement, except where it needs two resource scopes (own stack + sibling
        # outputs; an alias and its target key; the deployment bucket and, without its objects, the service's).
        repeated = {a for a in granted if granted.count(a) > 1}
        bucket_level = {a for a in required if a.startswith("s3:")} - deploy_policy.OBJECT_ACTIONS
        assert repeated <= {
            "cloudformation:DescribeStacks",
            "kms:CreateAlias",
            "kms:DeleteAlias",
            "kms:UpdateAlias",
            *bucket_level,
        }
        assert set(granted) == required
        assert not set(granted) & set(deploy_policy.NOT_GRANTED)
        assert not {a.split(":")[0] for a in granted} & set(deploy_policy.NOT_GRANTED_SERVICES)


def test_every_exclusion_is_something_a_handler_asks_for() -> None:
    wanted = set().union(*(deploy_policy.wanted_actions(s) for s in SERVICES), deploy_policy.wanted_site_actions())
    assert set(deploy_policy.NOT_GRANTED) <= wanted
    prefixes = {a.split(":")[0] for a in wanted}
    assert set(deploy_policy.NOT_GRANTED_SERVICES) <= prefixes
    assert not deploy_policy.is_iam_action("s3:DeleteBucketCors")  # authorized by s3:PutBucketCORS
    assert deploy_policy.is_iam_action("s3:PutBucketCORS")


@pytest.mark.parametrize("service", SERVICES)
def test_resource_types_cover_the_services_serverless_yml(service: str) -> None:
    text = (ROOT / "services" / service / "serverless.yml").read_text()
    declared = set(re.findall(r"^\s+Type:\s*['\"]?(AWS::[A-Za-z0-9]+::[A-Za-z0-9]+)", text, re.MULTILINE))
    assert declared, "no resources found in serverless.yml"
    missing = declared - set(SERVICE_RESOURCE_TYPES[service])
    assert not missing, f"add to SERVICE_RESOURCE_TYPES[{service!r}] and regenerate: {sorted(missing)}"


def test_docs_cover_every_template_parameter_and_deploy_command() -> None:
    docs = (ROOT / "docs" / "cicd.md").read_text()
    for service in SERVICES:
        template = load_template(service)
        for parameter in template["Parameters"]:
            assert f"`{parameter}`" in docs, parameter
        for output in template["Outputs"]:
            assert f"`{output}`" in docs or output in docs, output
    assert "pipelines/templates/pipeline-$svc.yml" in docs
    # A command runs on while its lines end with a backslash.
    commands = [
        c for c in re.findall(r"aws cloudformation deploy(?:[^\n]*\\\n)*[^\n]*", docs) if "--template-file" in c
    ]
    assert len(commands) >= 3
    oversized = [s for s in SERVICES if len(lint.templates()[SERVICES.index(s)].read_bytes()) > 51200]
    if oversized:  # CloudFormation takes at most 51,200 bytes inline: the commands must upload through S3
        assert all("--s3-bucket" in c for c in commands), commands


# --- cannot escalate: boundary, guard denials, no people's data --------------------------------------------------

STACK = iam.PSEUDO["AWS::StackName"]


def boundary_arn(stage: str) -> str:
    return f"arn:aws:iam::{iam.ACCOUNT}:policy/{STACK}-{stage.capitalize()}RolesBoundary-EXAMPLE"


REFS = {f"{stage.capitalize()}RolesBoundary": boundary_arn(stage) for stage in ("dev", "prod")}


def resolved_role_statements(service: str, role_name: str) -> list[dict[str, Any]]:
    resources = effective(service, "connections")["Resources"]
    resolved: list[dict[str, Any]] = iam.resolve(role_statements(resources, role_name), REFS)
    return resolved


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{iam.ACCOUNT}:role/{name}"


@pytest.mark.parametrize("stage", ["dev", "prod"])
@pytest.mark.parametrize("service", SERVICES)
def test_deploy_role_creates_and_changes_roles_only_with_the_stage_boundary(service: str, stage: str) -> None:
    statements = resolved_role_statements(service, f"Deploy{stage.capitalize()}Role")
    own_role = role_arn(f"vidsense-{service}-{stage}-api-us-east-1-lambdaRole")
    with_boundary = {"iam:PermissionsBoundary": boundary_arn(stage)}
    for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:PutRolePermissionsBoundary"):
        assert iam.allowed(statements, action, own_role, with_boundary), action
        assert not iam.allowed(statements, action, own_role), f"{action} without a boundary"
        other = {"iam:PermissionsBoundary": boundary_arn("prod" if stage == "dev" else "dev")}
        assert not iam.allowed(statements, action, own_role, other), f"{action} with another boundary"
        granting = [s for s in statements if s["Effect"] == "Allow" and action in iam.as_list(s["Action"])]
        assert [s["Condition"] for s in granting] == [{"StringEquals": with_boundary}], action
    # Nothing attaches a managed policy (tests/integration/deploy/test_pipeline_roles.py), so nothing may.
    assert not iam.allowed(statements, "iam:AttachRolePolicy", own_role, with_boundary)
    for action in ("iam:DeleteRolePermissionsBoundary", "iam:CreatePolicy"):
        assert not iam.allowed(statements, action, own_role, with_boundary), action
        assert not iam.allowed(statements, action, "*", with_boundary), action


@pytest.mark.parametrize("stage", ["dev", "prod"])
@pytest.mark.parametrize("service", SERVICES)
def test_deploy_role_can_change_neither_the_boundary_nor_its_own_role_and_policies(service: str, stage: str) -> None:
    resources = effective(service, "connections")["Resources"]
    statements = resolved_role_statements(service, f"Deploy{stage.capitalize()}Role")
    denials = [s for s in statements if s["Effect"] == "Deny"]
    # The denials hold whatever Allow an administrator may add later: evaluate them with an Allow of everything.
    everything = [*denials, {"Effect": "Allow", "Action": "*", "Resource": "*"}]
    for action in deploy_policy.POLICY_CHANGES:
        assert not iam.allowed(everything, action, boundary_arn(stage)), action
        assert not iam.allowed(everything, action, f"arn:aws:iam::{iam.ACCOUNT}:policy/{STACK}-DeployDevPolicy1-X")
    for action in deploy_policy.ROLE_CHANGES:
        assert not iam.allowed(everything, action, role_arn(f"{STACK}-DeployDevRole-X")), action
    assert not iam.allowed(
        everything, "iam:DeleteRolePermissionsBoundary", role_arn(StageResources(stage).mediaconvert_role)
    )
    for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:PutRolePermissionsBoundary", "iam:AttachRolePolicy"):
        assert not iam.allowed(everything, action, role_arn(f"vidsense-{stage}-x")), action
        assert iam.allowed(
            everything, action, role_arn(f"vidsense-{stage}-x"), {"iam:PermissionsBoundary": boundary_arn(stage)}
        )
    # The boundary is the stack's own managed policy, attached to no principal.
    boundary = resources[f"{stage.capitalize()}RolesBoundary"]
    assert boundary["Type"] == "AWS::IAM::ManagedPolicy"
    assert not {"Roles", "Users", "Groups"} & set(boundary["Properties"])


def data_arns(stage: str) -> dict[str, str]:
    """An answer's recording, audio and transcript where the services keep them (docs/architecture.md, Names)."""
    names, answer = StageResources(stage), f"p/1/{'ab' * 32}"
    media, work = names.media_bucket(iam.ACCOUNT), names.work_bucket(iam.ACCOUNT)
    return {
        "recording": f"arn:aws:s3:::{media}/{answer}.webm",
        "audio": f"arn:aws:s3:::{work}/{stage}/audio/{answer}/attempt-1/answer.mp3",
        "transcript": f"arn:aws:s3:::{work}/{stage}/transcripts/{answer}/attempt-1.json",
    }


PIPELINE_ROLES_RUNNING_CODE = ("BuildRole", "DeployDevRole", "DeployProdRole", "SmokeDevRole")


@pytest.mark.parametrize("role", [*PIPELINE_ROLES_RUNNING_CODE, "PipelineRole"])
@pytest.mark.parametrize("service", SERVICES)
def test_no_pipeline_role_touches_recordings_transcripts_or_the_user_key_secret(service: str, role: str) -> None:
    statements = resolved_role_statements(service, role)
    # Not granted in the first place (the denials below are a second line).
    grants = [s for s in statements if s["Effect"] == "Allow"]
    object_actions = (
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
    )
    for stage in ("dev", "prod"):
        for what, arn in data_arns(stage).items():
            for action in object_actions:
                assert not iam.allowed(grants, action, arn), (what, action)
        secret = f"arn:aws:ssm:us-east-1:{iam.ACCOUNT}:parameter{StageResources(stage).user_key_parameter}"
        for action in ("ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "ssm:GetParameterHistory"):
            assert not iam.allowed(grants, action, secret), action
    if role in PIPELINE_ROLES_RUNNING_CODE:  # denied explicitly: no Allow added later can open it
        everything = [*statements, {"Effect": "Allow", "Action": "*", "Resource": "*"}]
        assert not iam.allowed(everything, "s3:GetObject", data_arns("prod")["recording"])
        assert not iam.allowed(everything, "ssm:GetParameter", secret)
    if role.startswith("Deploy"):  # the Framework's own bucket stays usable
        stage = role.removeprefix("Deploy").removesuffix("Role").lower()
        package = f"arn:aws:s3:::vidsense-{service}-{stage}-serverlessdeploymentbucket-x/serverless/a.zip"
        assert iam.allowed(statements, "s3:PutObject", package)
        assert iam.allowed(
            statements, "s3:PutBucketVersioning", f"arn:aws:s3:::{StageResources(stage).media_bucket(iam.ACCOUNT)}"
        ) == (service == "ingest")


@pytest.mark.parametrize("service", SERVICES)
def test_each_stage_boundary_keeps_roles_to_that_stage(service: str) -> None:
    resources = effective(service, "connections")["Resources"]
    for stage, other in (("dev", "prod"), ("prod", "dev")):
        boundary = iam.resolve(resources[f"{stage.capitalize()}RolesBoundary"]["Properties"], REFS)
        statements = boundary["PolicyDocument"]["Statement"]
        assert {a for s in statements for a in s["Action"]} == set(BOUNDARY_ACTIONS[service])
        for action in ("s3:GetObject", "dynamodb:GetItem", "events:PutEvents", "sqs:SendMessage", "iam:PassRole"):
            if action not in BOUNDARY_ACTIONS[service]:
                continue
            arns = {
                "s3": "arn:aws:s3:::vidsense-{}-work-123456789012/x",
                "dynamodb": "arn:aws:dynamodb:us-east-1:123456789012:table/vidsense-{}-answers",
                "events": "arn:aws:events:us-east-1:123456789012:event-bus/vidsense-{}-bus",
                "sqs": "arn:aws:sqs:us-east-1:123456789012:vidsense-{}-x-dlq",
                "iam": "arn:aws:iam::123456789012:role/vidsense-{}-mediaconvert",
            }
            arn = arns[action.split(":")[0]]
            assert iam.allowed(statements, action, arn.format(stage)), action
            assert not iam.allowed(statements, action, arn.format(other)), action
        if service == "transcode":  # Transcribe jobs of the stage only (their names carry it)
            job = "arn:aws:transcribe:us-east-1:123456789012:transcription-job/vidsense.{}.a.1"
            assert iam.allowed(statements, "transcribe:DeleteTranscriptionJob", job.format(stage))
            assert not iam.allowed(statements, "transcribe:DeleteTranscriptionJob", job.format(other))
        for action in ("iam:CreateRole", "iam:PutRolePolicy", "sts:AssumeRole", "s3:PutBucketPolicy"):
            assert not iam.allowed(statements, action, "*"), action


# --- approval and smoke test ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("service", SERVICES)
def test_approval_notifies_an_encrypted_topic_with_the_commit_and_a_link_to_it(service: str, mode: str) -> None:
    template = effective(service, mode)
    resources = template["Resources"]
    [source] = stages(template)[0]["Actions"]
    assert source["Namespace"] == "SourceVariables"
    [approval] = {s["Name"]: s["Actions"] for s in stages(template)}["ApprovalBeforeProd"]
    config = approval["Configuration"]
    assert config["NotificationArn"] == {"Ref": "ApprovalTopic"}
    assert "#{SourceVariables.CommitId}" in config["CustomData"]
    link = config["ExternalEntityLink"]["Fn::Sub"]
    assert link.startswith("https://") and link.count("#{SourceVariables.CommitId}") == 1
    if mode == "connections":
        assert "${FullRepositoryId}/commit/" in link
    else:
        assert "codecommit/repositories/${CodeCommitRepositoryName}/commit/" in link
    topic = resources["ApprovalTopic"]
    assert topic["Type"] == "AWS::SNS::Topic"
    assert topic["Properties"]["KmsMasterKeyId"] == {"Ref": "ArtifactKey"}
    # CodePipeline publishes with the pipeline role: it may publish there and use the key.
    pipeline = iam.resolve(role_statements(resources, "PipelineRole"), {"ApprovalTopic": "arn:aws:sns:us-east-1:1:t"})
    assert iam.allowed(pipeline, "sns:Publish", "arn:aws:sns:us-east-1:1:t")
    publish = [s for s in pipeline if "sns:Publish" in s["Action"]]
    assert [s["Resource"] for s in publish] == [["arn:aws:sns:us-east-1:1:t"]]
    key_use = next(s for s in pipeline if s.get("Sid") == "ArtifactKey")
    assert {"kms:GenerateDataKey", "kms:Decrypt"} <= set(key_use["Action"])


def test_commit_link_prefix_overrides_the_github_link() -> None:
    template = effective("nlp", "connections")
    with_prefix = resolve(load_template("nlp"), {**MODES["connections"], "HasCommitUrlPrefix": True})
    approval = lambda t: {s["Name"]: s["Actions"] for s in stages(t)}["ApprovalBeforeProd"][0]  # noqa: E731
    assert approval(with_prefix)["Configuration"]["ExternalEntityLink"] == {
        "Fn::Sub": "${CommitUrlPrefix}#{SourceVariables.CommitId}"
    }
    assert "github" in approval(template)["Configuration"]["ExternalEntityLink"]["Fn::Sub"]


@pytest.mark.parametrize("service", SERVICES)
def test_smoke_role_may_only_read_dev_outputs_manage_a_dev_pool_user_and_call_the_api(service: str) -> None:
    statements = resolved_role_statements(service, "SmokeDevRole")
    allows = [s for s in statements if s["Effect"] == "Allow"]
    actions = {a for s in allows for a in s["Action"]}
    assert actions == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:GetBucketAcl",
        "s3:GetBucketLocation",
        "s3:GetBucketVersioning",
        "kms:Decrypt",
        "kms:DescribeKey",
        "cloudformation:DescribeStacks",
        "execute-api:Invoke",
        *SMOKE_COGNITO_ACTIONS,
    }
    assert all(a.startswith("cognito-idp:Admin") for a in SMOKE_COGNITO_ACTIONS)
    pool = f"arn:aws:cognito-idp:us-east-1:{iam.ACCOUNT}:userpool/us-east-1_EXAMPLE"
    for action in SMOKE_COGNITO_ACTIONS:
        assert iam.allowed(statements, action, pool, {"aws:ResourceTag/stage": "dev"})
        assert not iam.allowed(statements, action, pool, {"aws:ResourceTag/stage": "prod"})
        assert not iam.allowed(statements, action, pool)
    stack = f"arn:aws:cloudformation:us-east-1:{iam.ACCOUNT}:stack/vidsense-ingest-%s/abc"
    assert iam.allowed(statements, "cloudformation:DescribeStacks", stack % "dev")
    assert not iam.allowed(statements, "cloudformation:DescribeStacks", stack % "prod")
    api = f"arn:aws:execute-api:us-east-1:{iam.ACCOUNT}:a1b2c3/$default/GET/answers/x"
    assert iam.allowed(statements, "execute-api:Invoke", api)


# --- stage settings a deploy needs -------------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_deploy_projects_pass_alert_email_and_identity_settings_when_set(service: str) -> None:
    external = {**MODES["connections"], "HasAlertEmail": True, "UseExternalIdentity": True}
    template = resolve(load_template(service), external)
    for stage in ("dev", "prod"):
        title = stage.capitalize()
        props = template["Resources"][f"Deploy{title}Project"]["Properties"]
        env = {v["Name"]: v["Value"] for v in props["Environment"]["EnvironmentVariables"]}
        assert env == {
            "SERVICE": service,
            "STAGE": stage,
            "VIDSENSE_PERMISSIONS_BOUNDARY_ARN": {"Ref": f"{title}RolesBoundary"},
            "VIDSENSE_ALERT_EMAIL": {"Ref": "AlertEmail"},
            "VIDSENSE_IDENTITY": {"Ref": "Identity"},
            "VIDSENSE_JWT_ISSUER": {"Ref": f"{title}JwtIssuer"},
            "VIDSENSE_JWT_AUDIENCE": {"Ref": f"{title}JwtAudience"},
        }
        assert set(env) - {"SERVICE", "STAGE"} == set(DEPLOY_STAGE_PARAMETERS)
    parameters = template["Parameters"]
    assert parameters["Identity"]["AllowedValues"] == ["cognito", "external"]
    assert parameters["Identity"]["Default"] == "cognito"
    rule = template["Rules"]["ExternalIdentitySettings"]
    asserted = {a["Assert"]["Fn::Not"][0]["Fn::Equals"][0]["Ref"] for a in rule["Assertions"]}
    assert asserted == {"DevJwtIssuer", "DevJwtAudience", "ProdJwtIssuer", "ProdJwtAudience"}


def run_deploy_command(tmp_path: Path, env: dict[str, str]) -> list[str]:
    """The deploy buildspec's build command, run by bash with a stand-in ``npx`` that prints its arguments."""
    spec = yaml.safe_load((ROOT / "pipelines" / "buildspec-deploy.yml").read_text())
    [command] = spec["phases"]["build"]["commands"]
    (tmp_path / "services" / "nlp").mkdir(parents=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "npx").write_text('#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n')
    (bin_dir / "npx").chmod(0o755)
    base = {"PATH": f"{bin_dir}:/usr/bin:/bin", "SERVICE": "nlp", "STAGE": "dev", "AWS_REGION": "eu-west-1"}
    proc = subprocess.run(
        ["bash", "-c", command], cwd=tmp_path, env={**base, **env}, capture_output=True, text=True, check=True
    )
    return proc.stdout.splitlines()


def test_deploy_buildspec_turns_the_settings_that_are_set_into_stage_parameters(tmp_path: Path) -> None:
    args = run_deploy_command(
        tmp_path,
        {
            "VIDSENSE_PERMISSIONS_BOUNDARY_ARN": "arn:aws:iam::1:policy/b",
            "VIDSENSE_IDENTITY": "external",
            "VIDSENSE_JWT_ISSUER": "https://id.example.com/",
            "VIDSENSE_JWT_AUDIENCE": "vidsense-dev",
        },
    )
    assert args[:6] == ["serverless", "deploy", "--stage", "dev", "--region", "eu-west-1"]
    params = [args[i + 1] for i, a in enumerate(args) if a == "--param"]
    assert params == [
        "permissionsBoundaryArn=arn:aws:iam::1:policy/b",
        "identity=external",
        "jwtIssuer=https://id.example.com/",
        "jwtAudience=vidsense-dev",
    ]
    args = run_deploy_command(tmp_path / "again", {"VIDSENSE_ALERT_EMAIL": "ops@example.com"})
    assert [args[i + 1] for i, a in enumerate(args) if a == "--param"] == ["alertEmail=ops@example.com"]


def test_every_passed_setting_is_a_stage_parameter_of_the_services() -> None:
    params = yaml.safe_load((ROOT / "deploy" / "serverless" / "params.yml").read_text())
    buildspec = (ROOT / "pipelines" / "buildspec-deploy.yml").read_text()
    for variable, parameter in DEPLOY_STAGE_PARAMETERS.items():
        assert f"{parameter}={variable}" in buildspec
        assert parameter in params["default"], parameter
    assert params["default"]["permissionsBoundaryArn"] == "${env:VIDSENSE_PERMISSIONS_BOUNDARY_ARN, ''}"


# --- the web client's site stack: deployed by the ingest pipeline after ingest -----------------------------------


def site_role_statements(stage: str) -> list[dict[str, Any]]:
    return resolved_role_statements(SITE_PIPELINE, f"DeployWeb{stage.capitalize()}Role")


def test_the_ingest_pipeline_deploys_the_web_site_after_ingest_in_each_stage() -> None:
    template = effective(SITE_PIPELINE, "connections")
    resources = template["Resources"]
    by_name = {s["Name"]: s["Actions"] for s in stages(template)}
    for stage in STAGES:
        title = stage.capitalize()
        ingest, site = by_name[f"Deploy{title}"]
        assert (ingest["RunOrder"], site["RunOrder"]) == (1, 2)
        assert site["Configuration"]["ProjectName"] == {"Ref": f"DeployWeb{title}Project"}
        assert site["InputArtifacts"] == ingest["InputArtifacts"] == [{"Name": "BuildOutput"}]  # the tested revision
        props = resources[f"DeployWeb{title}Project"]["Properties"]
        assert props["Source"] == {"Type": "CODEPIPELINE", "BuildSpec": SITE_SPEC}
        assert props["ServiceRole"] == {"Fn::GetAtt": [f"DeployWeb{title}Role", "Arn"]}
        env = {v["Name"]: v["Value"] for v in props["Environment"]["EnvironmentVariables"]}
        assert env == {"STAGE": stage, "VIDSENSE_IDENTITY": {"Ref": "Identity"}}
        # with a certificate and an external provider, the stage parameters the site's CSP and alias read
        settings = {**MODES["connections"], "UseExternalIdentity": True, f"Has{title}WebCertificate": True}
        props = resolve(load_template(SITE_PIPELINE), settings)["Resources"][f"DeployWeb{title}Project"]["Properties"]
        env = {v["Name"]: v["Value"] for v in props["Environment"]["EnvironmentVariables"]}
        assert env["VIDSENSE_WEB_CERTIFICATE_ARN"] == {"Ref": f"{title}WebCertificateArn"}
        assert env["VIDSENSE_JWT_ISSUER"] == {"Ref": f"{title}JwtIssuer"}
    run = next(s for s in role_statements(resources, "PipelineRole") if s.get("Sid") == "RunProjects")
    assert {"Fn::GetAtt": ["DeployWebProdProject", "Arn"]} in run["Resource"]
    assert "make deploy-web" in (ROOT / SITE_SPEC).read_text() and "deploy-web" in makefile_targets()
    # web/ changes start the ingest pipeline only
    for service in SERVICES:
        assert (set(SITE_PATHS) <= set(path_filters(service))) == (service == SITE_PIPELINE)
        assert any(n.startswith("DeployWeb") for n in load_template(service)["Resources"]) == (service == SITE_PIPELINE)


def test_the_site_resource_types_are_those_of_deploy_web() -> None:
    text = (ROOT / "deploy" / "web" / "site.yml").read_text()
    declared = set(re.findall(r"^\s+Type:\s*['\"]?(AWS::[A-Za-z0-9]+::[A-Za-z0-9]+)", text, re.MULTILINE))
    assert declared == set(SITE_RESOURCE_TYPES)  # (the Framework adds its deployment bucket and policy: same types)


def test_the_site_deploy_role_holds_the_site_stacks_handler_permissions_and_the_publish() -> None:
    resources = effective(SITE_PIPELINE, "connections")["Resources"]
    required = deploy_policy.required_site_actions()
    assert {"cloudfront:CreateDistribution", "cloudfront:CreateInvalidation", "s3:PutBucketPolicy"} <= required
    for stage in STAGES:
        role = {"Ref": f"DeployWeb{stage.capitalize()}Role"}
        granted = {
            a
            for r in resources.values()
            if r["Type"] == "AWS::IAM::ManagedPolicy" and role in r["Properties"].get("Roles", [])
            for s in r["Properties"]["PolicyDocument"]["Statement"]
            if s["Effect"] == "Allow"
            for a in s["Action"]
        }
        assert granted == required
        assert not granted & set(deploy_policy.NOT_GRANTED)
        assert not any(a.startswith("iam:") for a in granted)


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_site_deploy_role_reaches_only_its_stages_site(stage: str) -> None:
    other = "prod" if stage == "dev" else "dev"
    statements = site_role_statements(stage)
    stack = f"arn:aws:cloudformation:us-east-1:{iam.ACCOUNT}:stack/%s/abc"
    assert iam.allowed(statements, "cloudformation:UpdateStack", stack % f"vidsense-web-{stage}")
    for name in (f"vidsense-web-{other}", f"vidsense-ingest-{stage}"):
        assert not iam.allowed(statements, "cloudformation:UpdateStack", stack % name), name
    assert iam.allowed(statements, "cloudformation:DescribeStacks", stack % f"vidsense-ingest-{stage}")
    assert not iam.allowed(statements, "cloudformation:DescribeStacks", stack % f"vidsense-ingest-{other}")
    site = f"arn:aws:s3:::vidsense-{stage}-web-{iam.ACCOUNT}"
    assert iam.allowed(statements, "s3:PutObject", f"{site}/index.html")
    assert iam.allowed(statements, "s3:PutBucketPolicy", site)
    assert not iam.allowed(statements, "s3:GetObject", f"{site}/index.html")  # publishes, reads nothing back
    for bucket in (f"vidsense-{other}-web-{iam.ACCOUNT}", f"vidsense-{stage}-media-{iam.ACCOUNT}"):
        assert not iam.allowed(statements, "s3:PutObject", f"arn:aws:s3:::{bucket}/index.html"), bucket
        assert not iam.allowed(statements, "s3:PutBucketPolicy", f"arn:aws:s3:::{bucket}"), bucket
    cloudfront = f"arn:aws:cloudfront::{iam.ACCOUNT}:"
    for action in ("cloudfront:UpdateFunction", "cloudfront:TagResource", "cloudfront:UntagResource"):
        assert iam.allowed(statements, action, f"{cloudfront}function/vidsense-{stage}-web-routes"), action
        assert iam.allowed(statements, action.replace("Function", "Distribution"), f"{cloudfront}distribution/E2")
    assert not iam.allowed(statements, "cloudfront:UpdateFunction", f"{cloudfront}function/vidsense-{other}-web-routes")
    assert iam.allowed(statements, "cloudfront:CreateInvalidation", f"{cloudfront}distribution/E2EXAMPLE")
    assert f"-{other}" not in json.dumps([s for s in statements if s["Effect"] == "Allow"])


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_site_deploy_role_creates_no_role_and_touches_no_ones_data(stage: str) -> None:
    statements = site_role_statements(stage)
    # The denials hold whatever Allow an administrator may add later (issue 12: no role without the boundary; the
    # site stack has no role at all, so its deploy may create, change or pass none).
    everything = [
        *[s for s in statements if s["Effect"] == "Deny"],
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
    ]
    with_boundary = {"iam:PermissionsBoundary": boundary_arn(stage)}
    for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:PassRole", "iam:UpdateRole"):
        assert not iam.allowed(everything, action, role_arn(f"vidsense-{stage}-x"), with_boundary), action
    for what, arn in data_arns(stage).items():
        for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
            assert not iam.allowed(everything, action, arn), (what, action)
    secret = f"arn:aws:ssm:us-east-1:{iam.ACCOUNT}:parameter/vidsense/{stage}/user-key-secret"
    assert not iam.allowed(everything, "ssm:GetParameter", secret)
