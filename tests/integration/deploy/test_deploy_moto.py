"""`serverless deploy` of the stage (compose: the three services and the web site stack) into a local moto server:
stacks and their key resources exist."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.integration.deploy.conftest import run_sls
from tests.moto_state import reset_moto
from vidsense_bench.cost.inputs import offline_sls_env
from vidsense_local.deployer import LOCAL_MONITORING_FREQUENCY_MS, stage_deploy_tree
from vidsense_shared.resources import StageResources

# The stage `make deploy-local` deploys: only the local stage skips ValidateTemplate, which moto fails over
# cfn-lint warnings (deploy/plugins/vidsense-local-endpoint.js).
STAGE = "local"
ACCOUNT = "123456789012"  # moto's default account
NAMES = StageResources(STAGE)  # the one module that names a stage's resources
P = NAMES.prefix


def _rule(service: str, name: str) -> str:
    """An EventBridge rule of ``service``: its names start with the service's prefix (``failurePaths.namePrefix``)."""
    return f"{NAMES.service_prefix(service)}-{name}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    reset_moto()
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        root = stage_deploy_tree(tmp_path_factory.mktemp("deploy-moto"))
        # Through compose, as `make deploy-local` does: ingest (the bus) first, then transcode, nlp and web. moto's
        # CloudFormation creates no Cognito resources: sign-in by an external provider whatever the stage (the
        # templates test checks the user pool).
        output = run_sls(
            ["deploy", "--stage", STAGE],
            cwd=root,
            # Polling the stacks as often as make up does (moto completes a change within its request).
            env=offline_sls_env(
                AWS_ENDPOINT_URL=endpoint,
                VIDSENSE_IDENTITY="external",
                SLS_AWS_MONITORING_FREQUENCY=LOCAL_MONITORING_FREQUENCY_MS,
            ),
        )
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        )
        yield {
            "root": root,
            "output": output,
            "client": lambda name: session.client(name, endpoint_url=endpoint),  # type: ignore[no-any-return]
        }
    finally:
        server.stop()
        reset_moto()


def test_three_stacks_complete(deployed: dict[str, Any]) -> None:
    cfn = deployed["client"]("cloudformation")
    for service in ("ingest", "transcode", "nlp"):
        [stack] = cfn.describe_stacks(StackName=NAMES.stack(service))["Stacks"]
        # The Framework creates a bare stack, then updates it with the template.
        assert stack["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE")


def test_the_local_stage_deploys_without_change_sets(deployed: dict[str, Any]) -> None:
    # The stage parameter deploymentMethod: moto's change sets are not worth trusting (dev and prod use them).
    for service in ("ingest", "transcode", "nlp"):
        state = json.loads(
            (deployed["root"] / "services" / service / ".serverless" / "serverless-state.json").read_text()
        )
        assert state["service"]["provider"]["deploymentMethod"] == "direct", service


def test_bus_archive_and_rules_with_their_patterns(deployed: dict[str, Any]) -> None:
    events = deployed["client"]("events")
    bus = events.describe_event_bus(Name=NAMES.bus)
    assert bus["Name"] == NAMES.bus
    archive = events.describe_archive(ArchiveName=NAMES.archive)
    assert archive["EventSourceArn"] == bus["Arn"]
    assert archive["RetentionDays"] == 1  # the `local` stage parameter
    assert json.loads(archive["EventPattern"]) == {"source": [{"prefix": "vidsense."}]}

    # The archive's own managed rule (Events-Archive-...) lives on the bus too.
    on_bus = {
        r["Name"]: r
        for r in events.list_rules(EventBusName=NAMES.bus)["Rules"]
        if not r["Name"].startswith("Events-Archive-")
    }
    assert set(on_bus) == {
        _rule("ingest", "project-answers"),
        _rule("transcode", "start-transcode"),
        _rule("transcode", "start-transcription"),
        _rule("nlp", "analyze-sentiment"),
        _rule("transcode", "erase-answer"),
        _rule("nlp", "erase-answer"),
    }
    assert json.loads(on_bus[_rule("nlp", "analyze-sentiment")]["EventPattern"]) == {
        "source": ["vidsense.transcode"],
        "detail-type": ["TranscriptReady"],
    }
    on_default = {r["Name"]: r for r in events.list_rules(NamePrefix=P)["Rules"]}
    assert {_rule("transcode", "mediaconvert-events"), _rule("transcode", "transcription-completed")} <= set(on_default)
    transcribe = json.loads(on_default[_rule("transcode", "transcription-completed")]["EventPattern"])
    assert transcribe["detail"]["TranscriptionJobName"] == [{"prefix": f"vidsense.{STAGE}."}]
    mediaconvert = json.loads(on_default[_rule("transcode", "mediaconvert-events")]["EventPattern"])
    assert mediaconvert["detail"]["userMetadata"] == {"app": ["vidsense"], "stage": [STAGE]}

    lambda_names = {}
    for name in on_bus:
        [target] = events.list_targets_by_rule(Rule=name, EventBusName=NAMES.bus)["Targets"]
        assert target["DeadLetterConfig"]["Arn"].startswith(f"arn:aws:sqs:us-east-1:{ACCOUNT}:{P}-")
        assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
        lambda_names[name] = target["Arn"].rsplit(":", 1)[1]
    assert lambda_names[_rule("nlp", "analyze-sentiment")] == NAMES.function("nlp", "analyzeSentiment")
    [topic_target] = events.list_targets_by_rule(Rule=_rule("transcode", "mediaconvert-events"))["Targets"]
    assert topic_target["Arn"] == f"arn:aws:sns:us-east-1:{ACCOUNT}:{P}-on-complete"


