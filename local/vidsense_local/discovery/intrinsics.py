"""Resolve CloudFormation intrinsic functions of a deployed template against the stack's resources.

Only what Serverless Framework templates use: ``Ref``, ``Fn::GetAtt``, ``Fn::Sub``, ``Fn::Join``,
``Fn::Select``, ``Fn::Split``, ``Fn::If``. A ``Ref``/``GetAtt`` to a resource moto did not create (ApiGatewayV2,
SNS::Subscription, ...) resolves to ``Unresolved(logical_id)`` so callers can still follow the reference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Unresolved:
    """A reference that moto has no physical resource for; ``logical_id`` names the template resource."""

    logical_id: str
    attribute: str | None = None

    def __str__(self) -> str:
        return f"<unresolved {self.logical_id}{'.' + self.attribute if self.attribute else ''}>"


_NO_VALUE = object()


class Resolver:
    def __init__(
        self,
        template: dict[str, Any],
        physical_ids: dict[str, str],
        resource_types: dict[str, str],
        parameters: dict[str, str],
        *,
        region: str,
        account_id: str,
        stack_name: str,
        stack_id: str = "",
    ) -> None:
        self.template = template
        self.physical_ids = physical_ids
        self.types = {lid: res.get("Type", "") for lid, res in template.get("Resources", {}).items()} | resource_types
        self.parameters = parameters
        self.region = region
        self.account_id = account_id
        self.pseudo = {
            "AWS::Region": region,
            "AWS::AccountId": account_id,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": stack_name,
            "AWS::StackId": stack_id,
        }
        self.conditions = template.get("Conditions", {})

    def resolve(self, value: Any) -> Any:
        out = self._resolve(value)
        return None if out is _NO_VALUE else out

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [r for r in (self._resolve(v) for v in value) if r is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(str(arg))
            if key == "Fn::GetAtt":
                parts = arg.split(".", 1) if isinstance(arg, str) else list(arg)
                return self.get_att(str(parts[0]), str(self._resolve(parts[1])))
            if key == "Fn::Sub":
                return self.sub(arg)
            if key == "Fn::Join":
                sep, items = arg
                return str(sep).join(str(i) for i in self._resolve(items))
            if key == "Fn::Select":
                index, items = arg
                return self._resolve(items)[int(self._resolve(index))]
            if key == "Fn::Split":
                sep, text = arg
                return str(self._resolve(text)).split(sep)
            if key == "Fn::If":
                cond, yes, no = arg
                return self._resolve(yes if self.condition(cond) else no)
            if key == "Fn::ImportValue":
                return Unresolved(str(self._resolve(arg)))
        return {k: r for k, r in ((k, self._resolve(v)) for k, v in value.items()) if r is not _NO_VALUE}

    def condition(self, name: str) -> bool:
        spec = self.conditions.get(name)
        return bool(self._eval_condition(spec)) if spec is not None else False

    def _eval_condition(self, spec: Any) -> Any:
        if isinstance(spec, dict) and len(spec) == 1:
            ((key, arg),) = spec.items()
            if key == "Fn::Equals":
                a, b = (self._eval_condition(x) for x in arg)
                return a == b
            if key == "Fn::Not":
                return not self._eval_condition(arg[0])
            if key == "Fn::And":
                return all(self._eval_condition(x) for x in arg)
            if key == "Fn::Or":
                return any(self._eval_condition(x) for x in arg)
            if key == "Condition":
                return self.condition(str(arg))
        return self._resolve(spec)

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.physical_ids:
            return self.physical_ids[name]
        return Unresolved(name)

    def get_att(self, logical_id: str, attribute: str) -> Any:
        physical = self.physical_ids.get(logical_id)
        rtype = self.types.get(logical_id, "")
        if physical is None:
            return Unresolved(logical_id, attribute)
        region, account = self.region, self.account_id
        if rtype == "AWS::Lambda::Function" and attribute == "Arn":
            return f"arn:aws:lambda:{region}:{account}:function:{physical}"
        if rtype == "AWS::SQS::Queue":
            name = physical.rstrip("/").rsplit("/", 1)[-1]
            return {"Arn": f"arn:aws:sqs:{region}:{account}:{name}", "QueueName": name, "QueueUrl": physical}.get(
                attribute, Unresolved(logical_id, attribute)
            )
        if rtype == "AWS::SNS::Topic":
            arn = physical if physical.startswith("arn:") else f"arn:aws:sns:{region}:{account}:{physical}"
            return {"TopicArn": arn, "Arn": arn, "TopicName": arn.rsplit(":", 1)[-1]}.get(
                attribute, Unresolved(logical_id, attribute)
            )
        if rtype == "AWS::S3::Bucket":
            return {
                "Arn": f"arn:aws:s3:::{physical}",
                "DomainName": f"{physical}.s3.amazonaws.com",
                "RegionalDomainName": f"{physical}.s3.{region}.amazonaws.com",
            }.get(attribute, Unresolved(logical_id, attribute))
        if rtype == "AWS::Events::EventBus":
            name = physical.rsplit("/", 1)[-1]
            return {"Name": name, "Arn": f"arn:aws:events:{region}:{account}:event-bus/{name}"}.get(
                attribute, Unresolved(logical_id, attribute)
            )
        if rtype == "AWS::DynamoDB::Table" and attribute == "Arn":
            return f"arn:aws:dynamodb:{region}:{account}:table/{physical}"
        if rtype == "AWS::IAM::Role" and attribute == "Arn":
            return f"arn:aws:iam::{account}:role/{physical}"
        if rtype == "AWS::Events::Rule" and attribute == "Arn":
            return physical if physical.startswith("arn:") else f"arn:aws:events:{region}:{account}:rule/{physical}"
        if attribute in ("Arn", "Name") and physical.startswith("arn:"):
            return physical
        return Unresolved(logical_id, attribute)

    def sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            text, variables = arg[0], {k: self._resolve(v) for k, v in arg[1].items()}
        else:
            text, variables = arg, {}

        def repl(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                lid, att = name.split(".", 1)
                return str(self.get_att(lid, att))
            return str(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", repl, str(text))


def refs_in(value: Any) -> list[str]:
    """Logical ids referenced (``Ref``/``GetAtt``) anywhere inside a template value."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, arg in value.items():
            if key == "Ref" and isinstance(arg, str):
                found.append(arg)
            elif key == "Fn::GetAtt":
                found.append(arg.split(".", 1)[0] if isinstance(arg, str) else str(arg[0]))
            else:
                found += refs_in(arg)
    elif isinstance(value, list):
        for item in value:
            found += refs_in(item)
    return found
