"""Least privilege in the packaged templates of dev and prod (issue 15, item 6).

No identity policy grants an action on every resource (`Resource: "*"`) when the action supports resource-level
permissions: what remains on `*` is listed below with its reason, and AWS's own action data (the IAM policy data
cfn-lint ships) must agree that the action has no resource type. Transcribe jobs are this stage's only, KMS is the
user-key secret's key only, and every function publishes on the bus under its own service's source only.
"""

from __future__ import annotations

import json
import re
from importlib import resources as package_data
from typing import Any

import pytest

from tests.integration.deploy.cfn import as_list, functions, getatt_target, policy_statements, render, resources
from tests.integration.deploy.conftest import PACKAGED_STAGES, SERVICES
from transcode.domain.naming import transcription_job_prefix
from vidsense_shared import events
from vidsense_shared.resources import StageResources

Templates = dict[str, dict[str, dict[str, Any]]]

# Every action an identity policy may grant on "*", and why.
WILDCARD_RESOURCE_ACTIONS = {
    "xray:PutTraceSegments": "X-Ray trace segments belong to no resource",
    "xray:PutTelemetryRecords": "X-Ray telemetry belongs to no resource",
    "mediaconvert:DescribeEndpoints": "the account's MediaConvert endpoint is looked up before any job exists",
    "transcribe:StartTranscriptionJob": "Transcribe authorizes starting a job on no resource (reading and "
    "deleting jobs are scoped to the stage's job names)",
    "comprehend:DetectSentiment": "synchronous detection on text: no Comprehend resource is involved",
    "comprehend:BatchDetectSentiment": "synchronous detection on text: no Comprehend resource is involved",
}


def _resource_types(action: str) -> list[str]:
    """The resource types AWS authorizes `action` on (empty: the action supports no resource-level permissions)."""
    data = json.loads(package_data.files("cfnlint.data.AdditionalSpecs").joinpath("Policies.json").read_text())
    service, name = action.lower().split(":", 1)
    entry = data[service]["Actions"][name]
    return list(entry.get("Resources", []))


def _allowed(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(rid, s) for rid, s in policy_statements(template) if s["Effect"] == "Allow"]


def _role_statements(template: dict[str, Any], function: str) -> list[dict[str, Any]]:
    """Every Allow statement of a function's role: its own policies and any AWS::IAM::Policy attached to it."""
    _, props = functions(template)[function]
    role = getatt_target(props["Role"])
    attached = {
        rid
        for rid, r in resources(template, "AWS::IAM::Policy")
        if role in [getatt_target(ref) for ref in r["Properties"]["Roles"]]
    }
    return [s for rid, s in _allowed(template) if rid == role or rid in attached]


@pytest.mark.parametrize("stage", PACKAGED_STAGES)
def test_only_actions_without_resource_level_permissions_are_granted_on_every_resource(
    templates: Templates, stage: str
) -> None:
    on_every_resource: dict[str, set[str]] = {}
    for service in SERVICES:
        for logical_id, statement in _allowed(templates[stage][service]):
            if "*" in as_list(statement["Resource"]):
                for action in as_list(statement["Action"]):
                    on_every_resource.setdefault(action, set()).add(f"{service}/{logical_id}")
    unlisted = {a: where for a, where in on_every_resource.items() if a not in WILDCARD_RESOURCE_ACTIONS}
    assert not unlisted, f"granted on '*' without a reason in WILDCARD_RESOURCE_ACTIONS: {unlisted}"
    # The list holds nothing the templates no longer need, and AWS agrees that each listed action has no resource.
    assert set(on_every_resource) == set(WILDCARD_RESOURCE_ACTIONS)
    scoped = {a: _resource_types(a) for a in WILDCARD_RESOURCE_ACTIONS if _resource_types(a)}
    assert not scoped, f"these actions support resource-level permissions, scope them: {scoped}"


