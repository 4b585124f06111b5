"""The packaged CloudFormation of dev and prod: names, failure paths, IAM, functions and stage parameters."""

from __future__ import annotations

import importlib
import inspect
import json
import re
from typing import Any

import pytest
from pydantic_core import PydanticUndefined

from tests.integration.deploy.cfn import (
    as_list,
    documented_handlers,
    documented_settings,
    functions,
    getatt_target,
    physical_names,
    policy_statements,
    render,
    resources,
)
from tests.integration.deploy.conftest import (
    PACKAGED_STAGES,
    REPO,
    SERVICES,
    TEMPLATE,
    Packaged,
    run_sls,
)
from vidsense_bench.cost.inputs import offline_sls_env
from vidsense_local.deployer import stage_deploy_tree
from vidsense_shared.config import BaseServiceSettings
from vidsense_shared.resources import StageResources

Templates = dict[str, dict[str, dict[str, Any]]]


def test_dev_and_prod_share_no_physical_name_and_every_name_carries_its_stage(templates: Templates) -> None:
    names = {
        stage: {
            f"{service}:{logical_id}": name
            for service in SERVICES
            for logical_id, name in physical_names(templates[stage][service]).items()
        }
        for stage in PACKAGED_STAGES
    }
    assert len(names["dev"]) > 40  # every stack names its resources
    assert not set(names["dev"].values()) & set(names["prod"].values())
    for stage, by_id in names.items():
        unscoped = {k: v for k, v in by_id.items() if not re.search(rf"(^|[-./]){stage}([-./]|$)", v)}
        assert not unscoped, f"{stage}: names without the stage: {unscoped}"


def test_only_ingest_creates_the_bus_and_its_archive(templates: Templates) -> None:
    for stage in PACKAGED_STAGES:
        owners = {
            service: [render(r["Properties"]["Name"]) for _, r in resources(t, "AWS::Events::EventBus")]
            for service, t in templates[stage].items()
        }
        assert owners == {"ingest": [StageResources(stage).bus], "transcode": [], "nlp": []}
        archives = [r["Properties"] for _, r in resources(templates[stage]["ingest"], "AWS::Events::Archive")]
        assert len(archives) == 1
        assert archives[0]["ArchiveName"] == StageResources(stage).archive
        # moto's CloudFormation accepts only the string form of an archive's pattern.
        assert isinstance(archives[0]["EventPattern"], str)
    retention = {
        stage: next(resources(templates[stage]["ingest"], "AWS::Events::Archive"))[1]["Properties"]["RetentionDays"]
        for stage in PACKAGED_STAGES
    }
    assert retention["dev"] < retention["prod"]


def _queue_ids(template: dict[str, Any]) -> set[str]:
    return {logical_id for logical_id, _ in resources(template, "AWS::SQS::Queue")}


def _sqs(template: dict[str, Any], value: Any) -> str:
    target = getatt_target(value)
    assert target in _queue_ids(template), f"{value} is not an SQS queue of this stack"
    return target


