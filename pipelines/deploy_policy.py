"""The IAM policy of a service's deploy role: what ``serverless deploy`` of that one service into one stage needs,
and the permissions boundary every role that deploy creates must carry.

CloudFormation creates the stack's resources with the caller's credentials, so the deploy role needs the
permissions of CloudFormation's resource handlers (create, read, update, delete) for every resource type in the
service's stack. Those lists come from the CloudFormation registry schemas that cfn-lint ships (offline, pinned
with cfn-lint), minus the actions listed below with the reason they are not granted. Every action is scoped to
the names that service's stack uses in that stage (``definition.owned_names``); the few actions without
resource-level permissions are listed in ``NO_RESOURCE_LEVEL``.

The deploy of dev runs repository code (buildspec, npm scripts, the Framework's plugins) before anyone approves
prod, so the deploy role must not be a way to more than the service's own permissions: it may create roles and
put policies on them only with the stage's boundary (``boundary_statements``), cannot change or remove that
boundary or its own role and policies (``guard_statements``), and reads no one's recordings or transcripts and
no user-key secret (``data_protection_statements``, also on the build and smoke roles).
"""

import importlib.util
import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from pipelines.definition import BOUNDARY_ACTIONS, SERVICE_RESOURCE_TYPES, SITE_RESOURCE_TYPES, owned_names
from vidsense_shared.resources import StageResources

Json = dict[str, Any]
ARN = "arn:${AWS::Partition}"
REGION_ACCOUNT = "${AWS::Region}:${AWS::AccountId}"
HANDLERS = ("create", "read", "update", "delete")

