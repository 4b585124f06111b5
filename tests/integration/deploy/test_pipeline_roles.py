"""Every role of every packaged template can be created by its pipeline's deploy role, and does no more than its
permissions boundary allows (issue 12, item 3).

The pipeline templates (pipelines/templates) grant each deploy role role names and a boundary; the services'
packaged templates (dev and prod, the session fixture) are what a deploy creates. A role that is added to a
serverless.yml without its name in pipelines/definition.py, or a function given an action its boundary lacks,
fails here instead of in the first real deploy.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from pipelines.definition import BOUNDARY_ACTIONS
from pipelines.generate import build_template
from tests.integration.deploy.cfn import as_list, resources
from tests.integration.deploy.conftest import PACKAGED_STAGES, REPO, SERVICES
from tests.integration.pipelines import iam

Templates = dict[str, dict[str, dict[str, Any]]]
REGION = iam.PSEUDO["AWS::Region"]
ACCOUNT = iam.ACCOUNT


def boundary_arn(stage: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:policy/vidsense-pipeline-{stage.capitalize()}RolesBoundary-EXAMPLE"


def pipeline_statements(service: str, stage: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The deploy role's statements and the boundary's, of ``service``'s pipeline for ``stage``, resolved."""
    title = stage.capitalize()
    template_resources = build_template(service)["Resources"]
    role = {"Ref": f"Deploy{title}Role"}
    deploy = [
        statement
        for resource in template_resources.values()
        if resource["Type"] == "AWS::IAM::ManagedPolicy" and role in resource["Properties"].get("Roles", [])
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]
    boundary = template_resources[f"{title}RolesBoundary"]["Properties"]["PolicyDocument"]["Statement"]
    refs = {f"{title}RolesBoundary": boundary_arn(stage)}
    return iam.resolve(deploy, refs), iam.resolve(boundary, refs)


def physical_arn(template: dict[str, Any], logical_id: str) -> str:
    """The ARN of one of the template's own resources (Ref or Fn::GetAtt Arn), from its name property."""
    resource = template["Resources"][logical_id]
    props = iam.resolve(resource["Properties"], {})
    kind = resource["Type"]
    arns = {
        "AWS::SQS::Queue": lambda: f"arn:aws:sqs:{REGION}:{ACCOUNT}:{props['QueueName']}",
        "AWS::DynamoDB::Table": lambda: f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{props['TableName']}",
        "AWS::IAM::Role": lambda: f"arn:aws:iam::{ACCOUNT}:role/{props['RoleName']}",
        "AWS::S3::Bucket": lambda: f"arn:aws:s3:::{props['BucketName']}",
        "AWS::Events::EventBus": lambda: f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{props['Name']}",
        "AWS::SNS::Topic": lambda: f"arn:aws:sns:{REGION}:{ACCOUNT}:{props['TopicName']}",
        "AWS::KMS::Key": lambda: f"arn:aws:kms:{REGION}:{ACCOUNT}:key/00000000-0000-0000-0000-000000000000",
    }
    if kind not in arns:
        raise AssertionError(f"{logical_id}: no ARN known for {kind} (extend physical_arn)")
    return arns[kind]()


def resolve_resource(template: dict[str, Any], value: Any) -> str:
    named = {"AWS::SQS::Queue": "QueueName", "AWS::DynamoDB::Table": "TableName", "AWS::S3::Bucket": "BucketName"}
    refs = {
        f"{logical_id}.Arn": physical_arn(template, logical_id)
        for logical_id, resource in template["Resources"].items()
        if named.get(resource["Type"]) in resource["Properties"]
    }
    if isinstance(value, dict) and set(value) == {"Fn::GetAtt"}:
        logical_id, attribute = value["Fn::GetAtt"]
        assert attribute == "Arn", value
        return physical_arn(template, logical_id)
    if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in template["Resources"]:
        return physical_arn(template, value["Ref"])
    # A template parameter: its default (the stage parameter's value when packaged).
    refs.update({name: str(p.get("Default", "")) for name, p in template.get("Parameters", {}).items()})
    resolved = iam.resolve(value, refs)
    assert isinstance(resolved, str), f"cannot resolve {json.dumps(value)}"
    return resolved


def role_name(template: dict[str, Any], props: dict[str, Any]) -> str:
    name = iam.resolve(props["RoleName"], {})
    assert isinstance(name, str), props["RoleName"]
    return name


