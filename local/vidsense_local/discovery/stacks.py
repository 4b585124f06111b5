"""The one reader of the CloudFormation stacks deployed at the local endpoint.

Each live stack comes back with its template and a ``Resolver`` of its intrinsics bound to the physical ids moto
created, so every part of the local stack (discovery, the HTTP API, the bucket settings) reads the same thing once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vidsense_local.clients import local_client
from vidsense_local.discovery.intrinsics import Resolver

_LIVE_STATUSES = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE"}


@dataclass(frozen=True)
class DeployedStack:
    name: str
    template: dict[str, Any]
    resolver: Resolver

    @property
    def physical_ids(self) -> dict[str, str]:
        return self.resolver.physical_ids

    @property
    def region(self) -> str:
        return self.resolver.region

    @property
    def account_id(self) -> str:
        return self.resolver.account_id

    def resources(self, resource_type: str) -> list[tuple[str, dict[str, Any]]]:
        """(logical id, unresolved properties) of the template's resources of a type whose condition holds."""
        return [
            (logical_id, resource.get("Properties", {}))
            for logical_id, resource in self.template.get("Resources", {}).items()
            if resource.get("Type") == resource_type and self._condition_holds(resource)
        ]

    def _condition_holds(self, resource: dict[str, Any]) -> bool:
        condition = resource.get("Condition")
        return condition is None or self.resolver.condition(str(condition))

    @classmethod
    def of(
        cls,
        name: str,
        template: dict[str, Any],
        physical_ids: Mapping[str, str],
        *,
        region: str,
        account_id: str,
        resource_types: Mapping[str, str] | None = None,
        parameters: Mapping[str, str] | None = None,
        stack_id: str = "",
    ) -> DeployedStack:
        """A stack from its parts: the endpoint's (``deployed_stacks``) or a test's template and ids."""
        defaults = {
            key: str(spec["Default"])
            for key, spec in template.get("Parameters", {}).items()
            if spec.get("Default") is not None
        }
        resolver = Resolver(
            template,
            dict(physical_ids),
            dict(resource_types or {}),
            defaults | dict(parameters or {}),
            region=region,
            account_id=account_id,
            stack_name=name,
            stack_id=stack_id,
        )
        return cls(name, template, resolver)


def deployed_stacks(endpoint_url: str, region: str, account_id: str) -> list[DeployedStack]:
    """Every live stack at the endpoint (``DescribeStacks``, ``GetTemplate``, ``DescribeStackResources``)."""
    cfn = local_client("cloudformation", endpoint_url, region)
    out: list[DeployedStack] = []
    for page in cfn.get_paginator("describe_stacks").paginate():
        for stack in page["Stacks"]:
            if stack["StackStatus"] not in _LIVE_STATUSES:
                continue
            name = stack["StackName"]
            # moto lists the resources it skipped without ids: keep only the ones it created.
            resources = [
                r
                for r in cfn.describe_stack_resources(StackName=name)["StackResources"]
                if r.get("LogicalResourceId") and r.get("ResourceType")
            ]
            out.append(
                DeployedStack.of(
                    name,
                    _load_template(cfn.get_template(StackName=name)["TemplateBody"]),
                    {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources if r.get("PhysicalResourceId")},
                    region=region,
                    account_id=account_id,
                    resource_types={r["LogicalResourceId"]: r["ResourceType"] for r in resources},
                    parameters={p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])},
                    stack_id=stack.get("StackId", ""),
                )
            )
    return out


def _load_template(body: Any) -> dict[str, Any]:
    # The Framework deploys JSON templates; boto3 may already have decoded the body; anything else holds nothing
    # of ours.
    try:
        loaded = body if isinstance(body, dict) else json.loads(str(body))
    except json.JSONDecodeError:
        return {}
    return loaded if isinstance(loaded, dict) else {}
