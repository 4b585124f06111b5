"""HTTP API routes read from a deployed CloudFormation template.

moto's CloudFormation skips ``AWS::ApiGatewayV2::*`` resources, so the routes, their JWT authorizers, the
integrations (which function) and the CORS configuration are taken from the template the Framework deployed:
the same source API Gateway builds the API from.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vidsense_local.apigw.routes import CorsConfig, HttpRoute, JwtAuthorizerConfig, RouteTable

Template = Mapping[str, Any]


def _ref_target(value: Any) -> str | None:
    """The logical id an intrinsic points at (Ref, Fn::GetAtt, or inside Fn::Join/Fn::Sub)."""
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            return str(target[0] if isinstance(target, list) else str(target).split(".", 1)[0])
        if "Fn::Join" in value:
            for part in value["Fn::Join"][1]:
                found = _ref_target(part)
                if found:
                    return found
        if "Fn::Sub" in value:
            text = value["Fn::Sub"][0] if isinstance(value["Fn::Sub"], list) else value["Fn::Sub"]
            if isinstance(text, str) and "${" in text:
                return text.split("${", 1)[1].split("}", 1)[0].split(".", 1)[0]
    if isinstance(value, str) and value.startswith("integrations/"):
        return value.split("/", 1)[1]
    return None


def _string(value: Any, parameters: Mapping[str, str]) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Ref" in value and value["Ref"] in parameters:
        return parameters[value["Ref"]]
    if isinstance(value, dict) and "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
        text: str = value["Fn::Sub"]
        for name, resolved in parameters.items():
            text = text.replace("${" + name + "}", resolved)
        return text
    raise ValueError(f"cannot resolve {value!r} offline")


def routes_from_template(
    template: Template,
    *,
    function_names: Mapping[str, str] | None = None,
    parameters: Mapping[str, str] | None = None,
    api_id: str = "local",
) -> RouteTable:
    """Routes of every ``AWS::ApiGatewayV2::Route`` in ``template``.

    ``function_names`` maps Lambda logical ids to deployed names (from the stack's resources) when the template
    leaves ``FunctionName`` to CloudFormation.
    """
    resources: Mapping[str, Any] = template.get("Resources", {})
    params = dict(parameters or {})
    names = dict(function_names or {})

    def function_name(logical_id: str) -> str:
        if logical_id in names:
            return names[logical_id]
        props = resources.get(logical_id, {}).get("Properties", {})
        return _string(props.get("FunctionName"), params)

    cors: CorsConfig | None = None
    for resource in resources.values():
        if resource.get("Type") == "AWS::ApiGatewayV2::Api":
            config = resource.get("Properties", {}).get("CorsConfiguration")
            if config:
                cors = CorsConfig(
                    allow_origins=tuple(config.get("AllowOrigins", [])),
                    allow_methods=tuple(config.get("AllowMethods", [])),
                    allow_headers=tuple(config.get("AllowHeaders", [])),
                    expose_headers=tuple(config.get("ExposeHeaders", [])),
                    max_age=config.get("MaxAge"),
                    allow_credentials=bool(config.get("AllowCredentials", False)),
                )
    routes: list[HttpRoute] = []
    for resource in resources.values():
        if resource.get("Type") != "AWS::ApiGatewayV2::Route":
            continue
        props = resource.get("Properties", {})
        route_key = str(props["RouteKey"])
        integration_id = _ref_target(props.get("Target"))
        if integration_id is None or integration_id not in resources:
            continue
        integration = resources[integration_id].get("Properties", {})
        function_id = _ref_target(integration.get("IntegrationUri"))
        if function_id is None:
            continue
        authorizer: JwtAuthorizerConfig | None = None
        if props.get("AuthorizationType") == "JWT":
            authorizer_id = _ref_target(props.get("AuthorizerId"))
            auth_props = resources.get(authorizer_id or "", {}).get("Properties", {})
            jwt_config = auth_props.get("JwtConfiguration", {})
            audience = jwt_config.get("Audience", [])
            authorizer = JwtAuthorizerConfig(
                issuer=_string(jwt_config.get("Issuer"), params),
                audiences=tuple(_string(a, params) for a in audience),
                identity_source=str((auth_props.get("IdentitySource") or ["$request.header.Authorization"])[0]),
            )
        method, _, path = route_key.partition(" ")
        routes.append(
            HttpRoute(
                method="ANY" if route_key == "$default" else method,
                path="$default" if route_key == "$default" else path,
                function=function_name(function_id),
                authorizer=authorizer,
                scopes=tuple(props.get("AuthorizationScopes", []) or []),
                payload_format=str(integration.get("PayloadFormatVersion", "2.0")),
            )
        )
    return RouteTable(routes=tuple(routes), cors=cors, api_id=api_id)
