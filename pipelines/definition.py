"""The one definition the three pipeline templates are generated from (``python -m pipelines.generate``).

Each service gets its own pipeline, started only by changes that can change what that service deploys or how
it is verified: its folder, its tests, the shared package, the deployment definitions (``deploy/``) and the
build files every service is built with. CodePipeline allows at most 8 file-path patterns per trigger, so the
root build files share one ``{a,b}`` pattern (CodePipeline's trigger globs support alternatives).
"""

from typing import Final

from vidsense_shared.resources import StageResources

SERVICES: Final = ("ingest", "transcode", "nlp")
STAGES: Final = ("dev", "prod")

ROOT_BUILD_FILES: Final = ("Makefile", "package.json", "package-lock.json", "pyproject.toml", "serverless-compose.yml")
# Paths that every service is built from (besides its own folder and tests).
SHARED_PATHS: Final = (
    "shared/**",
    "deploy/**",
    "requirements/**",
    "pipelines/buildspec-*.yml",
    "{" + ",".join(ROOT_BUILD_FILES) + "}",
)
MAX_TRIGGER_PATHS: Final = 8  # CodePipeline GitFilePathFilterCriteria.Includes maximum

SOURCE_ACTION_NAME: Final = "Source"
# The smoke test checks the deployed dev stage before anyone is asked to approve prod.
STAGE_NAMES: Final = ("Source", "Build", "DeployDev", "SmokeDev", "ApprovalBeforeProd", "DeployProd")
# The source action's output variables (commit id, ...) under this namespace: the approval message links the commit.
SOURCE_NAMESPACE: Final = "SourceVariables"

# CodeBuild: the Amazon Linux 2023 based ARM image carries Python 3.12 and Node.js 20 (Lambda runs arm64).
DEFAULT_BUILD_IMAGE: Final = "aws/codebuild/amazonlinux2-aarch64-standard:3.0"
DEFAULT_BUILD_TYPE: Final = "ARM_CONTAINER"
BUILD_SPEC: Final = "pipelines/buildspec-build.yml"
DEPLOY_SPEC: Final = "pipelines/buildspec-deploy.yml"
SMOKE_SPEC: Final = "pipelines/buildspec-smoke.yml"
SMOKE_STAGE: Final = "dev"
# `make smoke` creates a throw-away user in the stage's pool, signs it in and removes it (docs/deploy.md).
SMOKE_COGNITO_ACTIONS: Final = (
    "cognito-idp:AdminCreateUser",
    "cognito-idp:AdminDeleteUser",
    "cognito-idp:AdminInitiateAuth",
    "cognito-idp:AdminSetUserPassword",
)


# The web client's site stack (deploy/web) is deployed by the ingest pipeline, right after ingest in each stage
# (its CSP imports ingest's HttpApiUrl export; docs/decisions/0005-web-site-stack.md); changes to the client start
# that pipeline, which publishes web/ into the site.
SITE_PIPELINE: Final = "ingest"
SITE_PATHS: Final = ("web/**",)
SITE_SPEC: Final = "pipelines/buildspec-deploy-web.yml"
# Resource types of the site stack (deploy/web/site.yml and the Framework's deployment bucket), checked against
# deploy/web by tests/integration/pipelines; its deploy role holds their registry handler permissions.
SITE_RESOURCE_TYPES: Final = (
    "AWS::CloudFront::Distribution",
    "AWS::CloudFront::Function",
    "AWS::CloudFront::OriginAccessControl",
    "AWS::CloudFront::ResponseHeadersPolicy",
    "AWS::S3::Bucket",
    "AWS::S3::BucketPolicy",
)


def path_filters(service: str) -> tuple[str, ...]:
    """The trigger file paths of ``service``'s pipeline (also the CodeCommit filter function's globs)."""
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}")
    site = SITE_PATHS if service == SITE_PIPELINE else ()
    return (f"services/{service}/**", f"tests/*/{service}/**", *site, *SHARED_PATHS)


def pipeline_name(service: str) -> str:
    return f"vidsense-{service}"


