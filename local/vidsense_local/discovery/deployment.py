"""Read the deployed functions and triggers back from the local AWS; create what moto's CloudFormation skips."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
from typing import Any

from botocore.exceptions import ClientError

from vidsense_local.clients import local_client
from vidsense_local.discovery.intrinsics import Unresolved, refs_in
from vidsense_local.discovery.model import (
    BucketNotification,
    BucketSettings,
    CorsConfig,
    Deployment,
    FunctionSpec,
    HttpRoute,
    JwtAuthorizerConfig,
    QueuePolicy,
    RouteTable,
    RuleTarget,
    SnsSubscription,
    function_name_from_arn,
)
from vidsense_local.discovery.stacks import DeployedStack, deployed_stacks

log = logging.getLogger(__name__)

_FUNCTION_IN_ARN = re.compile(r":function:([^/:]+)")


def discover(endpoint_url: str, region: str, account_id: str) -> Deployment:
    """Everything the runtime needs, read from the Lambda, CloudFormation and EventBridge APIs."""
    lam = local_client("lambda", endpoint_url, region)
    deployment = Deployment()
    stacks = deployed_stacks(endpoint_url, region, account_id)

    by_function_name: dict[str, tuple[DeployedStack, str]] = {}
    for stack in stacks:
        for lid, physical in stack.physical_ids.items():
            if stack.resolver.types.get(lid) == "AWS::Lambda::Function":
                by_function_name[physical] = (stack, lid)

    for page in lam.get_paginator("list_functions").paginate():
        for listed in page["Functions"]:
            name = listed["FunctionName"]
            cfg = lam.get_function_configuration(FunctionName=name)
            stack_and_lid = by_function_name.get(name)
            deployment.functions[name] = _function_spec(lam, cfg, stack_and_lid)

    routes: list[HttpRoute] = []
    cors: CorsConfig | None = None
    api_id = "local"
    for stack in stacks:
        api = http_api(stack)
        if api.routes:
            routes += api.routes
            cors, api_id = cors or api.cors, api.api_id
        deployment.subscriptions += _subscriptions(stack)
        deployment.bucket_notifications += _bucket_notifications(stack)
        deployment.bucket_settings += _bucket_settings(stack)
        deployment.queue_policies += _queue_policies(stack)
    deployment.http_api = RouteTable(tuple(routes), cors, api_id)
    deployment.rule_targets = _rule_targets(endpoint_url, region)
    return deployment


def _function_spec(lam: Any, cfg: dict[str, Any], stack_and_lid: tuple[DeployedStack, str] | None) -> FunctionSpec:
    name = cfg["FunctionName"]
    template_props: dict[str, Any] = {}
    invoke_cfg: dict[str, Any] = {}
    stack_name = lid = None
    if stack_and_lid is not None:
        stack, lid = stack_and_lid
        stack_name = stack.name
        template_props = stack.resolver.resolve(stack.template["Resources"][lid].get("Properties", {}))
        for _, props in stack.resources("AWS::Lambda::EventInvokeConfig"):
            if lid in refs_in(props.get("FunctionName")):
                invoke_cfg = stack.resolver.resolve(props)
    # The Lambda API wins over the template: it is what an operator may have changed since.
    with contextlib.suppress(ClientError):
        invoke_cfg = lam.get_function_event_invoke_config(FunctionName=name)
    dlq = (cfg.get("DeadLetterConfig") or {}).get("TargetArn") or (template_props.get("DeadLetterConfig") or {}).get(
        "TargetArn"
    )
    destinations = invoke_cfg.get("DestinationConfig") or {}
    env = (cfg.get("Environment") or {}).get("Variables")
    if env is None:
        env = (template_props.get("Environment") or {}).get("Variables") or {}
    return FunctionSpec(
        name=name,
        arn=cfg["FunctionArn"].split(":$LATEST")[0],
        handler=cfg.get("Handler") or template_props.get("Handler", ""),
        runtime=cfg.get("Runtime") or template_props.get("Runtime", ""),
        environment={k: str(v) for k, v in env.items()},
        timeout=int(cfg.get("Timeout") or template_props.get("Timeout") or 3),
        memory_size=int(cfg.get("MemorySize") or template_props.get("MemorySize") or 128),
        dead_letter_target=_str_or_none(dlq),
        maximum_retry_attempts=int(invoke_cfg.get("MaximumRetryAttempts", 2)),
        maximum_event_age_seconds=int(invoke_cfg.get("MaximumEventAgeInSeconds", 21600)),
        on_failure_destination=_str_or_none((destinations.get("OnFailure") or {}).get("Destination")),
        on_success_destination=_str_or_none((destinations.get("OnSuccess") or {}).get("Destination")),
        stack_name=stack_name,
        logical_id=lid,
    )


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def http_api(stack: DeployedStack) -> RouteTable:
    """The stack's HTTP API: routes with their integration's function and JWT authorizer, and its CORS."""
    resources = stack.template.get("Resources", {})
    authorizers: dict[str, JwtAuthorizerConfig] = {}
    for lid, props in stack.resources("AWS::ApiGatewayV2::Authorizer"):
        p = stack.resolver.resolve(props)
        jwt = p.get("JwtConfiguration") or {}
        if p.get("AuthorizerType") == "JWT":
            authorizers[lid] = JwtAuthorizerConfig(
                issuer=str(jwt.get("Issuer", "")),
                audiences=tuple(str(a) for a in jwt.get("Audience", [])),
                identity_source=tuple(p.get("IdentitySource") or ["$request.header.Authorization"]),
            )
    routes: list[HttpRoute] = []
    for _lid, props in stack.resources("AWS::ApiGatewayV2::Route"):
        p = stack.resolver.resolve(props)
        integration_ids = [r for r in refs_in(props.get("Target")) if r in resources]
        if not integration_ids:
            continue
        integration = stack.resolver.resolve(resources[integration_ids[0]].get("Properties", {}))
        match = _FUNCTION_IN_ARN.search(str(integration.get("IntegrationUri", "")))
        if match is None:
            log.warning("route %s: integration is not a Lambda function", p.get("RouteKey"))
            continue
        route_key = str(p.get("RouteKey", ""))
        method, _, path = route_key.partition(" ")
        if route_key == "$default":
            method, path = "ANY", "$default"
        auth_ids = refs_in(props.get("AuthorizerId"))
        authorizer = authorizers.get(auth_ids[0]) if auth_ids else None
        if p.get("AuthorizationType") not in ("JWT", None) and authorizer is None:
            log.warning("route %s: authorization type %s is not served locally", route_key, p.get("AuthorizationType"))
        routes.append(
            HttpRoute(
                method=method.upper(),
                path=path,
                function=match.group(1),
                authorizer=authorizer if p.get("AuthorizationType") == "JWT" else None,
                scopes=tuple(p.get("AuthorizationScopes") or ()),
                payload_format=str(integration.get("PayloadFormatVersion", "2.0")),
                stack_name=stack.name,
            )
        )
    cors: CorsConfig | None = None
    for _lid, props in stack.resources("AWS::ApiGatewayV2::Api"):
        config = stack.resolver.resolve(props.get("CorsConfiguration"))
        if config:
            cors = CorsConfig(
                allow_origins=tuple(config.get("AllowOrigins", [])),
                allow_methods=tuple(config.get("AllowMethods", [])),
                allow_headers=tuple(config.get("AllowHeaders", [])),
                expose_headers=tuple(config.get("ExposeHeaders", [])),
                max_age=config.get("MaxAge"),
                allow_credentials=bool(config.get("AllowCredentials", False)),
            )
    # API Gateway ids are 10 lower-case alphanumerics; a stable one per stack keeps logs comparable.
    return RouteTable(tuple(routes), cors, hashlib.sha256(stack.name.encode()).hexdigest()[:10])


def _subscriptions(stack: DeployedStack) -> list[SnsSubscription]:
    out: list[SnsSubscription] = []
    for lid, props in stack.resources("AWS::SNS::Subscription"):
        p = stack.resolver.resolve(props)
        topic, endpoint = p.get("TopicArn"), p.get("Endpoint")
        if isinstance(topic, Unresolved) or isinstance(endpoint, Unresolved) or not topic or not endpoint:
            log.warning("subscription %s in %s has unresolved references", lid, stack.name)
            continue
        attrs: dict[str, str] = {}
        for key in ("FilterPolicy", "RedrivePolicy", "DeliveryPolicy"):
            if key in p:
                attrs[key] = p[key] if isinstance(p[key], str) else json.dumps(p[key])
        for key in ("FilterPolicyScope",):
            if key in p:
                attrs[key] = str(p[key])
        if "RawMessageDelivery" in p:
            attrs["RawMessageDelivery"] = str(p["RawMessageDelivery"]).lower()
        out.append(SnsSubscription(str(topic), str(p.get("Protocol", "")), str(endpoint), attrs, stack.name))
    return out


def _bucket_notifications(stack: DeployedStack) -> list[BucketNotification]:
    out: list[BucketNotification] = []
    for lid, props in stack.resources("AWS::S3::Bucket"):
        bucket = stack.physical_ids.get(lid)
        config = props.get("NotificationConfiguration")
        if not bucket or not config:
            continue
        p = stack.resolver.resolve(config)
        for key, kind, target_key in (
            ("LambdaConfigurations", "lambda", "Function"),
            ("QueueConfigurations", "queue", "Queue"),
            ("TopicConfigurations", "topic", "Topic"),
        ):
            for entry in p.get(key, []):
                rules = ((entry.get("Filter") or {}).get("S3Key") or {}).get("Rules", [])
                out.append(
                    BucketNotification(
                        bucket=bucket,
                        kind=kind,
                        target_arn=str(entry.get(target_key)),
                        events=(str(entry.get("Event")),),
                        filter_rules=tuple((str(r["Name"]).lower(), str(r["Value"])) for r in rules),
                        stack_name=stack.name,
                    )
                )
    # The Framework's `existing: true` S3 events: a custom resource instead of NotificationConfiguration.
    for _lid, props in stack.resources("Custom::S3"):
        p = stack.resolver.resolve(props)
        fn = str(p.get("FunctionName", ""))
        region, account = stack.region, stack.account_id
        fn_arn = fn if fn.startswith("arn:") else f"arn:aws:lambda:{region}:{account}:function:{fn}"
        for cfg in p.get("BucketConfigs", []):
            rules = tuple((k.lower(), str(v)) for rule in cfg.get("Rules", []) for k, v in rule.items())
            out.append(
                BucketNotification(
                    str(p.get("BucketName")), "lambda", fn_arn, (str(cfg.get("Event")),), rules, stack.name
                )
            )
    return out


# Template names of a CORS rule's fields -> S3 API names.
_CORS_FIELDS = {
    "AllowedOrigins": "AllowedOrigins",
    "AllowedMethods": "AllowedMethods",
    "AllowedHeaders": "AllowedHeaders",
    "ExposedHeaders": "ExposeHeaders",
    "MaxAge": "MaxAgeSeconds",
    "Id": "ID",
}


def _bucket_settings(stack: DeployedStack) -> list[BucketSettings]:
    """Versioning (the media bucket's first-version-wins rule needs version ids) and CORS (the edge enforces each
    bucket's rules for browsers: the web client's uploads)."""
    out: list[BucketSettings] = []
    for lid, props in stack.resources("AWS::S3::Bucket"):
        bucket = stack.physical_ids.get(lid)
        if not bucket:
            continue
        wanted = ("VersioningConfiguration", "CorsConfiguration")
        p = stack.resolver.resolve({key: props[key] for key in wanted if key in props})
        status = (p.get("VersioningConfiguration") or {}).get("Status")
        rules = (p.get("CorsConfiguration") or {}).get("CorsRules") or []
        if status in ("Enabled", "Suspended") or rules:
            out.append(
                BucketSettings(
                    bucket,
                    status if status in ("Enabled", "Suspended") else None,
                    tuple({_CORS_FIELDS[k]: v for k, v in rule.items() if k in _CORS_FIELDS} for rule in rules),
                )
            )
    return out


def _queue_policies(stack: DeployedStack) -> list[QueuePolicy]:
    out: list[QueuePolicy] = []
    for _lid, props in stack.resources("AWS::SQS::QueuePolicy"):
        p = stack.resolver.resolve(props)
        doc = p.get("PolicyDocument")
        for url in p.get("Queues", []):
            if isinstance(url, str) and isinstance(doc, dict):
                out.append(QueuePolicy(url, doc, stack.name))
    return out


def _rule_targets(endpoint_url: str, region: str) -> list[RuleTarget]:
    events = local_client("events", endpoint_url, region)
    out: list[RuleTarget] = []
    for bus in events.list_event_buses().get("EventBuses", []):
        for page in events.get_paginator("list_rules").paginate(EventBusName=bus["Name"]):
            for rule in page["Rules"]:
                targets = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus["Name"])["Targets"]
                for target in targets:
                    if ":lambda:" in target["Arn"]:
                        out.append(
                            RuleTarget(
                                bus=bus["Name"],
                                rule=rule["Name"],
                                event_pattern=rule.get("EventPattern"),
                                function_arn=target["Arn"],
                                schedule_expression=rule.get("ScheduleExpression"),
                                state=rule.get("State", "ENABLED"),
                                rule_arn=rule.get("Arn", ""),
                                target_input=target.get("Input"),
                            )
                        )
    return out


def apply_skipped(deployment: Deployment, endpoint_url: str, region: str) -> None:
    """Create in moto what its CloudFormation skipped: SNS subscriptions, bucket notifications, bucket versioning
    and CORS rules, queue policies.

    Idempotent: existing subscriptions are kept, notification configurations are replaced by the merged set.
    """
    sns = local_client("sns", endpoint_url, region)
    for sub in deployment.subscriptions:
        existing = sns.list_subscriptions_by_topic(TopicArn=sub.topic_arn)["Subscriptions"]
        if any(s["Protocol"] == sub.protocol and s["Endpoint"] == sub.endpoint for s in existing):
            continue
        sns.subscribe(
            TopicArn=sub.topic_arn,
            Protocol=sub.protocol,
            Endpoint=sub.endpoint,
            Attributes=sub.attributes,
            ReturnSubscriptionArn=True,
        )

    s3 = local_client("s3", endpoint_url, region)
    for settings in deployment.bucket_settings:
        if settings.versioning:
            s3.put_bucket_versioning(Bucket=settings.bucket, VersioningConfiguration={"Status": settings.versioning})
        if settings.cors_rules:
            s3.put_bucket_cors(Bucket=settings.bucket, CORSConfiguration={"CORSRules": list(settings.cors_rules)})
    by_bucket: dict[str, list[BucketNotification]] = {}
    for note in deployment.bucket_notifications:
        by_bucket.setdefault(note.bucket, []).append(note)
    for bucket, notes in by_bucket.items():
        current = s3.get_bucket_notification_configuration(Bucket=bucket)
        current.pop("ResponseMetadata", None)
        for note in notes:
            key, arn_key = {
                "lambda": ("LambdaFunctionConfigurations", "LambdaFunctionArn"),
                "queue": ("QueueConfigurations", "QueueArn"),
                "topic": ("TopicConfigurations", "TopicArn"),
            }[note.kind]
            entry: dict[str, Any] = {arn_key: note.target_arn, "Events": list(note.events)}
            if note.filter_rules:
                entry["Filter"] = {"Key": {"FilterRules": [{"Name": n, "Value": v} for n, v in note.filter_rules]}}
            entries = current.setdefault(key, [])
            if not any(_same_entry(e, entry, arn_key) for e in entries):
                entries.append(entry)
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=current)

    sqs = local_client("sqs", endpoint_url, region)
    for qp in deployment.queue_policies:
        sqs.set_queue_attributes(QueueUrl=qp.queue_url, Attributes={"Policy": json.dumps(qp.policy)})


def _same_entry(a: dict[str, Any], b: dict[str, Any], arn_key: str) -> bool:
    def rules(e: dict[str, Any]) -> list[tuple[str, str]]:
        return sorted(
            (r["Name"].lower(), r["Value"]) for r in e.get("Filter", {}).get("Key", {}).get("FilterRules", [])
        )

    return (
        function_name_from_arn(a[arn_key]) == function_name_from_arn(b[arn_key])
        and a[arn_key].split(":")[-1] == b[arn_key].split(":")[-1]
        and sorted(a["Events"]) == sorted(b["Events"])
        and rules(a) == rules(b)
    )
