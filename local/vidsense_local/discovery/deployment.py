"""Read the deployed functions and triggers back from the local AWS; create what moto's CloudFormation skips."""

from __future__ import annotations

import contextlib
import json
import logging
import re
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from vidsense_local.discovery.intrinsics import Resolver, Unresolved, refs_in
from vidsense_local.discovery.model import (
    BucketNotification,
    Deployment,
    FunctionSpec,
    HttpRoute,
    JwtAuthorizer,
    QueuePolicy,
    RuleTarget,
    SnsSubscription,
    function_name_from_arn,
)

__all__ = [
    "BucketNotification",
    "Deployment",
    "QueuePolicy",
    "SnsSubscription",
    "apply_skipped",
    "discover",
]

log = logging.getLogger(__name__)

_LIVE_STATUSES = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE"}
_FUNCTION_IN_ARN = re.compile(r":function:([^/:]+)")


def aws_client(service: str, endpoint_url: str, region: str) -> Any:
    # Fake static credentials: moto maps the access key to its default account (the local stage's account).
    session: Any = boto3.session.Session()
    return session.client(
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id="test",
        aws_secret_access_key="test",  # noqa: S106 - moto accepts any secret
        config=Config(retries={"max_attempts": 2, "mode": "standard"}),
    )


def discover(endpoint_url: str, region: str, account_id: str) -> Deployment:
    """Everything the runtime needs, read from the Lambda, CloudFormation and EventBridge APIs."""
    lam = aws_client("lambda", endpoint_url, region)
    deployment = Deployment()
    stacks = _stacks(endpoint_url, region, account_id)

    by_function_name: dict[str, tuple[_Stack, str]] = {}
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

    for stack in stacks:
        deployment.routes += _routes(stack)
        deployment.subscriptions += _subscriptions(stack)
        deployment.bucket_notifications += _bucket_notifications(stack)
        deployment.queue_policies += _queue_policies(stack)
    deployment.rule_targets = _rule_targets(endpoint_url, region)
    return deployment


class _Stack:
    def __init__(self, name: str, template: dict[str, Any], resolver: Resolver, physical_ids: dict[str, str]):
        self.name = name
        self.template = template
        self.resolver = resolver
        self.physical_ids = physical_ids

    def resources(self, rtype: str) -> list[tuple[str, dict[str, Any]]]:
        return [
            (lid, res.get("Properties", {}))
            for lid, res in self.template.get("Resources", {}).items()
            if res.get("Type") == rtype and _condition_holds(self, res)
        ]


def _condition_holds(stack: _Stack, resource: dict[str, Any]) -> bool:
    cond = resource.get("Condition")
    return cond is None or stack.resolver.condition(str(cond))