def _async_consumers(template: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    """(description, function logical id or None for non-Lambda targets, delivery DLQ logical id)."""
    out: list[tuple[str, str | None, str]] = []
    lambdas = {logical_id for logical_id, _ in resources(template, "AWS::Lambda::Function")}
    for rule_id, rule in resources(template, "AWS::Events::Rule"):
        for target in rule["Properties"]["Targets"]:
            policy = target.get("RetryPolicy", {})
            assert policy.get("MaximumRetryAttempts", 0) > 0, f"{rule_id}: no retry policy"
            assert "MaximumEventAgeInSeconds" in policy, f"{rule_id}: no maximum event age"
            assert "DeadLetterConfig" in target, f"{rule_id}: target without a dead-letter queue"
            dlq = _sqs(template, target["DeadLetterConfig"]["Arn"])
            fn = getatt_target(target["Arn"])
            out.append((f"rule {rule_id}", fn if fn in lambdas else None, dlq))
    for sub_id, sub in resources(template, "AWS::SNS::Subscription"):
        props = sub["Properties"]
        if props["Protocol"] != "lambda":
            continue
        assert "RedrivePolicy" in props, f"{sub_id}: SNS subscription without a dead-letter queue"
        out.append(
            (
                f"subscription {sub_id}",
                getatt_target(props["Endpoint"]),
                _sqs(template, props["RedrivePolicy"]["deadLetterTargetArn"]),
            )
        )
    for bucket_id, bucket in resources(template, "AWS::S3::Bucket"):
        notification = bucket["Properties"].get("NotificationConfiguration", {})
        for config in notification.get("LambdaConfigurations", []):
            fn = getatt_target(config["Function"])
            assert fn is not None
            # S3 has no dead-letter queue of its own: the function's DLQ keeps what the async queue drops.
            dead_letter = template["Resources"][fn]["Properties"].get("DeadLetterConfig")
            assert dead_letter, f"{bucket_id} -> {fn}: no dead-letter queue"
            out.append((f"S3 {bucket_id}", fn, _sqs(template, dead_letter["TargetArn"])))
    return out


@pytest.mark.parametrize("stage", PACKAGED_STAGES)
@pytest.mark.parametrize("service", SERVICES)
def test_every_async_consumer_has_both_failure_paths_and_alarmed_queues(
    templates: Templates, stage: str, service: str
) -> None:
    template = templates[stage][service]
    consumers = _async_consumers(template)
    # Every function but those behind the HTTP API (synchronous) is an asynchronous consumer.
    http = {
        getatt_target(r["Properties"]["FunctionName"])
        for _, r in resources(template, "AWS::Lambda::Permission")
        if r["Properties"]["Principal"] == "apigateway.amazonaws.com"
    }
    expected = {logical_id for logical_id, _ in functions(template).values()} - http
    assert {fn for _, fn, _ in consumers if fn} == expected, consumers
    invoke_configs = {
        getatt_target(r["Properties"]["FunctionName"]): r["Properties"]
        for _, r in resources(template, "AWS::Lambda::EventInvokeConfig")
    }
    alarmed: dict[str, list[Any]] = {}
    for _, alarm in resources(template, "AWS::CloudWatch::Alarm"):
        props = alarm["Properties"]
        if props.get("Namespace") == "AWS/SQS":
            queue = getatt_target(props["Dimensions"][0]["Value"])
            assert queue is not None
            alarmed[queue] = props["AlarmActions"]
    alerts = [
        i
        for i, r in resources(template, "AWS::SNS::Topic")
        if render(r["Properties"]["TopicName"]) == f"vidsense-{stage}-alerts-{service}"
    ]
    assert len(alerts) == 1
    policies = {
        getatt_target(q): r["Properties"]["PolicyDocument"]
        for _, r in resources(template, "AWS::SQS::QueuePolicy")
        for q in r["Properties"]["Queues"]
    }
    for description, fn, dlq in consumers:
        queues = [dlq]
        if fn is not None:
            config = invoke_configs.get(fn)
            assert config, f"{description}: {fn} has no asynchronous invocation config"
            assert 0 <= config["MaximumRetryAttempts"] <= 2 and config["MaximumEventAgeInSeconds"] > 0
            queues.append(_sqs(template, config["DestinationConfig"]["OnFailure"]["Destination"]))
        for queue in queues:
            assert alarmed.get(queue) == [{"Ref": alerts[0]}], f"{description}: {queue} has no depth alarm"
        if not description.startswith("S3"):
            # The AWS service that delivers (EventBridge, SNS) must be allowed to write to the DLQ.
            allowed = [s for s in policies[dlq]["Statement"] if s["Effect"] == "Allow"]
            assert {s["Principal"]["Service"] for s in allowed} & {"events.amazonaws.com", "sns.amazonaws.com"}


@pytest.mark.parametrize("stage", PACKAGED_STAGES)
def test_no_iam_policy_allows_a_wildcard_action(templates: Templates, stage: str) -> None:
    checked = 0
    for service, template in templates[stage].items():
        for logical_id, statement in policy_statements(template):
            if statement["Effect"] != "Allow":
                continue
            for action in as_list(statement["Action"]):
                checked += 1
                assert "*" not in action, f"{service}/{logical_id}: wildcard action {action}"
        # Key policies: only the account root administers its key (the AWS default key policy).
        for logical_id, key in resources(template, "AWS::KMS::Key"):
            for statement in key["Properties"]["KeyPolicy"]["Statement"]:
                if "kms:*" in as_list(statement["Action"]):
                    assert "root" in render(statement["Principal"]["AWS"]), logical_id
    assert checked > 40


def test_one_role_per_function_and_no_shared_role(templates: Templates) -> None:
    for service, template in templates["prod"].items():
        roles = [getatt_target(props["Role"]) for _, props in functions(template).values()]
        assert len(roles) == len(set(roles)), f"{service}: functions share a role"
        assert "IamRoleLambdaExecution" not in template["Resources"]


def _settings_models(service: str) -> list[type[BaseServiceSettings]]:
    module = importlib.import_module(f"{service}.settings")
    return [
        obj
        for _, obj in inspect.getmembers(module, inspect.isclass)
        if issubclass(obj, BaseServiceSettings) and obj is not BaseServiceSettings
    ]


@pytest.mark.parametrize("stage", PACKAGED_STAGES)
def test_handlers_runtime_and_environment_match_the_architecture(templates: Templates, stage: str) -> None:
    handlers = documented_handlers()
    common, settings = documented_settings()
    assert len(handlers) >= 8 and set(handlers) == set(settings)
    deployed = {
        (service, name): props
        for service in SERVICES
        for name, (_, props) in functions(templates[stage][service]).items()
    }
    # Every documented function is deployed with its handler; one deployed but not (yet) documented must at
    # least start: its handler module exists and a settings model of its service is satisfied (below).
    assert set(handlers) <= set(deployed)
    for (service, name), props in deployed.items():
        if (service, name) in handlers:
            assert props["Handler"] == handlers[(service, name)]
        else:
            module = props["Handler"].rsplit(".", 1)[0].replace(".", "/")
            assert (REPO / "services" / service / "src" / f"{module}.py").is_file(), props["Handler"]
        assert props["Runtime"] in ("python3.12", "python3.13")
        assert props["Architectures"] == ["arm64"]
        assert props["TracingConfig"] == {"Mode": "Active"}
        env = props["Environment"]["Variables"]
        required, optional = settings.get((service, name), (set(), set()))
        assert common | required <= set(env), f"{name}: missing {(common | required) - set(env)}"
        assert env["STAGE"] == stage and env["POWERTOOLS_SERVICE_NAME"] == service
        # Anything beyond the documented list must be a field the service's settings models read...
        models = _settings_models(service)
        fields = {f.upper() for model in models for f in model.model_fields}
        extra = set(env) - common - required - optional
        assert extra <= fields, f"{name}: variables no settings model reads: {extra - fields}"
        # ...and one of those models must be fully satisfied (the function starts).
        satisfied = [
            m
            for m in models
            if {
                f.upper()
                for f, info in m.model_fields.items()
                if info.default is PydanticUndefined and info.default_factory is None
            }
            <= set(env)
        ]
        assert satisfied, f"{name}: no settings model of {service} is satisfied by {sorted(env)}"
        # The user-key secret is passed by name only, never its value.
        assert not any("secret" in str(v).lower() and k != "USER_KEY_PARAMETER" for k, v in env.items())


def test_stage_parameters_differ_where_they_should(templates: Templates) -> None:
    def ingest(stage: str, type_: str) -> dict[str, Any]:
        matches = [r["Properties"] for _, r in resources(templates[stage]["ingest"], type_)]
        assert len(matches) == 1, type_
        return matches[0]

    for stage in PACKAGED_STAGES:
        authorizer = ingest(stage, "AWS::ApiGatewayV2::Authorizer")
        assert authorizer["AuthorizerType"] == "JWT"  # its issuer and audience: the sign-in tests below
        api = ingest(stage, "AWS::ApiGatewayV2::Api")
        assert "*" not in api["CorsConfiguration"]["AllowOrigins"]
        routes = [r["Properties"] for _, r in resources(templates[stage]["ingest"], "AWS::ApiGatewayV2::Route")]
        assert sorted(r["RouteKey"] for r in routes) == [
            "DELETE /answers/{project}/{step}",
            "GET /answers/{project}/{step}",
            "GET /presignedurl/{project}/{step}",
            "GET /projects/{project}/steps/{step}/answers",
        ]
        assert all(r["AuthorizationType"] == "JWT" for r in routes)
    dev, prod = (ingest(s, "AWS::ApiGatewayV2::Stage")["DefaultRouteSettings"] for s in PACKAGED_STAGES)
    assert dev["ThrottlingRateLimit"] < prod["ThrottlingRateLimit"]
    assert dev["ThrottlingBurstLimit"] < prod["ThrottlingBurstLimit"]
    assert (
        ingest("dev", "AWS::ApiGatewayV2::Api")["CorsConfiguration"]["AllowOrigins"]
        != ingest("prod", "AWS::ApiGatewayV2::Api")["CorsConfiguration"]["AllowOrigins"]
    )
    for stage in PACKAGED_STAGES:
        retention = {
            render(r["Properties"]["LogGroupName"]): r["Properties"]["RetentionInDays"]
            for service in SERVICES
            for _, r in resources(templates[stage][service], "AWS::Logs::LogGroup")
        }
        functions_count = sum(len(functions(templates[stage][s])) for s in SERVICES)
        assert len(retention) == functions_count + 1  # + the HTTP API access log
        assert len(set(retention.values())) == 1
    pitr = {
        stage: {
            render(r["Properties"]["TableName"]): r["Properties"]["PointInTimeRecoverySpecification"]
            for service in SERVICES
            for _, r in resources(templates[stage][service], "AWS::DynamoDB::Table")
        }
        for stage in PACKAGED_STAGES
    }
    # Point-in-time recovery in prod only (dev and feature stages are disposable).
    enabled = {
        stage: {spec["PointInTimeRecoveryEnabled"] for spec in tables.values()} for stage, tables in pitr.items()
    }
    assert enabled == {"dev": {False}, "prod": {True}}


def test_aws_stages_deploy_through_change_sets(packaged: dict[str, Packaged]) -> None:
    # The stage parameter deploymentMethod (the local stage's `direct`: test_deploy_moto)
    for stage in PACKAGED_STAGES:
        for service in SERVICES:
            assert packaged[stage].provider(service)["deploymentMethod"] == "changesets", (stage, service)


@pytest.mark.parametrize("stage", PACKAGED_STAGES)
def test_buckets_tables_and_topics_meet_the_baseline(templates: Templates, stage: str) -> None:
    buckets = {}
    for service in SERVICES:
        template = templates[stage][service]
        policies = {
            getatt_target(r["Properties"]["Bucket"]): r["Properties"]["PolicyDocument"]
            for _, r in resources(template, "AWS::S3::BucketPolicy")
        }
        for logical_id, bucket in resources(template, "AWS::S3::Bucket"):
            props = bucket["Properties"]
            assert (
                all(props["PublicAccessBlockConfiguration"].values())
                if "PublicAccessBlockConfiguration" in props
                else logical_id == "ServerlessDeploymentBucket"
            )
            assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            deny = [s for s in policies[logical_id]["Statement"] if s["Effect"] == "Deny"]
            assert any(str(s["Condition"]["Bool"]["aws:SecureTransport"]).lower() == "false" for s in deny), logical_id
            if logical_id != "ServerlessDeploymentBucket":
                assert props["LifecycleConfiguration"]["Rules"]
                buckets[render(props["BucketName"])] = props
    names, account = StageResources(stage), "${AWS::AccountId}"
    assert set(buckets) == {names.media_bucket(account), names.work_bucket(account)}
    media = buckets[names.media_bucket(account)]
    assert media["VersioningConfiguration"] == {"Status": "Enabled"}
    [notification] = media["NotificationConfiguration"]["LambdaConfigurations"]
    assert notification["Event"] == "s3:ObjectCreated:*"
    assert notification["Filter"]["S3Key"]["Rules"] == [{"Name": "suffix", "Value": ".webm"}]
    assert getatt_target(notification["Function"]) == "UploadLandedLambdaFunction"

    tables = {
        render(r["Properties"]["TableName"]): r["Properties"]
        for service in SERVICES
        for _, r in resources(templates[stage][service], "AWS::DynamoDB::Table")
    }
    assert set(tables) == {names.answers_table, names.transcode_jobs_table, names.metadata_table}
    answers = tables[names.answers_table]
    assert answers["KeySchema"] == [{"AttributeName": "answer_id", "KeyType": "HASH"}]
    [gsi] = answers["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == "by_step" and gsi["Projection"] == {"ProjectionType": "ALL"}
    assert [k["AttributeName"] for k in gsi["KeySchema"]] == ["project_step", "user_key"]
    assert all(t["BillingMode"] == "PAY_PER_REQUEST" for t in tables.values())

    transcode = templates[stage]["transcode"]
    [(_topic_id, topic)] = [
        (i, r)
        for i, r in resources(transcode, "AWS::SNS::Topic")
        if r["Properties"]["TopicName"] == f"vidsense-{stage}-on-complete"
    ]
    key_id = getatt_target(topic["Properties"]["KmsMasterKeyId"])
    assert key_id is not None
    key_statements = transcode["Resources"][key_id]["Properties"]["KeyPolicy"]["Statement"]
    assert any(
        s["Principal"] == {"Service": "events.amazonaws.com"} and "kms:GenerateDataKey*" in s["Action"]
        for s in key_statements
    )
    for service in SERVICES:
        for _, t in resources(templates[stage][service], "AWS::SNS::Topic"):
            assert "KmsMasterKeyId" in t["Properties"]


@pytest.mark.parametrize("stage", PACKAGED_STAGES)
def test_rules_select_this_stage_and_the_right_events(templates: Templates, stage: str) -> None:
    patterns = {
        render(r["Properties"]["Name"]): (r["Properties"].get("EventBusName"), r["Properties"]["EventPattern"])
        for service in SERVICES
        for _, r in resources(templates[stage][service], "AWS::Events::Rule")
        if "EventPattern" in r["Properties"]  # schedules have none
    }
    names = StageResources(stage)
    rules_of = names.service_prefix  # a service's rule names start with it
    bus_ref = {"Ref": "EventBusName"}
    assert patterns == {
        f"{rules_of('ingest')}-project-answers": (
            {"Fn::GetAtt": ["EventBus", "Name"]},
            {"source": ["vidsense.transcode", "vidsense.nlp"]},
        ),
        f"{rules_of('transcode')}-start-transcode": (
            bus_ref,
            {"source": ["vidsense.ingest"], "detail-type": ["VideoUploaded"]},
        ),
        f"{rules_of('transcode')}-start-transcription": (
            bus_ref,
            {"source": ["vidsense.transcode"], "detail-type": ["TranscoderCompleted"]},
        ),
        f"{rules_of('nlp')}-analyze-sentiment": (
            bus_ref,
            {"source": ["vidsense.transcode"], "detail-type": ["TranscriptReady"]},
        ),
        # Erasure: every service but ingest (which publishes it) deletes its part.
        f"{rules_of('transcode')}-erase-answer": (
            bus_ref,
            {"source": ["vidsense.ingest"], "detail-type": ["AnswerDeleted"]},
        ),
        f"{rules_of('nlp')}-erase-answer": (
            bus_ref,
            {"source": ["vidsense.ingest"], "detail-type": ["AnswerDeleted"]},
        ),
        # Default bus (no EventBusName): AWS service events, filtered to this stage.
        f"{rules_of('transcode')}-mediaconvert-events": (
            None,
            {
                "source": ["aws.mediaconvert"],
                "detail-type": ["MediaConvert Job State Change"],
                "detail": {
                    "status": ["COMPLETE", "ERROR", "CANCELED"],
                    "userMetadata": {"app": ["vidsense"], "stage": [stage]},
                },
            },
        ),
        f"{rules_of('transcode')}-transcription-completed": (
            None,
            {
                "source": ["aws.transcribe"],
                "detail-type": ["Transcribe Job State Change"],
                "detail": {
                    "TranscriptionJobStatus": ["COMPLETED", "FAILED"],
                    "TranscriptionJobName": [{"prefix": f"vidsense.{stage}."}],
                },
            },
        ),
    }
    for service in ("transcode", "nlp"):
        assert templates[stage][service]["Parameters"]["EventBusName"]["AllowedValues"] == [names.bus]


@pytest.mark.parametrize("stage", PACKAGED_STAGES)
def test_transcribe_data_access_role_is_least_privilege_and_passed_to_transcribe_only(
    templates: Templates, stage: str
) -> None:
    template = templates[stage]["transcode"]
    role = template["Resources"]["TranscribeDataAccessRole"]["Properties"]
    assert role["RoleName"] == StageResources(stage).transcribe_data_access_role
    # Only Transcribe, acting for this account, assumes it
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert (trust["Effect"], trust["Principal"], trust["Action"]) == (
        "Allow",
        {"Service": "transcribe.amazonaws.com"},
        "sts:AssumeRole",
    )
    assert trust["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
    # It reads the stage's audio renditions and writes its transcripts, nothing else
    granted = {
        action: render(statement["Resource"])
        for logical_id, statement in policy_statements(template)
        if logical_id == "TranscribeDataAccessRole"
        for action in as_list(statement["Action"])
    }
    assert set(granted) == {"s3:GetObject", "s3:PutObject"}
    assert granted["s3:GetObject"].endswith(f"-work-${{AWS::AccountId}}/{stage}/audio/*")
    assert granted["s3:PutObject"].endswith(f"-work-${{AWS::AccountId}}/{stage}/transcripts/*")
    # startTranscription names it, may pass it to Transcribe only, and has no S3 access of its own
    _, props = functions(template)["startTranscription"]
    assert props["Environment"]["Variables"]["TRANSCRIBE_DATA_ACCESS_ROLE_ARN"] == {
        "Fn::GetAtt": ["TranscribeDataAccessRole", "Arn"]
    }
    own_role = getatt_target(props["Role"])
    statements = [s for rid, s in policy_statements(template) if rid == own_role]
    actions = {a for s in statements for a in as_list(s["Action"])}
    assert not {a for a in actions if a.startswith("s3:")}, actions
    (pass_role,) = [s for s in statements if "iam:PassRole" in as_list(s["Action"])]
    assert pass_role["Resource"] == {"Fn::GetAtt": ["TranscribeDataAccessRole", "Arn"]}
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "transcribe.amazonaws.com"}}


def _granted(template: dict[str, Any], function: str) -> dict[str, list[str]]:
    """Action -> rendered resources of a function's own role (logs, X-Ray and its failure queue left out)."""
    _, props = functions(template)[function]
    role = getatt_target(props["Role"])
    granted: dict[str, list[str]] = {}
    for logical_id, statement in policy_statements(template):
        if logical_id != role or statement["Effect"] != "Allow":
            continue
        for action in as_list(statement["Action"]):
            if action.split(":")[0] in ("logs", "xray", "sqs"):
                continue
            granted.setdefault(action, []).extend(render(r) for r in as_list(statement["Resource"]))
    return granted


@pytest.mark.parametrize("stage", PACKAGED_STAGES)
def test_erasure_roles_delete_only_the_answers_data(templates: Templates, stage: str) -> None:
    # transcode: versions under the stage's audio and transcript prefixes, its job items, Transcribe jobs
    transcode = _granted(templates[stage]["transcode"], "eraseAnswer")
    assert set(transcode) == {
        "s3:ListBucketVersions",
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
        "dynamodb:DeleteItem",
        "transcribe:DeleteTranscriptionJob",
        "transcribe:GetTranscriptionJob",
    }
    for action in ("s3:DeleteObject", "s3:DeleteObjectVersion"):
        assert sorted(r.rsplit("}", 1)[1] for r in transcode[action]) == [
            f"/{stage}/audio/*",
            f"/{stage}/transcripts/*",
        ]
    (listing,) = [
        s
        for _, s in policy_statements(templates[stage]["transcode"])
        if "s3:ListBucketVersions" in as_list(s["Action"])
    ]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": [f"{stage}/audio/*", f"{stage}/transcripts/*"]}}
    # nlp: the metadata item, nothing else
    nlp = _granted(templates[stage]["nlp"], "eraseAnswer")
    assert set(nlp) == {"dynamodb:DeleteItem"} and all("MetadataTable" in r for r in nlp["dynamodb:DeleteItem"])
    # ingest api: the video's versions and the answer item, and AnswerDeleted on the stage bus
    api = _granted(templates[stage]["ingest"], "api")
    assert {"s3:ListBucketVersions", "s3:DeleteObjectVersion", "dynamodb:DeleteItem", "events:PutEvents"} <= set(api)
    assert all(StageResources(stage).media_bucket("") in r for r in api["s3:DeleteObjectVersion"])


# --- sign-in (stage parameter `identity`) -----------------------------------------------------------------------
def _one(template: dict[str, Any], type_: str) -> tuple[str, dict[str, Any]]:
    found = list(resources(template, type_))
    assert len(found) == 1, f"{type_}: {[logical_id for logical_id, _ in found]}"
    return found[0][0], found[0][1]["Properties"]


@pytest.mark.parametrize("stage", PACKAGED_STAGES)
def test_by_default_the_stage_has_a_user_pool_and_the_api_trusts_it(templates: Templates, stage: str) -> None:
    # Given dev and prod packaged with no VIDSENSE_* variable (offline_sls_env drops them)
    ingest = templates[stage]["ingest"]
    pool_id, pool = _one(ingest, "AWS::Cognito::UserPool")
    _, group = _one(ingest, "AWS::Cognito::UserPoolGroup")
    client_id, client = _one(ingest, "AWS::Cognito::UserPoolClient")
    _, domain = _one(ingest, "AWS::Cognito::UserPoolDomain")
    _, style = _one(ingest, "AWS::Cognito::ManagedLoginBranding")
    # Then people sign in with a verified e-mail address and a password policy
    assert pool["UsernameAttributes"] == ["email"]
    assert pool["AutoVerifiedAttributes"] == ["email"]
    assert pool["UserAttributeUpdateSettings"]["AttributesRequireVerificationBeforeUpdate"] == ["email"]
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] >= 12
    assert pool["DeletionProtection"] == ("ACTIVE" if stage == "prod" else "INACTIVE")
    assert group == {**group, "UserPoolId": {"Ref": pool_id}, "GroupName": "reviewers"}
    # And the web client is public (no secret) with the code grant only (used with PKCE)
    assert client["UserPoolId"] == {"Ref": pool_id}
    assert client["GenerateSecret"] is False
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    assert client["AllowedOAuthFlows"] == ["code"]
    assert set(client["AllowedOAuthScopes"]) == {"openid", "email", "profile"}
    assert client["CallbackURLs"] and client["LogoutURLs"]
    for url in client["CallbackURLs"] + client["LogoutURLs"]:
        assert url.startswith(("https://", "http://localhost:")), url  # Cognito allows plain HTTP for localhost
    if stage == "prod":
        assert all(url.startswith("https://") for url in client["CallbackURLs"] + client["LogoutURLs"])
    # ... with short-lived tokens, and the admin password sign-in the smoke test uses
    units = client["TokenValidityUnits"]
    assert units["IdToken"] == units["AccessToken"] == "minutes"
    assert client["IdTokenValidity"] <= 60 and client["AccessTokenValidity"] <= 60
    assert (units["RefreshToken"], client["RefreshTokenValidity"]) in {("days", 1), ("hours", 12)}
    assert {"ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"} <= set(client["ExplicitAuthFlows"])
    # And managed login has a stage-scoped prefix that includes the account (prefixes are global) and a style
    assert domain["UserPoolId"] == {"Ref": pool_id}
    assert render(domain["Domain"]) == f"vidsense-{stage}-${{AWS::AccountId}}"
    assert domain["ManagedLoginVersion"] == 2
    assert style["ClientId"] == {"Ref": client_id} and style["UseCognitoProvidedValues"] is True
    # And the HTTP API's JWT authorizer takes the pool as issuer and the client as audience
    _, authorizer = _one(ingest, "AWS::ApiGatewayV2::Authorizer")
    issuer = authorizer["JwtConfiguration"]["Issuer"]
    assert issuer == {"Fn::Sub": f"https://cognito-idp.${{AWS::Region}}.amazonaws.com/${{{pool_id}}}"}
    assert authorizer["JwtConfiguration"]["Audience"] == [{"Ref": client_id}]
    # And the outputs name everything a person or the smoke test needs
    outputs = ingest["Outputs"]
    assert outputs["IdentityProvider"]["Value"] == "cognito"
    assert outputs["Issuer"]["Value"] == issuer
    assert outputs["UserPoolId"]["Value"] == {"Ref": pool_id}
    assert outputs["UserPoolClientId"]["Value"] == {"Ref": client_id}
    assert render(outputs["SignInDomain"]["Value"]).startswith("https://${UserPoolDomain}.auth.${AWS::Region}.")
    assert "HttpApiUrl" in outputs
    # And the choice was made when packaging: no condition or Fn::If about it is left
    assert '"UseCognito"' not in json.dumps(ingest)


@pytest.fixture(scope="module")
def external_ingest(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """ingest alone, stage dev, packaged with `identity: external` and a team's own provider (about 10 s)."""
    root = stage_deploy_tree(tmp_path_factory.mktemp("identity-external"))
    env = offline_sls_env(
        VIDSENSE_IDENTITY="external",
        VIDSENSE_JWT_ISSUER="https://login.example.org/tenant",
        VIDSENSE_JWT_AUDIENCE="team-client",
    )
    run_sls(["package", "--stage", "dev"], cwd=root / "services" / "ingest", env=env)
    template: dict[str, Any] = json.loads((root / "services" / "ingest" / ".serverless" / TEMPLATE).read_text())
    return template


def test_identity_external_packages_no_cognito_and_trusts_the_given_provider(external_ingest: dict[str, Any]) -> None:
    # Given ingest packaged with identity external
    # Then it holds no Cognito resource and no output about one
    assert not [logical_id for logical_id, r in resources(external_ingest) if r["Type"].startswith("AWS::Cognito::")]
    assert not {"UserPoolId", "UserPoolClientId", "SignInDomain"} & set(external_ingest["Outputs"])
    # And the authorizer trusts the issuer and audience it was given, as plain values
    _, authorizer = _one(external_ingest, "AWS::ApiGatewayV2::Authorizer")
    assert authorizer["JwtConfiguration"] == {"Audience": ["team-client"], "Issuer": "https://login.example.org/tenant"}
    assert external_ingest["Outputs"]["Issuer"]["Value"] == "https://login.example.org/tenant"
    assert external_ingest["Outputs"]["IdentityProvider"]["Value"] == "external"
    assert '"UseCognito"' not in json.dumps(external_ingest)


def test_an_unknown_identity_fails_the_packaging(tmp_path: Any) -> None:
    root = stage_deploy_tree(tmp_path / "identity-unknown")
    with pytest.raises(AssertionError, match="identity"):
        run_sls(
            ["package", "--stage", "dev"],
            cwd=root / "services" / "ingest",
            env=offline_sls_env(VIDSENSE_IDENTITY="okta"),
        )


def test_the_limit_per_person_is_a_stage_parameter_of_the_api_and_its_windows_expire(templates: Templates) -> None:
    # maxAnswersPerUserPerDay reaches the api function (prod keeps the default, dev allows testers more)
    limits = {
        stage: str(
            functions(templates[stage]["ingest"])["api"][1]["Environment"]["Variables"].get(
                "MAX_ANSWERS_PER_USER_PER_DAY"
            )
        )
        for stage in PACKAGED_STAGES
    }
    assert limits == {"dev": "200", "prod": "50"}
    # The recording windows live in the answers table, whose TTL attribute removes them a day after their last use
    for stage in PACKAGED_STAGES:
        [answers] = [
            r["Properties"]
            for _, r in resources(templates[stage]["ingest"], "AWS::DynamoDB::Table")
            if render(r["Properties"]["TableName"]) == StageResources(stage).answers_table
        ]
        assert answers["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_transcript_text_in_the_metadata_table_expires_with_the_transcript_objects(templates: Templates) -> None:
    retention = {}
    for stage in PACKAGED_STAGES:
        # The metadata table deletes an item after its expires_at...
        [(_, table)] = resources(templates[stage]["nlp"], "AWS::DynamoDB::Table")
        assert table["Properties"]["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
        # ...which analyzeSentiment sets this many days after the analysis...
        env = functions(templates[stage]["nlp"])["analyzeSentiment"][1]["Environment"]["Variables"]
        # ...the days after which the work bucket expires the transcript objects
        [work] = [
            r["Properties"]
            for _, r in resources(templates[stage]["transcode"], "AWS::S3::Bucket")
            if "-work-" in render(r["Properties"].get("BucketName", ""))
        ]
        [rule] = [r for r in work["LifecycleConfiguration"]["Rules"] if r["Id"] == "expire-transcripts"]
        assert rule["Prefix"] == f"{stage}/transcripts/"
        assert int(env["TRANSCRIPT_RETENTION_DAYS"]) == int(rule["ExpirationInDays"])
        retention[stage] = int(rule["ExpirationInDays"])
    assert retention["dev"] != retention["prod"]  # a stage parameter, not two constants that happen to agree
    # Both are the one stage parameter, so they cannot drift apart
    one = "${param:transcriptExpirationDays}"
    nlp = (REPO / "services" / "nlp" / "serverless.yml").read_text()
    transcode = (REPO / "services" / "transcode" / "serverless.yml").read_text()
    assert f"TRANSCRIPT_RETENTION_DAYS: {one}" in nlp
    expire_rule = transcode.split("- Id: expire-transcripts", 1)[1].split("- Id:", 1)[0]
    assert f"ExpirationInDays: {one}" in expire_rule


def test_the_web_client_may_read_retry_after_from_the_api(templates: Templates) -> None:
    # Given the packaged ingest API of each stage, Then its CORS lets a browser read Retry-After (409, 429)
    for stage in PACKAGED_STAGES:
        apis = [r["Properties"] for _, r in resources(templates[stage]["ingest"], "AWS::ApiGatewayV2::Api")]
        assert [api["CorsConfiguration"].get("ExposeHeaders") for api in apis] == [["Retry-After"]], stage
