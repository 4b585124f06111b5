"""The route table of the deployed HTTP API, from the function runtime and the deployed stack templates.

The runtime (``FunctionRuntime.http_routes()``) already resolves routes, integrations and authorizers from the
templates ``serverless deploy --stage local`` left in the local CloudFormation; the CORS configuration of the
``AWS::ApiGatewayV2::Api`` is read here from the same templates. When the runtime knows no routes, the
templates are parsed here as a whole.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import boto3

from vidsense_local.apigw.routes import CorsConfig, HttpRoute, JwtAuthorizerConfig, RouteTable
from vidsense_local.apigw.template import routes_from_template


def _deployed_templates(aws_url: str, region: str) -> list[tuple[str, dict[str, Any], dict[str, str]]]:
    """(stack name, template, logical id -> physical id) of every live stack at the local endpoint."""
    cfn: Any = boto3.client("cloudformation", endpoint_url=aws_url, region_name=region)
    out: list[tuple[str, dict[str, Any], dict[str, str]]] = []
    for page in cfn.get_paginator("describe_stacks").paginate():
        for stack in page["Stacks"]:
            if stack["StackStatus"].startswith("DELETE"):
                continue
            name = stack["StackName"]
            body = cfn.get_template(StackName=name)["TemplateBody"]
            template = body if isinstance(body, dict) else _parse(body)
            resources = cfn.describe_stack_resources(StackName=name)["StackResources"]
            # moto lists the resources its CloudFormation skipped without ids.
            physical = {
                r["LogicalResourceId"]: r["PhysicalResourceId"]
                for r in resources
                if r.get("LogicalResourceId") and r.get("PhysicalResourceId")
            }
            out.append((name, template, physical))
    return out


def _parse(body: str) -> dict[str, Any]:
    # The Framework deploys JSON templates; anything else holds no HTTP API of ours.
    try:
        parsed = json.loads(body)
    except json.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _api_id(stack_name: str) -> str:
    # API Gateway ids are 10 lower-case alphanumerics; a stable one per stack keeps logs comparable.
    return hashlib.sha256(stack_name.encode()).hexdigest()[:10]


def route_table(runtime: Any, aws_url: str, region: str) -> RouteTable:
    templates = _deployed_templates(aws_url, region)
    cors: CorsConfig | None = None
    api_id = "local"
    parsed: list[HttpRoute] = []
    for name, template, physical in templates:
        table = routes_from_template(template, function_names=physical, api_id=_api_id(name))
        if table.routes:
            parsed.extend(table.routes)
            cors = cors or table.cors
            api_id = table.api_id
    known = list(runtime.http_routes()) if runtime is not None else []
    if not known:
        return RouteTable(routes=tuple(parsed), cors=cors, api_id=api_id)
    routes = tuple(
        HttpRoute(
            method=route.method,
            path=route.path,
            function=route.function_name,
            authorizer=(
                JwtAuthorizerConfig(issuer=route.authorizer.issuer, audiences=tuple(route.authorizer.audience))
                if route.authorizer is not None
                else None
            ),
            scopes=tuple(route.authorization_scopes),
            payload_format=route.payload_format_version,
        )
        for route in known
    )
    return RouteTable(routes=routes, cors=cors, api_id=api_id)