# Handler permissions that are not granted, with the reason.
NOT_GRANTED_SERVICES: dict[str, str] = {
    "ec2": "Lambda VPC settings: no function runs in a VPC",
    "elasticfilesystem": "Lambda EFS mounts: not used",
    "s3files": "Lambda S3 Files mounts: not used",
    "kinesis": "DynamoDB Kinesis streaming destinations: not used",
    "firehose": "log delivery to Firehose: not used",
    "s3tables": "S3 bucket metadata tables: not used",
    "cloudfront": "custom sign-in domains: the managed-login prefix domain needs no CloudFront change of ours",
}
NOT_GRANTED: dict[str, str] = {
    "dynamodb:DeleteTable": "a deploy must never drop a table (replacement fails instead of losing data)",
    "s3:DeleteBucket": "a deploy must never drop a bucket (replacement fails instead of losing data)",
    "dynamodb:BatchWriteItem": "data plane, only for ImportTable: not used",
    "dynamodb:DeleteItem": "data plane: not used by CloudFormation for these tables",
    "dynamodb:GetItem": "data plane: not used by CloudFormation for these tables",
    "dynamodb:PutItem": "data plane, only for ImportTable: not used",
    "dynamodb:Query": "data plane: not used by CloudFormation for these tables",
    "dynamodb:Scan": "data plane: not used by CloudFormation for these tables",
    "dynamodb:UpdateItem": "data plane: not used by CloudFormation for these tables",
    "dynamodb:ImportTable": "table import from S3: not used",
    "dynamodb:DescribeImport": "table import from S3: not used",
    "dynamodb:CreateTableReplica": "global tables: not used",
    "dynamodb:AssociateTableReplica": "global tables: not used",
    "dynamodb:DescribeKinesisStreamingDestination": "Kinesis streaming: not used",
    "dynamodb:EnableKinesisStreamingDestination": "Kinesis streaming: not used",
    "dynamodb:DisableKinesisStreamingDestination": "Kinesis streaming: not used",
    "dynamodb:UpdateKinesisStreamingDestination": "Kinesis streaming: not used",
    "iam:CreateServiceLinkedRole": "no resource here needs a service-linked role created at deploy time",
    "iam:DeleteRolePermissionsBoundary": "a deploy must never remove the boundary of a role (denied as well)",
    "iam:PutUserPolicy": "AWS::IAM::Policy resources of the stacks attach to their own roles only",
    "iam:PutGroupPolicy": "AWS::IAM::Policy resources of the stacks attach to their own roles only",
    "iam:GetUserPolicy": "AWS::IAM::Policy resources of the stacks attach to their own roles only",
    "iam:GetGroupPolicy": "AWS::IAM::Policy resources of the stacks attach to their own roles only",
    "iam:DeleteUserPolicy": "AWS::IAM::Policy resources of the stacks attach to their own roles only",
    "iam:DeleteGroupPolicy": "AWS::IAM::Policy resources of the stacks attach to their own roles only",
    "iam:AttachRolePolicy": "no role of the stacks attaches a managed policy (no ManagedPolicyArns in the packaged "
    "templates, checked by tests/integration/pipelines); inline policies are bounded instead",
    "lambda:GetCodeSigningConfig": "no code-signing configuration",
    "lambda:PutFunctionCodeSigningConfig": "no code-signing configuration",
    "lambda:DeleteFunctionCodeSigningConfig": "no code-signing configuration",
    "lambda:PassCapacityProvider": "no Lambda capacity providers",
    "lambda:AssociateRuntimeAlias": "no runtime aliases",
    "s3:CreateBucketMetadataTableConfiguration": "S3 metadata tables: not used",
    "s3:DeleteBucketMetadataTableConfiguration": "S3 metadata tables: not used",
    "s3:GetBucketMetadataTableConfiguration": "S3 metadata tables: not used",
    "s3:UpdateBucketMetadataAnnotationTableConfiguration": "S3 metadata tables: not used",
    "s3:UpdateBucketMetadataInventoryTableConfiguration": "S3 metadata tables: not used",
    "s3:UpdateBucketMetadataJournalTableConfiguration": "S3 metadata tables: not used",
    "s3:PutReplicationConfiguration": "bucket replication: not used",
    "s3:PutBucketReplication": "bucket replication: not used",
    "s3:DeleteBucketReplication": "bucket replication: not used",
    "s3:PutBucketObjectLockConfiguration": "object lock: not used",
    "s3:PutObjectLockConfiguration": "object lock: not used",
    "s3:PutBucketWebsite": "website hosting: not used",
    "s3:DeleteBucketWebsite": "website hosting: not used",
    "s3:PutBucketAcl": "ACLs are disabled (bucket owner enforced)",
    "s3:PutObjectAcl": "ACLs are disabled (bucket owner enforced)",
    "cloudfront:CreateConnectionGroup": "CloudFront connection groups (Anycast static IPs): not used",
    "cloudfront:GetConnectionGroup": "CloudFront connection groups (Anycast static IPs): not used",
    "cloudfront:GetVpcOrigin": "VPC origins: the site's only origin is its bucket",
    "cloudfront:UpdateDistributionWithStagingConfig": "continuous deployment (staging distributions): not used",
}

# Actions the Framework itself calls outside CloudFormation (deployment bucket upload, stack status) or that
# reading sibling outputs needs; added to the handler permissions.
FRAMEWORK_ACTIONS = (
    "cloudformation:CreateChangeSet",
    "cloudformation:CreateStack",
    "cloudformation:DeleteChangeSet",
    "cloudformation:DescribeChangeSet",
    "cloudformation:DescribeStackEvents",
    "cloudformation:DescribeStackResource",
    "cloudformation:DescribeStackResources",
    "cloudformation:DescribeStacks",
    "cloudformation:ExecuteChangeSet",
    "cloudformation:GetTemplate",
    "cloudformation:ListStackResources",
    "cloudformation:TagResource",
    "cloudformation:UpdateStack",
    "cloudformation:ValidateTemplate",
    "logs:DescribeLogGroups",
    "s3:DeleteObject",
    "s3:GetBucketLocation",
    "s3:GetObject",
    "s3:ListBucket",
    "s3:PutObject",
)
# The functions' Powertools layer (stage parameter powertoolsLayer): CloudFormation reads the layer version and
# resolves its ARN from the public parameter Powertools publishes, both with the caller's permissions.
POWERTOOLS_LAYER_ACTIONS = frozenset({"lambda:GetLayerVersion", "ssm:GetParameters"})
# Object-level S3 actions: only on the Framework's deployment bucket, never on the service's buckets (people's
# recordings, audio and transcripts). CloudFormation configures those buckets with bucket-level actions.
OBJECT_ACTIONS = frozenset({"s3:DeleteObject", "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"})
# Role actions whose request must name the stage's boundary (condition key iam:PermissionsBoundary).
BOUNDED_ROLE_ACTIONS = ("iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy")