def test_tables_buckets_queues_and_topics(deployed: dict[str, Any]) -> None:
    dynamodb = deployed["client"]("dynamodb")
    answers = dynamodb.describe_table(TableName=NAMES.answers_table)["Table"]
    assert [i["IndexName"] for i in answers["GlobalSecondaryIndexes"]] == ["by_step"]
    for name in (NAMES.transcode_jobs_table, NAMES.metadata_table):
        assert dynamodb.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE"
    s3 = deployed["client"]("s3")
    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert {NAMES.media_bucket(ACCOUNT), NAMES.work_bucket(ACCOUNT)} <= buckets
    encryption = s3.get_bucket_encryption(Bucket=NAMES.media_bucket(ACCOUNT))
    assert encryption["ServerSideEncryptionConfiguration"]["Rules"][0]["ApplyServerSideEncryptionByDefault"]
    queues = deployed["client"]("sqs").list_queues(QueueNamePrefix=P)["QueueUrls"]
    # Two per asynchronous consumer (delivery DLQ, on-failure queue) + the MediaConvert rule's DLQ.
    assert len(queues) >= 15 and len(queues) % 2 == 1
    topics = {t["TopicArn"].rsplit(":", 1)[1] for t in deployed["client"]("sns").list_topics()["Topics"]}
    assert {f"{P}-on-complete", f"{P}-alerts-ingest", f"{P}-alerts-transcode", f"{P}-alerts-nlp"} <= topics


def test_functions_with_their_environment(deployed: dict[str, Any]) -> None:
    lam = deployed["client"]("lambda")
    configs = {
        f["FunctionName"]: f
        for f in lam.list_functions()["Functions"]
        if f["FunctionName"].endswith(
            tuple(
                f"-{STAGE}-{n}"
                for n in (
                    "api",
                    "uploadLanded",
                    "projectAnswers",
                    "startTranscode",
                    "relayTranscoderEvents",
                    "startTranscription",
                    "transcriptionCompleted",
                    "analyzeSentiment",
                )
            )
        )
    }
    assert len(configs) == 8
    for config in configs.values():
        assert config["Runtime"] == "python3.12"  # moto ignores Architectures (templates test it)
        assert config["Environment"]["Variables"]["STAGE"] == STAGE
    api = configs[NAMES.function("ingest", "api")]
    assert api["Handler"] == "ingest.handlers.api.handler"
    env = {name.rsplit("-", 1)[1]: c["Environment"]["Variables"] for name, c in configs.items()}
    assert env["api"]["MEDIA_BUCKET"] == NAMES.media_bucket(ACCOUNT)
    assert env["api"]["ANSWERS_TABLE"] == NAMES.answers_table
    assert env["api"]["USER_KEY_PARAMETER"] == NAMES.user_key_parameter
    assert env["uploadLanded"]["EVENT_BUS_NAME"] == NAMES.bus
    assert env["startTranscode"]["WORK_BUCKET"] == NAMES.work_bucket(ACCOUNT)
    assert env["startTranscode"]["JOBS_TABLE"] == NAMES.transcode_jobs_table
    assert env["startTranscode"]["MEDIACONVERT_ROLE_ARN"] == f"arn:aws:iam::{ACCOUNT}:role/{NAMES.mediaconvert_role}"
    assert (
        env["startTranscription"]["TRANSCRIBE_DATA_ACCESS_ROLE_ARN"]
        == f"arn:aws:iam::{ACCOUNT}:role/{NAMES.transcribe_data_access_role}"
    )
    assert env["analyzeSentiment"] == {
        "STAGE": STAGE,
        "POWERTOOLS_SERVICE_NAME": "nlp",
        "POWERTOOLS_METRICS_NAMESPACE": "vidsense",
        "LOG_LEVEL": "DEBUG",
        "METADATA_TABLE": NAMES.metadata_table,
        "EVENT_BUS_NAME": NAMES.bus,
        # The local stage's transcriptExpirationDays: the items' TTL and the transcripts' lifecycle alike.
        "TRANSCRIPT_RETENTION_DAYS": "1",
    }


def test_the_web_site_stack_deploys_as_far_as_moto_goes(deployed: dict[str, Any]) -> None:
    # moto's CloudFormation creates no CloudFront resource (distribution, origin access control, function, response
    # headers policy, whose CSP imports ingest's HttpApiUrl export: no export either, moto skips the HTTP API) nor
    # the bucket policy: what it creates is the stage's site bucket (test_web_site.py checks the rest, resolved).
    cfn = deployed["client"]("cloudformation")
    [stack] = cfn.describe_stacks(StackName=NAMES.site_stack)["Stacks"]
    assert stack["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs["SiteBucketName"] == f"{P}-web-{ACCOUNT}"
    s3 = deployed["client"]("s3")
    encryption = s3.get_bucket_encryption(Bucket=outputs["SiteBucketName"])
    assert encryption["ServerSideEncryptionConfiguration"]["Rules"][0]["ApplyServerSideEncryptionByDefault"]
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=outputs["SiteBucketName"])["TagSet"]}
    assert tags["vidsense:stage"] == STAGE
