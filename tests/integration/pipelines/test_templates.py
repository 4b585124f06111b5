"""The committed pipeline templates: cfn-lint clean, stage order, approval before prod, per-service paths in both
source modes, least-privilege IAM and an encrypted artifact store."""

import json
import re
from pathlib import Path
from typing import Any

import pytest

from pipelines import deploy_policy, lint
from pipelines.definition import SERVICE_RESOURCE_TYPES, SERVICES, STAGE_NAMES, path_filters
from pipelines.generate import MANAGED_POLICY_LIMIT, load_template, resolved_size, yaml

ROOT = Path(__file__).resolve().parents[3]

MODES = {
    "connections": {"UseConnections": True, "UseCodeCommit": False, "CreateRepository": False},
    "codecommit": {"UseConnections": False, "UseCodeCommit": True, "CreateRepository": True},
    "codecommit-existing-repo": {"UseConnections": False, "UseCodeCommit": True, "CreateRepository": False},
}
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
    assert list(STAGE_NAMES) == ["Source", "Build", "DeployDev", "ApprovalBeforeProd", "DeployProd"]
    by_name = {s["Name"]: s["Actions"] for s in stages(template)}
    approval = by_name["ApprovalBeforeProd"]
    assert len(approval) == 1
    assert approval[0]["ActionTypeId"] == {"Category": "Approval", "Owner": "AWS", "Provider": "Manual", "Version": "1"}
    for stage in ("Build", "DeployDev", "DeployProd"):
        assert [a["ActionTypeId"]["Provider"] for a in by_name[stage]] == ["CodeBuild"]
    # Nothing but the approval stands between the dev deployment and prod.
    names = [s["Name"] for s in stages(template)]
    assert names.index("DeployDev") < names.index("ApprovalBeforeProd") == names.index("DeployProd") - 1


@pytest.mark.parametrize("service", SERVICES)
def test_build_and_deploy_projects_run_the_committed_buildspecs_for_this_service(service: str) -> None:
    resources = effective(service, "connections")["Resources"]
    by_stage = {s["Name"]: s["Actions"][0] for s in stages(effective(service, "connections"))}
    expected = {
        "Build": ("BuildProject", "pipelines/buildspec-build.yml", {"SERVICE": service}),
        "DeployDev": ("DeployDevProject", "pipelines/buildspec-deploy.yml", {"SERVICE": service, "STAGE": "dev"}),
        "DeployProd": ("DeployProdProject", "pipelines/buildspec-deploy.yml", {"SERVICE": service, "STAGE": "prod"}),
    }
    for stage, (project, spec, variables) in expected.items():
        assert by_stage[stage]["Configuration"]["ProjectName"] == {"Ref": project}
        props = resources[project]["Properties"]
        assert props["Source"] == {"Type": "CODEPIPELINE", "BuildSpec": spec}
        assert (ROOT / spec).is_file()
        env = {v["Name"]: v["Value"] for v in props["Environment"]["EnvironmentVariables"]}
        assert env == variables
        assert props["EncryptionKey"] == {"Fn::GetAtt": ["ArtifactKey", "Arn"]}
    # Deploys use the build's output (the tested revision), never the raw source.
    assert by_stage["DeployDev"]["InputArtifacts"] == by_stage["Build"]["OutputArtifacts"]
    assert by_stage["DeployProd"]["InputArtifacts"] == by_stage["Build"]["OutputArtifacts"]


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return {m.group(1) for m in re.finditer(r"^([A-Za-z][\w-]*)\s*:(?!=)", text, re.MULTILINE)}


@pytest.mark.parametrize("name", ["build", "deploy"])
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
                assert set(actions) <= deploy_policy.NO_RESOURCE_LEVEL, (where, actions)


def deploy_statements_of(resources: dict[str, Any], stage: str) -> list[dict[str, Any]]:
    """Every statement the deploy role of ``stage`` holds: its inline policies and the managed policies attached
    to it."""
    role_name = f"Deploy{stage.capitalize()}Role"
    inline = [s for p in resources[role_name]["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]
    managed = [
        s
        for r in resources.values()
        if r["Type"] == "AWS::IAM::ManagedPolicy" and {"Ref": role_name} in r["Properties"]["Roles"]
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert managed, f"no managed policy attached to {role_name}"
    return inline + managed


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
                if r["Type"] == "AWS::IAM::ManagedPolicy" and {"Ref": name} in r["Properties"]["Roles"]
            ]
            assert len(attached) <= 10, name  # IAM: managed policies per role (default quota)


@pytest.mark.parametrize("service", SERVICES)
def test_build_role_cannot_deploy(service: str) -> None:
    role = effective(service, "connections")["Resources"]["BuildRole"]["Properties"]
    actions = {a for p in role["Policies"] for s in p["PolicyDocument"]["Statement"] for a in s["Action"]}
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
        if r["Type"] == "AWS::IAM::ManagedPolicy" and role in r["Properties"]["Roles"]
        for s in r["Properties"]["PolicyDocument"]["Statement"]
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
        # outputs; an alias and its target key).
        repeated = {a for a in granted if granted.count(a) > 1}
        assert repeated <= {"cloudformation:DescribeStacks", "kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"}
        assert set(granted) == required
        assert not set(granted) & set(deploy_policy.NOT_GRANTED)
        assert not {a.split(":")[0] for a in granted} & set(deploy_policy.NOT_GRANTED_SERVICES)


def test_every_exclusion_is_something_a_handler_asks_for() -> None:
    wanted = set().union(*(deploy_policy.wanted_actions(s) for s in SERVICES))
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