# Actions without resource-level permissions (IAM service authorization reference): granted on "*".
NO_RESOURCE_LEVEL = frozenset(
    {
        "cloudformation:ValidateTemplate",
        "cognito-idp:CreateUserPool",
        "cognito-idp:DescribeUserPoolDomain",
        "kms:CreateKey",
        "kms:ListAliases",
        "logs:CreateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:DeleteResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:GetLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:UpdateLogDelivery",
        "logs:DescribeLogGroups",
    }
)


def _registry_dir() -> Path:
    spec = importlib.util.find_spec("cfnlint")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("cfn-lint (its registry schemas) is needed to generate the deploy policies")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "schemas"


@cache
def handler_permissions(resource_type: str, region: str = "us-east-1") -> frozenset[str]:
    """The permissions CloudFormation's create/read/update/delete handlers of ``resource_type`` declare."""
    root = _registry_dir()
    providers = json.loads((root / "providers" / f"{region}.json").read_text())
    schema = json.loads((root / "resources" / f"{providers[resource_type]}.json").read_text())
    handlers = schema.get("handlers", {})
    return frozenset(p for h in HANDLERS for p in handlers.get(h, {}).get("permissions", []))


@cache
def _iam_actions() -> dict[str, frozenset[str]]:
    """IAM's actions per service prefix (lower case), from the policy data cfn-lint validates actions with."""
    data = json.loads((_registry_dir().parent / "AdditionalSpecs" / "Policies.json").read_text())
    return {prefix: frozenset(a.lower() for a in spec.get("Actions", {})) for prefix, spec in data.items()}


def is_iam_action(action: str) -> bool:
    """False for registry entries that name an API operation IAM authorizes under another action (S3's
    DeleteBucketCors is authorized by s3:PutBucketCORS, API Gateway tagging by its PUT/POST/DELETE, ...)."""
    prefix, _, name = action.partition(":")
    return name.lower() in _iam_actions().get(prefix.lower(), frozenset())


def is_granted(action: str) -> bool:
    return action not in NOT_GRANTED and action.split(":", maxsplit=1)[0] not in NOT_GRANTED_SERVICES


def _deploy_actions(resource_types: Iterable[str]) -> set[str]:
    """Handler permissions of ``resource_types`` plus the Framework's own calls, one spelling each."""
    candidates = set(FRAMEWORK_ACTIONS).union(*(handler_permissions(t) for t in resource_types))
    spelled: dict[str, str] = {}
    for action in sorted(candidates):  # sorted: "s3:GetObject" wins over "s3:getObject"
        spelled.setdefault(action.lower(), action)
    return set(spelled.values())


def wanted_actions(service: str) -> set[str]:
    """Handler permissions of the service's resource types plus the Framework's own calls and the Powertools
    layer's, one spelling each."""
    return _deploy_actions(SERVICE_RESOURCE_TYPES[service]) | POWERTOOLS_LAYER_ACTIONS


def required_actions(service: str) -> set[str]:
    """Every action the deploy role of ``service`` must hold (valid IAM actions, minus those not granted)."""
    return {a for a in wanted_actions(service) if is_iam_action(a) and is_granted(a)}