def role_policies(template: dict[str, Any], logical_id: str) -> list[dict[str, Any]]:
    """Statements of the role's inline policies and of AWS::IAM::Policy resources attached to it."""
    props = template["Resources"][logical_id]["Properties"]
    statements = [s for p in props.get("Policies", []) for s in p["PolicyDocument"]["Statement"]]
    for _, policy in resources(template, "AWS::IAM::Policy"):
        if {"Ref": logical_id} in policy["Properties"].get("Roles", []):
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


@pytest.mark.parametrize("stage", PACKAGED_STAGES)
def test_every_packaged_role_is_creatable_by_its_pipelines_deploy_role(templates: Templates, stage: str) -> None:
    context = {"iam:PermissionsBoundary": boundary_arn(stage)}
    for service in SERVICES:
        template = templates[stage][service]
        deploy, _ = pipeline_statements(service, stage)
        roles = list(resources(template, "AWS::IAM::Role"))
        assert roles, service
        for logical_id, role in roles:
            props = role["Properties"]
            arn = f"arn:aws:iam::{ACCOUNT}:role/{role_name(template, props)}"
            for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:GetRole", "iam:DeleteRolePolicy"):
                assert iam.allowed(deploy, action, arn, context), f"{service} {logical_id} ({arn}): {action}"
            assert not iam.allowed(deploy, "iam:CreateRole", arn), f"{logical_id}: created without the boundary"
            # Nothing attaches a managed policy, which is why the deploy role may not (pipelines/deploy_policy.py).
            assert not props.get("ManagedPolicyArns"), f"{service} {logical_id} attaches managed policies"


@pytest.mark.parametrize("stage", PACKAGED_STAGES)
def test_every_packaged_role_stays_within_its_boundary(templates: Templates, stage: str) -> None:
    for service in SERVICES:
        template = templates[stage][service]
        _, boundary = pipeline_statements(service, stage)
        used: set[str] = set()
        for logical_id, _ in resources(template, "AWS::IAM::Role"):
            for statement in role_policies(template, logical_id):
                if statement["Effect"] != "Allow":
                    continue
                for action in as_list(statement["Action"]):
                    used.add(action)
                    for value in as_list(statement["Resource"]):
                        resource = resolve_resource(template, value)
                        if not resource:  # a conditional policy whose stage parameter is empty (no key)
                            continue
                        assert iam.allowed(boundary, action, resource), (
                            f"{service} {logical_id}: {action} on {resource} is outside its boundary "
                            "(pipelines/definition.py BOUNDARY_ACTIONS, deploy_policy._boundary_scopes)"
                        )
        # The boundary holds exactly what the roles use: nothing left over when a function drops an action.
        assert used == set(BOUNDARY_ACTIONS[service]), service


# Runs the plugin's hook on a packaged template. argv: plugin path; stdin: {"template", "boundary"}.
HARNESS = r"""
const Plugin = require(process.argv[1]);
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const serverless = {
  classes: { Error },
  service: {
    custom: { permissionsBoundaryArn: input.boundary },
    provider: { compiledCloudFormationTemplate: input.template },
  },
};
const plugin = new Plugin(serverless);
plugin.hooks['after:aws:package:finalize:mergeCustomProviderResources']();
process.stdout.write(JSON.stringify(input.template));
"""


def with_boundary(template: dict[str, Any], boundary: str) -> dict[str, Any]:
    proc = subprocess.run(
        ["node", "-e", HARNESS, str(REPO / "deploy" / "plugins" / "vidsense-iam-tidy.js")],
        input=json.dumps({"template": template, "boundary": boundary}),
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def test_the_stage_parameter_puts_the_boundary_on_every_role_of_every_service(templates: Templates) -> None:
    for service in SERVICES:
        text = (REPO / "services" / service / "serverless.yml").read_text()
        assert "  permissionsBoundaryArn: ${param:permissionsBoundaryArn}\n" in text, service
        assert "    - vidsense-iam-tidy\n" in text, service
        template = templates["prod"][service]
        # Packaged without the parameter (tests, the local stage): no boundary anywhere.
        assert not any("PermissionsBoundary" in r["Properties"] for _, r in resources(template, "AWS::IAM::Role"))
        bounded = with_boundary(template, boundary_arn("prod"))
        roles = dict(resources(bounded, "AWS::IAM::Role"))
        assert len(roles) == len(list(resources(template, "AWS::IAM::Role")))
        assert {name: r["Properties"]["PermissionsBoundary"] for name, r in roles.items()} == dict.fromkeys(
            roles, boundary_arn("prod")
        )
        assert with_boundary(template, "") == template
