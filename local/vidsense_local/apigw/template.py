"""The HTTP API of a CloudFormation template that is not deployed (tests, tools): read as a deployed one is.

moto's CloudFormation skips ``AWS::ApiGatewayV2::*`` resources, so the routes, their JWT authorizers, the
integrations (which function) and the CORS configuration come from the template the Framework deployed, through
the one reader of deployed stacks (``vidsense_local.discovery``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vidsense_local.discovery import DeployedStack, RouteTable, http_api


def routes_from_template(
    template: Mapping[str, Any],
    *,
    function_names: Mapping[str, str] | None = None,
    parameters: Mapping[str, str] | None = None,
    api_id: str = "local",
    region: str = "us-east-1",
    account_id: str = "123456789012",
) -> RouteTable:
    """Routes of every ``AWS::ApiGatewayV2::Route`` in ``template``.

    ``function_names`` maps Lambda logical ids to deployed names (a stack's physical ids); without one, a function
    is known by its template's ``FunctionName``.
    """
    resources: Mapping[str, Any] = template.get("Resources", {})
    declared = {
        logical_id: name
        for logical_id, resource in resources.items()
        if resource.get("Type") == "AWS::Lambda::Function"
        and isinstance(name := resource.get("Properties", {}).get("FunctionName"), str)
    }
    stack = DeployedStack.of(
        "template",
        dict(template),
        declared | dict(function_names or {}),
        region=region,
        account_id=account_id,
        parameters=parameters,
    )
    table = http_api(stack)
    return RouteTable(table.routes, table.cors, api_id)