def sub(text: str) -> Json:
    return {"Fn::Sub": text}


def _statement(sid: str, actions: Iterable[str], resources: list[Any], condition: Json | None = None) -> Json:
    statement: Json = {"Sid": sid, "Effect": "Allow", "Action": sorted(set(actions)), "Resource": resources}
    if condition:
        statement["Condition"] = condition
    return statement


def deploy_statements(service: str, stage: str, boundary: Any) -> list[Json]:
    """The deploy role's statements for ``service`` in ``stage`` (every required action exactly once); ``boundary``
    is the ARN (an intrinsic) of the permissions boundary every role it creates must carry."""
    stage_names = StageResources(stage)
    stack = stage_names.stack(service)
    names = owned_names(service, stage)
    actions = required_actions(service)
    by_prefix: dict[str, set[str]] = {}
    for action in actions - NO_RESOURCE_LEVEL:
        by_prefix.setdefault(action.split(":")[0], set()).add(action)

    def arns(template: str, kind: str) -> list[Any]:
        return [sub(template.replace("{name}", name)) for name in names[kind]]

    stage_tags = {"aws:ResourceTag/app": "vidsense", "aws:ResourceTag/stage": stage}
    statements: list[Json] = []
    no_resource = sorted(actions & NO_RESOURCE_LEVEL - {"kms:CreateKey", "cognito-idp:CreateUserPool"})
    statements.append(_statement("NoResourceLevelPermissions", no_resource, ["*"]))
    # CreateKey cannot be scoped to a key (it does not exist yet): only keys tagged with this stage (the
    # Framework's stackTags app/stage, which CloudFormation passes to CreateKey) may be created.
    statements.append(
        _statement(
            "CreateStageKeys",
            ["kms:CreateKey"],
            ["*"],
            {"StringEquals": {"aws:RequestTag/app": "vidsense", "aws:RequestTag/stage": stage}},
        )
    )
    cfn = by_prefix.pop("cloudformation")
    statements.append(_statement("ServiceStack", cfn, [sub(f"{ARN}:cloudformation:{REGION_ACCOUNT}:stack/{stack}/*")]))
    statements.append(
        _statement(
            "ReadSiblingStackOutputs",
            ["cloudformation:DescribeStacks"],
            [sub(f"{ARN}:cloudformation:{REGION_ACCOUNT}:stack/vidsense-*-{stage}/*")],
        )
    )
    statements += _bucket_statements(by_prefix.pop("s3"), stack, names["buckets"])
    statements.append(
        _statement(
            "Functions",
            by_prefix.pop("lambda") - POWERTOOLS_LAYER_ACTIONS,
            arns(f"{ARN}:lambda:{REGION_ACCOUNT}:function:{{name}}", "functions"),
        )
    )
    statements.append(
        _statement(
            "PowertoolsLayer",
            ["lambda:GetLayerVersion"],
            [sub(f"{ARN}:lambda:${{AWS::Region}}:017000801446:layer:AWSLambdaPowertoolsPythonV3-*")],
        )
    )
    statements.append(
        _statement(
            "PowertoolsLayerArn",
            by_prefix.pop("ssm"),
            [sub(f"{ARN}:ssm:${{AWS::Region}}::parameter/aws/service/powertools/python/*")],
        )
    )
    iam = by_prefix.pop("iam")
    role_arns = arns(f"{ARN}:iam::${{AWS::AccountId}}:role/{{name}}", "roles")
    # A role is created, and given policies or a boundary, only with the stage's boundary: whatever policy a
    # deploy writes, the role can do no more than the boundary allows.
    statements.append(
        _statement(
            "CreateBoundedRoles",
            iam & set(BOUNDED_ROLE_ACTIONS),
            role_arns,
            {"StringEquals": {"iam:PermissionsBoundary": boundary}},
        )
    )
    statements.append(_statement("ServiceRoles", iam - {"iam:PassRole", *BOUNDED_ROLE_ACTIONS}, role_arns))
    statements.append(
        _statement(
            "PassServiceRoles",
            ["iam:PassRole"],
            role_arns,
            {
                "StringEquals": {
                    "iam:PassedToService": [
                        "events.amazonaws.com",
                        "lambda.amazonaws.com",
                        "mediaconvert.amazonaws.com",
                    ]
                }
            },
        )
    )
    tables = arns(f"{ARN}:dynamodb:{REGION_ACCOUNT}:table/{{name}}", "tables")
    tables += arns(f"{ARN}:dynamodb:{REGION_ACCOUNT}:table/{{name}}/*", "tables")
    statements.append(_statement("Tables", by_prefix.pop("dynamodb"), tables))
    events_arns = arns(f"{ARN}:events:{REGION_ACCOUNT}:rule/{{name}}", "rules")
    events_arns += arns(f"{ARN}:events:{REGION_ACCOUNT}:rule/{stage_names.bus}/{{name}}", "rules")
    if service == "ingest":
        events_arns += [
            sub(f"{ARN}:events:{REGION_ACCOUNT}:event-bus/{stage_names.bus}"),
            sub(f"{ARN}:events:{REGION_ACCOUNT}:archive/{stage_names.archive}"),
        ]
    statements.append(_statement("Events", by_prefix.pop("events"), events_arns))
    statements.append(
        _statement("Topics", by_prefix.pop("sns"), arns(f"{ARN}:sns:{REGION_ACCOUNT}:{{name}}", "topics"))
    )
    statements.append(
        _statement("Queues", by_prefix.pop("sqs"), arns(f"{ARN}:sqs:{REGION_ACCOUNT}:{{name}}", "queues"))
    )
    log_groups = [
        sub(f"{ARN}:logs:{REGION_ACCOUNT}:log-group:{prefix}{name}{suffix}")
        for prefix in ("/aws/lambda/", "/aws/http-api/")
        for name in names["log_groups"]
        for suffix in ("", ":*")
    ]
    statements.append(_statement("LogGroups", by_prefix.pop("logs"), log_groups))
    statements.append(
        _statement(
            "Alarms", by_prefix.pop("cloudwatch"), arns(f"{ARN}:cloudwatch:{REGION_ACCOUNT}:alarm:{{name}}", "alarms")
        )
    )
    kms = by_prefix.pop("kms")
    alias_actions = {a for a in kms if "Alias" in a}
    statements.append(
        _statement(
            "StageKeys", kms - alias_actions, [sub(f"{ARN}:kms:{REGION_ACCOUNT}:key/*")], {"StringEquals": stage_tags}
        )
    )
    statements.append(
        _statement(
            "StageKeyAliases",
            alias_actions,
            arns(f"{ARN}:kms:{REGION_ACCOUNT}:alias/{{name}}", "key_aliases"),
        )
    )
    statements.append(
        _statement(
            "StageKeyAliasTargets",
            alias_actions,
            [sub(f"{ARN}:kms:{REGION_ACCOUNT}:key/*")],
            {"StringEquals": stage_tags},
        )
    )
    if "apigateway" in by_prefix:
        # HTTP API ids are generated, so API Gateway paths cannot carry the stage name.
        statements.append(
            _statement(
                "HttpApi",
                by_prefix.pop("apigateway"),
                [
                    sub("arn:${AWS::Partition}:apigateway:${AWS::Region}::/apis"),
                    sub("arn:${AWS::Partition}:apigateway:${AWS::Region}::/apis/*"),
                    sub("arn:${AWS::Partition}:apigateway:${AWS::Region}::/tags/*"),
                ],
            )
        )
    if "cognito-idp" in by_prefix:
        statements += _user_pool_statements(by_prefix.pop("cognito-idp"), stage)
    if by_prefix:
        raise ValueError(f"actions of services without a scoped statement: {sorted(by_prefix)}")
    return [s for s in statements if s["Action"]]