def owned_names(service: str, stage: str) -> dict[str, tuple[str, ...]]:
    """Physical-name patterns of what ``service``'s stack creates in ``stage``, per kind (see docs/architecture.md
    and services/<service>/serverless.yml). The Framework names functions, their roles and log groups
    ``vidsense-<service>-<stage>-*``; the service names its own resources ``vidsense-<stage>-<service>-*``."""
    stage_names = StageResources(stage)
    app, stack = stage_names.prefix, stage_names.stack(service)
    common = (f"{stack}-*", f"{stage_names.service_prefix(service)}-*", f"{app}-alerts-{service}")
    per_service: dict[str, dict[str, tuple[str, ...]]] = {
        "ingest": {"tables": (stage_names.answers_table,), "buckets": (stage_names.media_bucket("*"),)},
        "transcode": {
            "buckets": (stage_names.work_bucket("*"),),
            "topics": (f"{app}-on-complete",),
            # The roles MediaConvert and Transcribe assume (services/transcode/serverless.yml).
            "roles": (stage_names.mediaconvert_role, stage_names.transcribe_data_access_role),
        },
        "nlp": {"tables": (stage_names.metadata_table,)},
    }
    extra = per_service[service]
    kinds = ("functions", "roles", "tables", "buckets", "rules", "topics", "queues", "alarms", "log_groups")
    names = {kind: common + extra.get(kind, ()) for kind in kinds}
    names["functions"] = names["log_groups"] = (stack, f"{stack}-*")
    # Roles: the Framework's per-function roles and the service's own, nothing broader (every role of the packaged
    # templates is checked against these by tests/integration/pipelines).
    names["roles"] = (f"{stack}-*", *extra.get("roles", ()))
    names["buckets"] = extra.get("buckets", ())
    names["key_aliases"] = (f"{app}-{service}-*",)
    return names


# Resource types in each service's stack (the Framework's own and the service's `resources:`), checked against
# services/<service>/serverless.yml by tests/integration/pipelines. The deploy role of a service is granted the
# CloudFormation registry handler permissions of exactly these types (pipelines/deploy_policy.py).
FRAMEWORK_RESOURCE_TYPES: Final = (
    "AWS::CloudWatch::Alarm",
    "AWS::DynamoDB::Table",
    "AWS::Events::Rule",
    "AWS::IAM::Role",
    "AWS::KMS::Alias",
    "AWS::KMS::Key",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::Lambda::Function",
    "AWS::Lambda::Permission",
    "AWS::Lambda::Version",
    "AWS::Logs::LogGroup",
    "AWS::S3::Bucket",
    "AWS::S3::BucketPolicy",
    "AWS::SNS::Subscription",
    "AWS::SNS::Topic",
    "AWS::SQS::Queue",
    "AWS::SQS::QueuePolicy",
)
SERVICE_RESOURCE_TYPES: Final = {
    "ingest": (
        *FRAMEWORK_RESOURCE_TYPES,
        "AWS::ApiGatewayV2::Api",
        "AWS::ApiGatewayV2::Authorizer",
        "AWS::ApiGatewayV2::Integration",
        "AWS::ApiGatewayV2::Route",
        "AWS::ApiGatewayV2::Stage",
        "AWS::Cognito::ManagedLoginBranding",
        "AWS::Cognito::UserPool",
        "AWS::Cognito::UserPoolClient",
        "AWS::Cognito::UserPoolDomain",
        "AWS::Cognito::UserPoolGroup",
        "AWS::Events::Archive",
        "AWS::Events::EventBus",
        "AWS::IAM::Policy",
    ),
    "transcode": (*FRAMEWORK_RESOURCE_TYPES, "AWS::SNS::TopicPolicy"),
    "nlp": FRAMEWORK_RESOURCE_TYPES,
}


# The permissions boundary of every role a service's stack creates in a stage: what its functions and the roles
# it hands to MediaConvert and Transcribe may do at most. Exactly the actions of the role policies in the
# service's packaged template (tests/integration/pipelines checks both ways against `serverless package`).
BOUNDARY_ACTIONS: Final = {
    "ingest": (
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "events:PutEvents",
        "kms:Decrypt",
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:ListBucket",
        "s3:ListBucketVersions",
        "s3:PutObject",
        "sqs:SendMessage",
        "ssm:GetParameter",
        "xray:PutTelemetryRecords",
        "xray:PutTraceSegments",
    ),
    "transcode": (
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "events:PutEvents",
        "iam:PassRole",
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "mediaconvert:CreateJob",
        "mediaconvert:DescribeEndpoints",
        "mediaconvert:GetJob",
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:ListBucketVersions",
        "s3:PutObject",
        "sqs:SendMessage",
        "transcribe:DeleteTranscriptionJob",
        "transcribe:GetTranscriptionJob",
        "transcribe:StartTranscriptionJob",
        "xray:PutTelemetryRecords",
        "xray:PutTraceSegments",
    ),
    "nlp": (
        "comprehend:BatchDetectSentiment",
        "comprehend:DetectSentiment",
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "events:PutEvents",
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "s3:GetObject",
        "s3:ListBucket",
        "sqs:SendMessage",
        "xray:PutTelemetryRecords",
        "xray:PutTraceSegments",
    ),
}