@pytest.mark.parametrize("stage", PACKAGED_STAGES)
def test_transcribe_jobs_are_read_and_deleted_only_by_this_stages_job_names(templates: Templates, stage: str) -> None:
    template = templates[stage]["transcode"]
    stage_jobs = f"transcription-job/{transcription_job_prefix(stage)}*"
    job_actions = {"transcribe:GetTranscriptionJob", "transcribe:DeleteTranscriptionJob"}
    granted: dict[str, list[str]] = {}
    for function in functions(template):
        for statement in _role_statements(template, function):
            if set(as_list(statement["Action"])) & job_actions:
                granted.setdefault(function, []).extend(render(r) for r in as_list(statement["Resource"]))
    assert set(granted) == {"startTranscription", "transcriptionCompleted", "reconcile", "eraseAnswer"}
    for function, arns in granted.items():
        for arn in arns:
            assert arn == f"arn:${{AWS::Partition}}:transcribe:${{AWS::Region}}:${{AWS::AccountId}}:{stage_jobs}", (
                function,
                arn,
            )


@pytest.mark.parametrize("stage", PACKAGED_STAGES)
def test_every_publisher_puts_events_under_its_own_source_only(templates: Templates, stage: str) -> None:
    sources = {"ingest": events.SOURCE_INGEST, "transcode": events.SOURCE_TRANSCODE, "nlp": events.SOURCE_NLP}
    publishers = []
    for service in SERVICES:
        template = templates[stage][service]
        for function in functions(template):
            for statement in _role_statements(template, function):
                if "events:PutEvents" not in as_list(statement["Action"]):
                    continue
                publishers.append(f"{service}/{function}")
                assert as_list(statement["Action"]) == ["events:PutEvents"], statement
                assert statement.get("Condition") == {"StringEquals": {"events:source": sources[service]}}, (
                    f"{service}/{function}: {statement.get('Condition')}"
                )
                assert [render(r).rsplit("/", 1)[-1] for r in as_list(statement["Resource"])] in (
                    [StageResources(stage).bus],
                    ["${EventBus.Arn}"],
                ), statement["Resource"]
    assert len(publishers) >= 8, publishers


@pytest.mark.parametrize("stage", PACKAGED_STAGES)
def test_kms_decrypt_only_with_the_user_key_secrets_key_through_ssm(templates: Templates, stage: str) -> None:
    template = templates[stage]["ingest"]
    # With the default AWS managed key aws/ssm (its key policy admits the account's principals through SSM), no
    # role of any stack may decrypt at all...
    for service in SERVICES:
        for logical_id, statement in _allowed(templates[stage][service]):
            if any(a.startswith("kms:") for a in as_list(statement["Action"])):
                assert logical_id == "ApiUserKeyDecryptPolicy", f"{service}/{logical_id}: {statement}"
    # ...and the customer managed key's grant exists only when the stage names that key (parameter, empty here).
    parameter = template["Parameters"]["UserKeyKmsKeyArn"]
    assert parameter["Default"] == ""
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    for value, accepted in ((key, True), ("", True), ("arn:aws:kms:us-east-1:123456789012:alias/aws/ssm", False)):
        assert bool(re.fullmatch(parameter["AllowedPattern"], value)) is accepted, value
    policy = template["Resources"]["ApiUserKeyDecryptPolicy"]
    assert policy["Condition"] == "HasUserKeyKmsKey"
    assert template["Conditions"]["HasUserKeyKmsKey"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "UserKeyKmsKeyArn"}, ""]}]
    }
    assert [getatt_target(r) for r in policy["Properties"]["Roles"]] == [
        getatt_target(functions(template)["api"][1]["Role"])
    ]
    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == ["kms:Decrypt"]
    assert statement["Resource"] == {"Ref": "UserKeyKmsKeyArn"}
    condition = statement["Condition"]["StringEquals"]
    assert render(condition["kms:ViaService"]) == "ssm.${AWS::Region}.amazonaws.com"
    assert render(condition["kms:EncryptionContext:PARAMETER_ARN"]).endswith(
        f":parameter/vidsense/{stage}/user-key-secret"
    )