def _bucket_statements(actions: set[str], stack: str, service_buckets: tuple[str, ...]) -> list[Json]:
    """Objects only in the Framework's deployment bucket; the service's buckets get bucket-level actions."""
    deployment_bucket = f"{stack}-serverlessdeploy*"
    statements = [
        _statement(
            "DeploymentBucket",
            actions,
            [sub(f"{ARN}:s3:::{deployment_bucket}"), sub(f"{ARN}:s3:::{deployment_bucket}/*")],
        )
    ]
    if service_buckets:
        statements.append(
            _statement("ServiceBuckets", actions - OBJECT_ACTIONS, [sub(f"{ARN}:s3:::{b}") for b in service_buckets])
        )
    return statements


def _user_pool_statements(actions: set[str], stage: str) -> list[Json]:
    """User pool ids are generated: the pool is created only with the stage's tag and managed only while it
    carries it (UserPoolTags in services/ingest/serverless.yml)."""
    return [
        _statement(
            "CreateStageUserPool",
            ["cognito-idp:CreateUserPool"],
            ["*"],
            {"StringEquals": {"aws:RequestTag/stage": stage}},
        ),
        _statement(
            "StageUserPool",
            actions,
            [sub(f"{ARN}:cognito-idp:{REGION_ACCOUNT}:userpool/*")],
            {"StringEquals": {"aws:ResourceTag/stage": stage}},
        ),
    ]


