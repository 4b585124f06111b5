"""Reading packaged CloudFormation templates and docs/architecture.md (helpers of the deployment tests)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]

# Properties that carry a physical name, per resource type.
NAME_PROPERTIES = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::Events::EventBus": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::Events::Archive": "ArchiveName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::KMS::Alias": "AliasName",
    "AWS::ApiGatewayV2::Api": "Name",
    "AWS::Cognito::UserPool": "UserPoolName",
    "AWS::Cognito::UserPoolClient": "ClientName",
    "AWS::Cognito::UserPoolDomain": "Domain",
}


def render(value: Any) -> str:
    """A readable string for a name that may be an intrinsic function (Sub / Join / Ref)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if "Fn::Sub" in value:
            sub = value["Fn::Sub"]
            return sub if isinstance(sub, str) else str(sub[0])
        if "Fn::Join" in value:
            sep, parts = value["Fn::Join"]
            return str(sep).join(render(p) for p in parts)
        if "Ref" in value:
            return "${" + str(value["Ref"]) + "}"
        if "Fn::GetAtt" in value:
            return "${" + ".".join(value["Fn::GetAtt"]) + "}"
    return str(value)


def resources(template: dict[str, Any], type_: str | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, resource in template["Resources"].items():
        if type_ is None or resource["Type"] == type_:
            yield logical_id, resource


def physical_names(template: dict[str, Any]) -> dict[str, str]:
    names = {}
    for logical_id, resource in resources(template):
        prop = NAME_PROPERTIES.get(resource["Type"])
        if prop and prop in resource.get("Properties", {}):
            names[logical_id] = render(resource["Properties"][prop])
    return names


def getatt_target(value: Any) -> str | None:
    """Logical id behind ``{"Fn::GetAtt": [id, attr]}`` or ``{"Ref": id}``."""
    if isinstance(value, dict):
        if "Fn::GetAtt" in value:
            return str(value["Fn::GetAtt"][0])
        if "Ref" in value:
            return str(value["Ref"])
    return None


def functions(template: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Function short name (as in serverless.yml) -> (logical id, properties)."""
    out = {}
    for logical_id, resource in resources(template, "AWS::Lambda::Function"):
        props = resource["Properties"]
        # FunctionName is {service}-{stage}-{function}; the function name has no dash.
        out[render(props["FunctionName"]).rsplit("-", 1)[1]] = (logical_id, props)
    return out


def policy_statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every statement of every IAM identity policy (roles, policies) in the template."""
    for logical_id, resource in resources(template):
        props = resource.get("Properties", {})
        documents = []
        if resource["Type"] == "AWS::IAM::Role":
            documents = [p["PolicyDocument"] for p in props.get("Policies", [])]
        elif resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents = [props["PolicyDocument"]]
        for document in documents:
            statements = document["Statement"]
            for statement in statements if isinstance(statements, list) else [statements]:
                yield logical_id, statement


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --- docs/architecture.md ---------------------------------------------------------------------------------------


def documented_handlers() -> dict[tuple[str, str], str]:
    """(service, function) -> handler, from the "Functions" table."""
    text = (REPO / "docs" / "architecture.md").read_text()
    rows = re.findall(r"^\|\s*(ingest|transcode|nlp)\s*\|\s*`(\w+)`\s*\|\s*`([\w.]+)`\s*\|", text, re.M)
    return {(svc, fn): handler for svc, fn, handler in rows}


def documented_settings() -> tuple[set[str], dict[tuple[str, str], tuple[set[str], set[str]]]]:
    """Common variables, and (service, function) -> (required, optional) variables, from "Settings"."""
    text = (REPO / "docs" / "architecture.md").read_text()
    section = text.split("## Settings", 1)[1].split("\n## ", 1)[0]
    # Join continuation lines (indented) to their bullet.
    lines: list[str] = []
    for line in section.splitlines():
        if line.startswith("  ") and lines:
            lines[-1] += " " + line.strip()
        else:
            lines.append(line)
    common: set[str] = set()
    per_function: dict[tuple[str, str], tuple[set[str], set[str]]] = {}
    for line in lines:
        if line.startswith("Common:"):
            common = set(re.findall(r"`([A-Z][A-Z0-9_]+)", line))
            continue
        match = re.match(r"^- (ingest|transcode|nlp) `(\w+)`: (.*)$", line)
        if not match:
            continue
        required: set[str] = set()
        optional: set[str] = set()
        # Split at commas outside parentheses: "`A` (default 1, at most 2), `B` (optional)".
        for part in re.split(r",\s*(?![^()]*\))", match.group(3)):
            names = re.findall(r"`([A-Z][A-Z0-9_]+)`", part)
            if names:
                (optional if "(optional" in part else required).add(names[0])
        per_function[(match.group(1), match.group(2))] = (required, optional)
    return common, per_function