def _stacks(endpoint_url: str, region: str, account_id: str) -> list[_Stack]:
    cfn = aws_client("cloudformation", endpoint_url, region)
    out: list[_Stack] = []
    for page in cfn.get_paginator("describe_stacks").paginate():
        for stack in page["Stacks"]:
            if stack["StackStatus"] not in _LIVE_STATUSES:
                continue
            name = stack["StackName"]
            template = _load_template(cfn.get_template(StackName=name)["TemplateBody"])
            # moto lists the resources it skipped without ids: keep only the ones it created.
            resources = [
                r
                for r in cfn.describe_stack_resources(StackName=name)["StackResources"]
                if r.get("LogicalResourceId") and r.get("ResourceType")
            ]
            physical = {
                r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources if r.get("PhysicalResourceId")
            }
            types = {r["LogicalResourceId"]: r["ResourceType"] for r in resources}
            params = {
                k: str(v.get("Default"))
                for k, v in template.get("Parameters", {}).items()
                if v.get("Default") is not None
            } | {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
            resolver = Resolver(
                template,
                physical,
                types,
                params,
                region=region,
                account_id=account_id,
                stack_name=name,
                stack_id=stack.get("StackId", ""),
            )
            out.append(_Stack(name, template, resolver, physical))
    return out


def _load_template(body: Any) -> dict[str, Any]:
    # The Framework deploys JSON templates; boto3 may already have decoded the body.
    loaded = body if isinstance(body, dict) else json.loads(str(body))
    return loaded if isinstance(loaded, dict) else {}


def _function_spec(lam: Any, cfg: dict[str, Any], stack_and_lid: tuple[_Stack, str] | None) -> FunctionSpec:
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


def _routes(stack: _Stack) -> list[HttpRoute]:
    resources = stack.template.get("Resources", {})
    authorizers: dict[str, JwtAuthorizer] = {}
    for lid, props in stack.resources("AWS::ApiGatewayV2::Authorizer"):
        p = stack.resolver.resolve(props)
        jwt = p.get("JwtConfiguration") or {}
        if p.get("AuthorizerType") == "JWT":
            authorizers[lid] = JwtAuthorizer(
                name=str(p.get("Name", lid)),
                issuer=str(jwt.get("Issuer", "")),
                audience=tuple(str(a) for a in jwt.get("Audience", [])),
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
        fn_name = match.group(1)
        route_key = str(p.get("RouteKey", ""))
        method, _, path = route_key.partition(" ")
        if route_key == "$default":
            method, path = "ANY", "$default"
        auth_ids = refs_in(props.get("AuthorizerId"))
        authorizer = authorizers.get(auth_ids[0]) if auth_ids else None
        if p.get("AuthorizationType") not in ("JWT", None) and authorizer is None:
            log.warning("route %s: authorization type %s is not served locally", route_key, p.get("AuthorizationType"))
        arn_prefix = f"arn:aws:lambda:{stack.resolver.region}:{stack.resolver.account_id}:function:"
        routes.append(
            HttpRoute(
                method=method.upper(),
                path=path,
                route_key=route_key,
                function_name=fn_name,
                function_arn=arn_prefix + fn_name,
                payload_format_version=str(integration.get("PayloadFormatVersion", "2.0")),
                authorizer=authorizer if p.get("AuthorizationType") == "JWT" else None,
                authorization_scopes=tuple(p.get("AuthorizationScopes") or ()),
                stack_name=stack.name,
            )
        )
    return routes


def _subscriptions(stack: _Stack) -> list[SnsSubscription]:
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


def _bucket_notifications(stack: _Stack) -> list[BucketNotification]:
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
        region, account = stack.resolver.region, stack.resolver.account_id
        fn_arn = fn if fn.startswith("arn:") else f"arn:aws:lambda:{region}:{account}:function:{fn}"
        for cfg in p.get("BucketConfigs", []):
            rules = tuple((k.lower(), str(v)) for rule in cfg.get("Rules", []) for k, v in rule.items())
            out.append(
                BucketNotification(
                    str(p.get("BucketName")), "lambda", fn_arn, (str(cfg.get("Event")),), rules, stack.name
                )
            )
    return out


def _queue_policies(stack: _Stack) -> list[QueuePolicy]:
    out: list[QueuePolicy] = []
    for _lid, props in stack.resources("AWS::SQS::QueuePolicy"):
        p = stack.resolver.resolve(props)
        doc = p.get("PolicyDocument")
        for url in p.get("Queues", []):
            if isinstance(url, str) and isinstance(doc, dict):
                out.append(QueuePolicy(url, doc, stack.name))
    return out


def _rule_targets(endpoint_url: str, region: str) -> list[RuleTarget]:
    events = aws_client("events", endpoint_url, region)
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
    """Create in moto what its CloudFormation skipped: SNS subscriptions, bucket notifications, queue policies.

    Idempotent: existing subscriptions are kept, notification configurations are replaced by the merged set.
    """
    sns = aws_client("sns", endpoint_url, region)
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

    s3 = aws_client("s3", endpoint_url, region)
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

    sqs = aws_client("sqs", endpoint_url, region)
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