# IAM actions that change a role or a managed policy: denied on the pipeline stack's own roles and policies.
ROLE_CHANGES = (
    "iam:AttachRolePolicy",
    "iam:DeleteRole",
    "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PassRole",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
)
POLICY_CHANGES = (
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:TagPolicy",
    "iam:UntagPolicy",
)


def _deny(sid: str, actions: Iterable[str], resources: list[Any], condition: Json | None = None) -> Json:
    statement = _statement(sid, actions, resources, condition)
    statement["Effect"] = "Deny"
    return statement


def guard_statements(boundary: Any) -> list[Json]:
    """Denials that hold whatever else a deploy role is granted: roles only with ``boundary``, the boundary never
    removed, and neither the boundary nor the pipeline stack's own roles and policies changed. The stack's roles
    and managed policies have CloudFormation-generated names ``<stack name>-<logical id>-<suffix>``."""
    own_roles = sub(f"{ARN}:iam::${{AWS::AccountId}}:role/${{AWS::StackName}}-*")
    own_policies = sub(f"{ARN}:iam::${{AWS::AccountId}}:policy/${{AWS::StackName}}-*")
    return [
        _deny(
            "RolesOnlyWithTheBoundary",
            [*BOUNDED_ROLE_ACTIONS, "iam:AttachRolePolicy"],
            ["*"],
            {"StringNotEquals": {"iam:PermissionsBoundary": boundary}},
        ),
        _deny("NeverRemoveABoundary", ["iam:DeleteRolePermissionsBoundary"], ["*"]),
        _deny("BoundaryAndOwnPoliciesStay", POLICY_CHANGES, [boundary, own_policies]),
        _deny("OwnRolesStay", ROLE_CHANGES, [own_roles]),
    ]


def data_protection_statements() -> list[Json]:
    """Denials for every pipeline role that runs repository code (build, deploy, smoke): no object of the media
    and work buckets (people's recordings, audio, transcripts) of any stage, no stage parameter (the user-key
    secret lives under ``/vidsense/<stage>/``)."""
    data_buckets = ("vidsense-*-media-*", "vidsense-*-work-*")
    return [
        _deny(
            "NoRecordingsOrTranscripts",
            ["s3:DeleteObject*", "s3:GetObject*", "s3:PutObject*", "s3:RestoreObject"],
            [sub(f"{ARN}:s3:::{bucket}/*") for bucket in data_buckets],
        ),
        _deny(
            "NoUserKeySecret",
            ["ssm:GetParameter", "ssm:GetParameterHistory", "ssm:GetParameters", "ssm:GetParametersByPath"],
            [
                sub(f"{ARN}:ssm:{REGION_ACCOUNT}:parameter/vidsense"),
                sub(f"{ARN}:ssm:{REGION_ACCOUNT}:parameter/vidsense/*"),
            ],
        ),
    ]


# Where a stage's roles may act, per action prefix (the boundary's resources). `*` in an ARN also spans `/`.
def _boundary_scopes(service: str, stage: str) -> dict[str, list[str]]:
    stage_names = StageResources(stage)
    app, stack = stage_names.prefix, stage_names.stack(service)
    return {
        "dynamodb": [f"{ARN}:dynamodb:{REGION_ACCOUNT}:table/{app}-*"],
        "events": [f"{ARN}:events:{REGION_ACCOUNT}:event-bus/{app}-*"],
        "iam": [f"{ARN}:iam::${{AWS::AccountId}}:role/{app}-*"],
        "kms": [f"{ARN}:kms:{REGION_ACCOUNT}:key/*"],
        "logs": [f"{ARN}:logs:{REGION_ACCOUNT}:log-group:/aws/lambda/{stack}-*"],
        "mediaconvert": [f"{ARN}:mediaconvert:{REGION_ACCOUNT}:*"],
        "s3": [f"{ARN}:s3:::{app}-*"],
        "sqs": [f"{ARN}:sqs:{REGION_ACCOUNT}:{app}-*"],
        "ssm": [f"{ARN}:ssm:{REGION_ACCOUNT}:parameter/vidsense/{stage}/*"],
        # Job names start with vidsense.<stage>. (transcode.domain.naming).
        "transcribe": [f"{ARN}:transcribe:{REGION_ACCOUNT}:transcription-job/vidsense.{stage}.*"],
    }


# Function actions IAM authorizes on "*" only (no resource-level permissions).
BOUNDARY_UNSCOPED = frozenset({"mediaconvert:DescribeEndpoints", "transcribe:StartTranscriptionJob"})
BOUNDARY_UNSCOPED_PREFIXES = frozenset({"comprehend", "xray"})


def boundary_statements(service: str, stage: str) -> list[Json]:
    """The permissions boundary of the roles ``service``'s stack creates in ``stage``: the actions its roles use
    (``BOUNDARY_ACTIONS``), on this stage's resources only, so no role a dev deploy creates reaches prod data."""
    scopes = _boundary_scopes(service, stage)
    by_prefix: dict[str, set[str]] = {}
    unscoped: set[str] = set()
    for action in BOUNDARY_ACTIONS[service]:
        prefix = action.split(":")[0]
        if action in BOUNDARY_UNSCOPED or prefix in BOUNDARY_UNSCOPED_PREFIXES:
            unscoped.add(action)
        elif prefix in scopes:
            by_prefix.setdefault(prefix, set()).add(action)
        else:
            raise ValueError(f"{action}: no boundary scope for {prefix} (add one to _boundary_scopes)")
    statements = [
        _statement(f"Stage{prefix.title().replace('-', '')}", actions, [sub(a) for a in scopes[prefix]])
        for prefix, actions in sorted(by_prefix.items())
    ]
    if unscoped:
        statements.append(_statement("NoResourceLevelPermissions", unscoped, ["*"]))
    return statements


# --- the web client's site stack (deploy/web), deployed and published by the ingest pipeline --------------------

# What `make deploy-web` does besides the deploy: read ingest's outputs (config.json), upload web/ into the site
# bucket, invalidate the distribution's cache and read its name (a stage without webDomain).
SITE_PUBLISH_ACTIONS = frozenset({"cloudfront:CreateInvalidation", "cloudfront:GetDistribution", "s3:PutObject"})
# The site stack holds no role: its deploy role may neither create nor pass one (so no role ever lacks a boundary).
SITE_NOT_GRANTED_PREFIXES = frozenset({"iam"})


def wanted_site_actions() -> set[str]:
    """Handler permissions of the site stack's resource types plus the Framework's calls, one spelling each."""
    return _deploy_actions(SITE_RESOURCE_TYPES)


def required_site_actions() -> set[str]:
    """Every action the site's deploy role must hold. CloudFront is the site itself here (the services' deploy
    roles get none of it: NOT_GRANTED_SERVICES)."""
    return {
        a
        for a in wanted_site_actions() | SITE_PUBLISH_ACTIONS
        if is_iam_action(a)
        and a not in NOT_GRANTED
        and a.split(":", maxsplit=1)[0] not in SITE_NOT_GRANTED_PREFIXES
        and (a.startswith("cloudfront:") or is_granted(a))
    }


def site_deploy_statements(stage: str) -> list[Json]:
    """The statements of the role that deploys the site stack of ``stage`` and publishes web/ into it. Bucket and
    function names carry the stage; CloudFront generates the ids of distributions, origin access controls and
    response headers policies, so those are scoped to the account only (as the services' HTTP API ids)."""
    stage_names = StageResources(stage)
    stack, app = stage_names.site_stack, stage_names.prefix
    actions = required_site_actions()
    by_prefix: dict[str, set[str]] = {}
    for action in actions - NO_RESOURCE_LEVEL:
        by_prefix.setdefault(action.split(":")[0], set()).add(action)
    cloudfront = by_prefix.pop("cloudfront")
    tagging = cloudfront & {"cloudfront:ListTagsForResource", "cloudfront:TagResource", "cloudfront:UntagResource"}
    functions = {a for a in cloudfront if a.endswith("Function")}
    site_bucket = f"{ARN}:s3:::{app}-web-*"
    s3 = by_prefix.pop("s3")
    statements = [
        _statement("NoResourceLevelPermissions", actions & NO_RESOURCE_LEVEL, ["*"]),
        _statement(
            "SiteStack",
            by_prefix.pop("cloudformation"),
            [sub(f"{ARN}:cloudformation:{REGION_ACCOUNT}:stack/{stack}/*")],
        ),
        _statement(
            "ReadIngestOutputs",
            ["cloudformation:DescribeStacks"],
            [sub(f"{ARN}:cloudformation:{REGION_ACCOUNT}:stack/{stage_names.stack('ingest')}/*")],
        ),
        *_bucket_statements(s3, stack, ()),
        _statement("SiteBucket", s3 - OBJECT_ACTIONS, [sub(site_bucket)]),
        _statement("PublishSiteFiles", ["s3:PutObject"], [sub(f"{site_bucket}/*")]),
        _statement(
            "SiteFunction", functions | tagging, [sub(f"{ARN}:cloudfront::${{AWS::AccountId}}:function/{app}-web-*")]
        ),
        _statement(
            "SiteDistribution",
            cloudfront - functions,
            [
                sub(f"{ARN}:cloudfront::${{AWS::AccountId}}:{kind}/*")
                for kind in ("distribution", "origin-access-control", "response-headers-policy")
            ],
        ),
    ]
    if by_prefix:
        raise ValueError(f"site actions without a scoped statement: {sorted(by_prefix)}")
    return [s for s in statements if s["Action"]]


def site_guard_statements() -> list[Json]:
    """Denials whatever else the site's deploy role is granted: no role created, changed or passed (the site stack
    has none), and no one's recordings, transcripts or user-key secret."""
    return [
        _deny("SiteStackHasNoRoles", [*BOUNDED_ROLE_ACTIONS, *ROLE_CHANGES], ["*"]),
        *data_protection_statements(),
    ]
